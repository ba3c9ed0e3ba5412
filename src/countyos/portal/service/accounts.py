"""Residents' accounts: sign-in and sign-up by a code sent to the phone, an optional password,
consents, and the real-name level recorded at a window.

A phone number is a resident's account: the first sign-in with a right code creates it (the resident
agrees to the privacy rules then, recorded as a ``Consent`` with the rules' version), later ones open
a session on it. Reports made before, with the same phone and no account, become the resident's then
(``cases.service.reporters.link_by_phone``): the code has proven the phone is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.service import reporters
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import mask_phone
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.models import Role, User, UserSession, user_role
from countyos.org.service import audit, auth, passwords, users
from countyos.portal.models import Consent, ConsentPurpose, MessageKind, RealNameLevel, Resident
from countyos.portal.service import codes, messages
from countyos.portal.service.codes import CodeCheck, CodeFailure
from countyos.services.models import IdType

RESIDENT_ROLE = "resident"
PRIVACY_VERSION = "2026-12"  # the version of the privacy rules (个人信息处理规则) shown at sign-up
# What a consent can be given for, and whether it may be withdrawn while the account lives.
WITHDRAWABLE = frozenset({ConsentPurpose.LOCATION, ConsentPurpose.MESSAGES})
WELCOME = (
    N_("Welcome"),
    N_(
        "Your account is open. Under Me you find your applications, the problems you reported, your "
        "messages and what you follow; you can also set a password there."
    ),
)


def new_resident_name(phone: str) -> str:
    """The name a new account carries until the resident gives theirs: the masked phone."""
    return mask_phone(phone)


def find_resident(session: Session, *, phone: str) -> User | None:
    """The resident account of a phone number (staff accounts with the same phone are not it)."""
    return session.scalar(
        select(User)
        .join(user_role, user_role.c.user_id == User.id)
        .join(Role, Role.id == user_role.c.role_id)
        .where(User.phone_index == codes.phone_index(phone), Role.code == RESIDENT_ROLE, User.is_active.is_(True))
        .order_by(User.id)
        .limit(1)
    )


def resident_of(session: Session, *, user_id: int, create: bool = False) -> Resident:
    """The resident side of an account. An account made otherwise (by an administrator, before the
    portal) has none yet: it reads as unverified since the account was made, and a write that needs the
    row (``create``) adds it."""
    row = session.scalar(select(Resident).where(Resident.user_id == user_id))
    if row is not None:
        return row
    user = users.get(session, user_id=user_id)
    row = Resident(user_id=user_id, level=RealNameLevel.UNVERIFIED, signed_up_at=user.created_at)
    if create:
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True)
class SignIn:
    ok: bool
    failure: CodeFailure | None = None
    needs_agreement: bool = False
    token: str | None = None
    user_session: UserSession | None = None
    user: User | None = None
    created: bool = False
    linked_reports: int = 0

    @property
    def message(self) -> str | None:
        if self.needs_agreement:
            return N_("To open an account, agree to the rules on personal information")
        return CodeCheck(False, self.failure).message if self.failure else None


def sign_in_by_code(
    session: Session, *, phone: str, code: str, agree: bool, ip: str | None, user_agent: str | None
) -> SignIn:
    """Sign in (or up) with a code. A wrong code counts a try: the caller commits whatever comes back."""
    now = utcnow()
    user = find_resident(session, phone=phone)
    if user is None and not agree:
        # the code is checked (not used) first, so only the phone's owner learns there is no account
        peeked = codes.peek(session, phone=phone, code=code, now=now)
        if not peeked.ok:
            return _failed(session, phone=phone, code=code, now=now, ip=ip)
        return SignIn(False, needs_agreement=True)
    check = codes.use(session, phone=phone, code=code, now=now)
    if not check.ok:
        _record_failure(session, phone=phone, ip=ip, failure=check.failure)
        return SignIn(False, failure=check.failure)
    created, linked = False, 0
    if user is None:
        user = _sign_up(session, phone=phone, ip=ip, now=now)
        created = True
    linked = reporters.link_by_phone(
        session, actor=Actor(id=user.id, name=user.username, ip=ip), user_id=user.id, phone_index=user.phone_index or ""
    )
    token, us = auth.open_session_by_code(session, user=user, ip=ip, user_agent=user_agent, method="sms_code")
    return SignIn(True, token=token, user_session=us, user=user, created=created, linked_reports=linked)


def _failed(session: Session, *, phone: str, code: str, now: datetime, ip: str | None) -> SignIn:
    check = codes.use(session, phone=phone, code=code, now=now)  # counts the wrong try
    _record_failure(session, phone=phone, ip=ip, failure=check.failure)
    return SignIn(False, failure=check.failure)


def _record_failure(session: Session, *, phone: str, ip: str | None, failure: CodeFailure | None) -> None:
    from countyos.org.models import AuditResult

    audit.record(
        session,
        actor=Actor(id=None, name="resident", ip=ip),
        action="auth.code_refused",
        target_type="phone",
        target_id=mask_phone(phone),
        result=AuditResult.FAILURE,
        detail={"reason": str(failure)},
    )


def _sign_up(session: Session, *, phone: str, ip: str | None, now: datetime) -> User:
    actor = Actor(id=None, name="resident", ip=ip)
    user = users.create_by_phone(
        session, actor=actor, phone=phone, display_name=new_resident_name(phone), role_codes=[RESIDENT_ROLE]
    )
    me = Actor(id=user.id, name=user.username, ip=ip)
    session.add(Resident(user_id=user.id, level=RealNameLevel.UNVERIFIED, signed_up_at=now))
    session.add(Consent(user_id=user.id, purpose=ConsentPurpose.PRIVACY, version=PRIVACY_VERSION, granted_at=now))
    session.flush()
    audit.record(
        session,
        actor=me,
        action="portal.sign_up",
        target_type="user",
        target_id=user.id,
        detail={"consent": str(ConsentPurpose.PRIVACY), "version": PRIVACY_VERSION},
    )
    messages.deliver(
        session,
        user_ids=[user.id],
        kind=MessageKind.ACCOUNT,
        key="welcome",
        title=WELCOME[0],
        body=WELCOME[1],
        link="/portal/me",
        extra={"translate": True},
    )
    return user


# -- profile, password ---------------------------------------------------------------------------


def set_name(session: Session, *, actor: Actor, user_id: int, name: str) -> User:
    name = name.strip()
    if not name:
        raise ValidationFailed(
            "Please give your name", errors=[{"field": "name", "message": N_("Please give your name")}]
        )
    user = users.get(session, user_id=user_id)
    user.display_name = name[:60]
    session.flush()
    audit.record(session, actor=actor, action="portal.profile", target_type="user", target_id=user_id)
    return user


def set_password(session: Session, *, actor: Actor, user_id: int, password: str, current: str | None) -> None:
    """Set (or change) the optional password; changing one needs the current password."""
    user = users.get(session, user_id=user_id)
    if user.password_hash and not passwords.verify_password(user.password_hash, current or ""):
        raise ValidationFailed(
            "The current password is wrong",
            errors=[{"field": "current", "message": N_("The current password is wrong")}],
        )
    passwords.check_policy(password, username=user.username)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    session.flush()
    audit.record(session, actor=actor, action="portal.password", target_type="user", target_id=user_id)


# -- consents ------------------------------------------------------------------------------------


def consents(session: Session, *, user_id: int) -> list[Consent]:
    return list(
        session.scalars(select(Consent).where(Consent.user_id == user_id).order_by(Consent.granted_at, Consent.id))
    )


def has_consent(session: Session, *, user_id: int, purpose: ConsentPurpose) -> bool:
    return (
        session.scalar(
            select(Consent.id).where(
                Consent.user_id == user_id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None)
            )
        )
        is not None
    )


def give_consent(session: Session, *, actor: Actor, user_id: int, purpose: ConsentPurpose, version: str) -> Consent:
    if purpose not in WITHDRAWABLE:
        raise ValidationFailed("This consent is given when the account is opened")
    if has_consent(session, user_id=user_id, purpose=purpose):
        return next(c for c in consents(session, user_id=user_id) if c.purpose == purpose and c.withdrawn_at is None)
    row = Consent(user_id=user_id, purpose=purpose, version=version, granted_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.consent",
        target_type="user",
        target_id=user_id,
        detail={"purpose": str(purpose), "version": version, "given": True},
    )
    return row


def withdraw_consent(session: Session, *, actor: Actor, user_id: int, purpose: ConsentPurpose) -> int:
    """Withdraw a consent that may be withdrawn (the privacy rules go only with the account)."""
    if purpose not in WITHDRAWABLE:
        raise ValidationFailed("Consent to the privacy rules ends only when you delete your account")
    now = utcnow()
    rows = [c for c in consents(session, user_id=user_id) if c.purpose == purpose and c.withdrawn_at is None]
    for c in rows:
        c.withdrawn_at = now
    session.flush()
    if rows:
        audit.record(
            session,
            actor=actor,
            action="portal.consent",
            target_type="user",
            target_id=user_id,
            detail={"purpose": str(purpose), "given": False},
        )
    return len(rows)


# -- real name, at a window ---------------------------------------------------------------------


def verify_real_name(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    name: str,
    document: IdType,
    number: str,
    place: str,
) -> Resident:
    """A window clerk has seen the resident's identity document: the account's name becomes the one
    on it and the level ``verified``. Only the document's kind and its last four characters are kept."""
    from countyos.core.idnumbers import resident_id_ok

    number = number.strip().upper()
    problems = []
    if not name.strip():
        problems.append({"field": "name", "message": N_("Give the name on the document")})
    if document == IdType.RESIDENT_ID and not resident_id_ok(number):
        problems.append({"field": "number", "message": N_("This is not a valid resident identity card number")})
    elif len(number) < 4:
        problems.append({"field": "number", "message": N_("Give the document's number")})
    if problems:
        raise ValidationFailed("The input is not valid", errors=problems)
    row = resident_of(session, user_id=user_id, create=True)
    if row.deleted_at is not None:
        raise NotFound("No resident account")
    user = users.get(session, user_id=user_id)
    user.display_name = name.strip()[:60]
    row.level = RealNameLevel.VERIFIED
    row.verified_at = utcnow()
    row.verified_by_id = actor.id
    row.verified_document = str(document)
    row.verified_tail = number[-4:]
    row.verified_place = place.strip()[:100] or None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.real_name",
        target_type="user",
        target_id=user_id,
        detail={"document": str(document), "tail": row.verified_tail, "place": row.verified_place},
    )
    messages.deliver(
        session,
        user_ids=[user_id],
        kind=MessageKind.ACCOUNT,
        key=f"real-name:{row.verified_at.isoformat()}",
        title=N_("Your real name is verified"),
        body=N_("A service window has checked your identity document; your account now carries your real name."),
        link="/portal/me/data",
        extra={"translate": True},
    )
    return row
