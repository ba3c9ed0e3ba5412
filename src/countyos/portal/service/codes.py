"""One-time sign-in codes sent by SMS: issued under rate limits, expiring, each usable once.

Only keyed hashes are kept: of the phone (the same blind index as the account's) and of the code (SM3
HMAC under a key derived from the server's secret, bound to the phone). A code dies when it is used,
when it expires, when a newer code is sent to the same phone, or after ``max_attempts`` wrong tries.
The limits are data (:class:`CodeRules`): how often a phone may be sent a code, and how many codes one
address may ask for, counted from the table itself so that they hold across server processes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from countyos.core.crypto import constant_time_equals, derive_key, sm3_hmac
from countyos.core.errors import RateLimited
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import users
from countyos.portal.models import CodePurpose, OneTimeCode


@dataclass(frozen=True)
class CodeRules:
    length: int = 6
    valid_for: timedelta = timedelta(minutes=5)
    max_attempts: int = 5  # wrong tries before the code dies
    gap: timedelta = timedelta(seconds=60)  # between two codes to one phone
    per_phone_hour: int = 5
    per_phone_day: int = 10
    per_address_hour: int = 30  # one address asking for many phones' codes


RULES = CodeRules()


class CodeFailure(StrEnum):
    WRONG = "wrong"
    EXPIRED = "expired"  # expired, used, replaced by a newer one, or never sent
    EXHAUSTED = "exhausted"  # too many wrong tries


FAILURE_MESSAGES = {
    CodeFailure.WRONG: N_("The code is not right; check the text message and type it again"),
    CodeFailure.EXPIRED: N_("The code has expired or was already used; ask for a new one"),
    CodeFailure.EXHAUSTED: N_("The code was typed wrong too many times; ask for a new one"),
}


def phone_index(phone: str) -> str:
    return users.cipher().blind_index(phone)


def _hash(index: str, code: str) -> str:
    key = derive_key(get_settings().secret_key.get_secret_value(), "portal-otp")
    return sm3_hmac(key, f"{index}:{code}".encode())


def _count(session: Session, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(OneTimeCode).where(*where)) or 0  # type: ignore[arg-type]


def check_limits(session: Session, *, index: str, ip: str | None, now: datetime, rules: CodeRules = RULES) -> None:
    """Raise :class:`RateLimited` (with the seconds to wait) when another code may not be sent yet."""
    last = session.scalar(select(func.max(OneTimeCode.created_at)).where(OneTimeCode.phone_index == index))
    if last is not None and now - last < rules.gap:
        wait = int((rules.gap - (now - last)).total_seconds()) + 1
        raise RateLimited(
            "A code was sent a moment ago; you can ask for another in %(s)s seconds", s=wait, retry_after=wait
        )
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    if _count(session, OneTimeCode.phone_index == index, OneTimeCode.created_at > hour) >= rules.per_phone_hour:
        raise RateLimited("Too many codes were sent to this number in the last hour; try again later", retry_after=3600)
    if _count(session, OneTimeCode.phone_index == index, OneTimeCode.created_at > day) >= rules.per_phone_day:
        raise RateLimited("Too many codes were sent to this number today; try again tomorrow", retry_after=86400)
    if ip and _count(session, OneTimeCode.ip == ip, OneTimeCode.created_at > hour) >= rules.per_address_hour:
        raise RateLimited("Too many codes were asked for from this address; try again later", retry_after=3600)


def issue(
    session: Session, *, phone: str, ip: str | None, now: datetime, rules: CodeRules = RULES
) -> tuple[str, OneTimeCode]:
    """A new code for ``phone`` (the older ones die). Returns the code in clear, to be sent, never kept."""
    index = phone_index(phone)
    check_limits(session, index=index, ip=ip, now=now, rules=rules)
    session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.phone_index == index, OneTimeCode.used_at.is_(None))
        .values(expires_at=now),
        execution_options={"synchronize_session": False},
    )
    code = "".join(secrets.choice("0123456789") for _ in range(rules.length))
    row = OneTimeCode(
        phone_index=index,
        purpose=CodePurpose.SIGN_IN,
        code_hash=_hash(index, code),
        ip=(ip or "")[:45] or None,
        created_at=now,
        expires_at=now + rules.valid_for,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return code, row


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    failure: CodeFailure | None = None

    @property
    def message(self) -> str | None:
        return FAILURE_MESSAGES[self.failure] if self.failure else None


def peek(session: Session, *, phone: str, code: str, now: datetime, rules: CodeRules = RULES) -> CodeCheck:
    """Whether ``code`` is the phone's live code, without using it or counting a try."""
    row = _live(session, index=phone_index(phone), now=now)
    if row is None:
        return CodeCheck(False, CodeFailure.EXPIRED)
    if row.attempts >= rules.max_attempts:
        return CodeCheck(False, CodeFailure.EXHAUSTED)
    if not constant_time_equals(row.code_hash, _hash(row.phone_index, code)):
        return CodeCheck(False, CodeFailure.WRONG)
    return CodeCheck(True)


def use(session: Session, *, phone: str, code: str, now: datetime, rules: CodeRules = RULES) -> CodeCheck:
    """Check ``code`` and use it up when right; a wrong one counts a try (the caller commits either way)."""
    index = phone_index(phone)
    row = _live(session, index=index, now=now)
    if row is None:
        return CodeCheck(False, CodeFailure.EXPIRED)
    if row.attempts >= rules.max_attempts:
        return CodeCheck(False, CodeFailure.EXHAUSTED)
    if not constant_time_equals(row.code_hash, _hash(index, code)):
        tries = session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == row.id)
            .values(attempts=OneTimeCode.attempts + 1)
            .returning(OneTimeCode.attempts),
            execution_options={"synchronize_session": False},
        ).scalar_one()
        return CodeCheck(False, CodeFailure.EXHAUSTED if tries >= rules.max_attempts else CodeFailure.WRONG)
    # used once: the UPDATE only succeeds for the first of two requests racing with the same code
    used = session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
        .returning(OneTimeCode.id),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    if used is None:
        return CodeCheck(False, CodeFailure.EXPIRED)
    return CodeCheck(True)


def _live(session: Session, *, index: str, now: datetime) -> OneTimeCode | None:
    return session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone_index == index, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
    )


def purge(session: Session, *, before: datetime) -> int:
    """Delete codes created before ``before`` (a daily job keeps a day for the rate limits)."""
    result = session.execute(delete(OneTimeCode).where(OneTimeCode.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
