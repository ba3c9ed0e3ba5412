"""TOTP second factor (RFC 6238) with one-time recovery codes; codes cannot be replayed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

import pyotp
import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import derive_key, sm3_hmac
from countyos.core.errors import ValidationFailed
from countyos.core.settings import get_settings
from countyos.org.models import AuditResult, User
from countyos.org.service import audit
from countyos.org.service.users import check_authority_over, cipher

ISSUER = "CountyOS"
RECOVERY_CODES = 10


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def begin_enrolment(session: Session, *, user: User) -> Enrolment:
    """Store a new pending secret (not yet enabled) and return what the authenticator app needs."""
    secret = pyotp.random_base32()
    user.totp_secret_enc = cipher().encrypt(secret)
    user.totp_enabled = False
    session.flush()
    return enrolment_for(user)


def enrolment_for(user: User) -> Enrolment:
    if not user.totp_secret_enc:
        raise ValidationFailed("Start the enrolment first")
    secret = cipher().decrypt(user.totp_secret_enc)
    issuer = f"{ISSUER} {get_settings().county_name}"
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1f2937")
    return Enrolment(secret=secret, uri=uri, qr_svg=svg)


def _matching_step(secret: str, code: str) -> int | None:
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for offset in (0, -1, 1):
        at = now.timestamp() + offset * totp.interval
        if secrets.compare_digest(totp.at(at), code):
            return int(at // totp.interval)
    return None


def _normalise(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


@lru_cache(maxsize=4)
def _recovery_key(secret: str) -> bytes:
    return derive_key(secret, "mfa-recovery")


def _hash_code(code: str) -> str:
    """Recovery codes have 32 bits: stored keyed (HMAC-SM3), a copy of the database does not reveal them."""
    return sm3_hmac(_recovery_key(get_settings().secret_key.get_secret_value()), _normalise(code).encode())


def _legacy_hash(code: str) -> str:
    """How codes issued before keyed storage were kept; still accepted until used or renewed."""
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def confirm_enrolment(session: Session, *, actor: Actor, user: User, code: str) -> list[str]:
    """Enable TOTP when the first code checks out; returns fresh recovery codes (shown once)."""
    secret = cipher().decrypt(user.totp_secret_enc) if user.totp_secret_enc else None
    step = _matching_step(secret, code) if secret else None
    if step is None:
        audit.record(
            session, actor=actor, action="mfa.enrol", target_type="user", target_id=user.id, result=AuditResult.FAILURE
        )
        raise ValidationFailed(
            "The code is not right; check the time on your phone and try again",
            errors=[{"field": "code", "message": "invalid"}],
        )
    user.totp_enabled = True
    user.totp_last_step = step
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    user.recovery_codes = [_hash_code(c) for c in codes]
    session.flush()
    audit.record(session, actor=actor, action="mfa.enrol", target_type="user", target_id=user.id)
    return codes


def verify(session: Session, *, actor: Actor, user: User, code: str) -> bool:
    """Check a TOTP code (once per time step) or consume a recovery code.

    The account row is locked first (PostgreSQL), so two requests sending the same code or the same
    recovery code at once cannot both succeed."""
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    session.refresh(user)  # what the lock holder before us wrote (the step used, the codes left)
    ok = False
    method = "totp"
    if user.totp_enabled and user.totp_secret_enc:
        step = _matching_step(cipher().decrypt(user.totp_secret_enc), code)
        if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
            user.totp_last_step = step
            ok = True
        if not ok:
            stored = user.recovery_codes or []
            h = next((h for h in (_hash_code(code), _legacy_hash(code)) if h in stored), None)
            if h is not None:
                user.recovery_codes = [c for c in stored if c != h]
                ok, method = True, "recovery_code"
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="mfa.verify",
        target_type="user",
        target_id=user.id,
        result=AuditResult.SUCCESS if ok else AuditResult.FAILURE,
        detail={"method": method},
    )
    return ok


def disable(session: Session, *, actor: Actor, user: User) -> None:
    """An administrator resets a lost authenticator; the user enrols again at next login."""
    check_authority_over(actor, user)
    user.totp_enabled = False
    user.totp_secret_enc = None
    user.totp_last_step = None
    user.recovery_codes = []
    user.failed_mfa = 0
    session.flush()
    audit.record(session, actor=actor, action="mfa.reset", target_type="user", target_id=user.id)
