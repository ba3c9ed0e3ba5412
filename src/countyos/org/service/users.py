"""Users: accounts, personal data kept encrypted, roles granted by the security administrator."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import FieldCipher, mask_phone
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import PageParams, fetch_page
from countyos.core.settings import get_settings
from countyos.org.models import Role, User, UserSession, role_permission, user_role
from countyos.org.service import audit, departments, passwords, roles

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{2,39}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")


def cipher() -> FieldCipher:
    return FieldCipher(get_settings().secret_key.get_secret_value())


@dataclass(frozen=True)
class UserFilter:
    q: str | None = None
    department_id: int | None = None
    role: str | None = None
    active: bool | None = None
    machine: bool | None = None


def get(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User %(id)s does not exist", id=user_id)
    return user


def get_by_username(session: Session, *, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def query(f: UserFilter) -> Select[User]:
    stmt = select(User).order_by(User.username)
    if f.q:
        stmt = stmt.where(or_(User.username.contains(f.q.lower()), User.display_name.contains(f.q)))
    if f.department_id:
        stmt = stmt.where(User.department_id == f.department_id)
    if f.role:
        stmt = stmt.where(User.id.in_(select(user_role.c.user_id).join(Role).where(Role.code == f.role)))
    if f.active is not None:
        stmt = stmt.where(User.is_active == f.active)
    if f.machine is not None:
        stmt = stmt.where(User.is_machine == f.machine)
    return stmt


def list_users(session: Session, f: UserFilter, page: PageParams) -> tuple[list[User], int]:
    return fetch_page(session, query(f), page)


@dataclass(frozen=True)
class PersonName:
    """What a picker needs of a colleague: who, by name — no roles, status or contact."""

    id: int
    display_name: str


def names_of_holders(
    session: Session, *, permission: str, department_id: int | None = None, limit: int = 500
) -> list[PersonName]:
    """Active people (not machine accounts) holding an operational ``permission``: the names a picker
    shows (choose a handler, an inspector). Administration permissions are not asked about."""
    if roles.family_of(permission) != "ops" or permission not in roles.known_permissions():
        raise ValidationFailed(
            "People can be chosen by an operational permission only: %(code)s",
            code=permission,
            errors=[{"field": "permission", "message": "not an operational permission"}],
        )
    holding = (
        select(user_role.c.user_id)
        .join(role_permission, role_permission.c.role_id == user_role.c.role_id)
        .where(role_permission.c.permission_code == permission)
    )
    stmt = (
        select(User.id, User.display_name)
        .where(User.is_active.is_(True), User.is_machine.is_(False), User.id.in_(holding))
        .order_by(User.display_name, User.id)
        .limit(limit)
    )
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    return [PersonName(id=row.id, display_name=row.display_name) for row in session.execute(stmt)]


@dataclass(frozen=True)
class Colleague:
    """Who acted, as people read it on a timeline or in the audit log: name and department."""

    id: int
    display_name: str
    department_id: int | None


def colleagues(session: Session, *, user_ids: Iterable[int | None]) -> dict[int, Colleague]:
    """The names (and departments) of these users, by id; unknown ids are left out."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name, User.department_id).where(User.id.in_(ids)))
    return {r.id: Colleague(id=r.id, display_name=r.display_name, department_id=r.department_id) for r in rows}


def holders_of_role(session: Session, *, role_id: int) -> list[User]:
    return list(session.scalars(select(User).join(user_role).where(user_role.c.role_id == role_id)))


def find_by_phone(session: Session, *, phone: str) -> list[User]:
    return list(session.scalars(select(User).where(User.phone_index == cipher().blind_index(phone))))


def masked_phone(user: User) -> str:
    return mask_phone(cipher().decrypt(user.phone_enc)) if user.phone_enc else ""


def reveal_phone(session: Session, *, actor: Actor, user_id: int) -> str:
    """The unmasked phone for a permitted role; every view is audited."""
    if not actor.can("user.pii"):
        raise PermissionDenied("Only permitted roles may see unmasked phone numbers")
    user = get(session, user_id=user_id)
    audit.record(
        session, actor=actor, action="user.pii_view", target_type="user", target_id=user.id, detail={"field": "phone"}
    )
    return cipher().decrypt(user.phone_enc) if user.phone_enc else ""


def _set_phone(user: User, phone: str | None) -> None:
    phone = (phone or "").strip() or None
    if phone and not PHONE_RE.match(phone):
        raise ValidationFailed(
            "The phone number %(phone)s is not valid",
            phone=mask_phone(phone),
            errors=[{"field": "phone", "message": N_("Enter a mobile number or a landline number with its area code")}],
        )
    user.phone_enc = cipher().encrypt(phone) if phone else None
    user.phone_index = cipher().blind_index(phone) if phone else None


def create(
    session: Session,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    department_id: int | None = None,
    phone: str | None = None,
    locale: str = "zh_CN",
    is_machine: bool = False,
    must_change_password: bool = True,
) -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "User names are 3–40 characters: lower-case letters, digits, '_', '.', '-', starting with a letter",
            errors=[{"field": "username", "message": "invalid"}],
        )
    if not display_name.strip():
        raise ValidationFailed(
            "Please give the person's name", errors=[{"field": "display_name", "message": "required"}]
        )
    if get_by_username(session, username=username) is not None:
        raise Conflict("The user name %(username)s is taken", username=username)
    passwords.check_policy(password, username=username)
    if department_id is not None:
        departments.get(session, department_id=department_id)
    user = User(
        username=username,
        display_name=display_name.strip(),
        department_id=department_id,
        password_hash=passwords.hash_password(password),
        password_changed_at=utcnow(),
        must_change_password=must_change_password and not is_machine,
        is_machine=is_machine,
        locale=locale,
        failed_logins=0,
        failed_mfa=0,
        recovery_codes=[],
    )
    _set_phone(user, phone)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        detail={"username": username, "department_id": department_id, "machine": is_machine},
    )
    return user


def create_by_phone(
    session: Session, *, actor: Actor, phone: str, display_name: str, role_codes: list[str], locale: str = "zh_CN"
) -> User:
    """An account that signs in with a one-time code sent to ``phone`` (a resident's): no password yet
    (``password_hash`` empty, so password sign-in fails until the person sets one), a random user name
    (the phone number is never a user name: user names are shown and logged, phones are encrypted)."""
    user = User(
        username=f"r{secrets.token_hex(8)}",
        display_name=display_name.strip()[:60],
        password_hash=None,
        password_changed_at=None,
        must_change_password=False,
        is_machine=False,
        locale=locale,
        failed_logins=0,
        failed_mfa=0,
        recovery_codes=[],
        roles=list(session.scalars(select(Role).where(Role.code.in_(role_codes)))),
    )
    _set_phone(user, phone)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "by": "phone_code", "roles": sorted(role_codes)},
    )
    return user


def forget(session: Session, *, actor: Actor, user: User, name: str) -> None:
    """Erase a person's own details from their account at their request: the name becomes ``name``,
    the phone and password go, the account is closed and its sessions end. The row stays, so the
    records that name it (the audit log, kept by law) still point at an account."""
    user.display_name = name[:60]
    _set_phone(user, None)
    user.password_hash = None
    user.totp_secret_enc = None
    user.totp_enabled = False
    user.recovery_codes = []
    user.is_active = False
    session.flush()
    audit.record(session, actor=actor, action="user.forget", target_type="user", target_id=user.id)


def update(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    display_name: str | None = None,
    department_id: int | None = None,
    phone: str | None = None,
    clear_department: bool = False,
) -> User:
    user = get(session, user_id=user_id)
    diff: dict[str, object] = {}
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        diff["display_name"] = {"from": user.display_name, "to": display_name.strip()}
        user.display_name = display_name.strip()
    if clear_department or (department_id is not None and department_id != user.department_id):
        if department_id is not None:
            departments.get(session, department_id=department_id)
        diff["department_id"] = {"from": user.department_id, "to": department_id}
        user.department_id = department_id
    if phone is not None:
        _set_phone(user, phone)
        diff["phone"] = "changed"
    session.flush()
    if diff:
        audit.record(session, actor=actor, action="user.update", target_type="user", target_id=user.id, detail=diff)
    return user


def check_authority_over(actor: Actor, user: User) -> None:
    """三权分立 also for credentials: an administrator may not reset the password or second factor,
    disable, or issue tokens for an account holding administrator permissions of a family the
    administrator does not hold (else the system administrator could become the auditor). The
    console (``countyos`` commands, no account) may."""
    if actor.id is None or actor.id == user.id:
        return
    foreign = roles.admin_families(user.permission_codes) - roles.admin_families(actor.permissions)
    if foreign:
        raise PermissionDenied()


def set_active(session: Session, *, actor: Actor, user_id: int, active: bool) -> User:
    user = get(session, user_id=user_id)
    check_authority_over(actor, user)
    if actor.id == user.id and not active:
        raise ValidationFailed("You cannot disable your own account")
    user.is_active = active
    session.flush()
    audit.record(
        session, actor=actor, action="user.enable" if active else "user.disable", target_type="user", target_id=user.id
    )
    return user


def check_may_unlock(actor: Actor, user: User) -> None:
    """Unlocking lifts the lockout that stops password or code guessing. The system administrator
    unlocks ordinary accounts and its own family's; an account holding another family's administration
    only the security administrator unlocks (else the system administrator could keep guessing the
    auditor's password). Nobody unlocks themselves (a locked person's token still works); the console
    may."""
    if actor.id is None:
        return
    if actor.id == user.id or not actor.can("user.unlock"):
        raise PermissionDenied()
    if "security" not in roles.admin_families(actor.permissions):
        check_authority_over(actor, user)


def unlock(session: Session, *, actor: Actor, user_id: int) -> User:
    user = get(session, user_id=user_id)
    check_may_unlock(actor, user)
    user.locked_until = None
    user.failed_logins = 0
    user.failed_mfa = 0
    session.flush()
    audit.record(session, actor=actor, action="user.unlock", target_type="user", target_id=user.id)
    return user


def reset_password(session: Session, *, actor: Actor, user_id: int, new_password: str) -> User:
    """An administrator sets a temporary password; the user must change it at next login."""
    user = get(session, user_id=user_id)
    check_authority_over(actor, user)
    passwords.check_policy(new_password, username=user.username)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = not user.is_machine
    user.failed_logins = 0
    user.failed_mfa = 0
    user.locked_until = None
    # whoever holds a session of the account (perhaps the reason for the reset) is signed out
    session.execute(
        sql_update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    session.flush()
    audit.record(session, actor=actor, action="user.password_reset", target_type="user", target_id=user.id)
    return user


def set_roles(session: Session, *, actor: Actor, user_id: int, role_codes: list[str]) -> User:
    user = get(session, user_id=user_id)
    wanted = list(session.scalars(select(Role).where(Role.code.in_(role_codes))))
    unknown = sorted(set(role_codes) - {r.code for r in wanted})
    if unknown:
        raise ValidationFailed("Unknown roles: %(codes)s", codes=", ".join(unknown))
    if actor.id == user.id:
        raise ValidationFailed("You cannot change your own roles")
    roles.check_role_set(wanted)
    before = sorted(user.role_codes)
    user.roles = wanted
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.roles",
        target_type="user",
        target_id=user.id,
        detail={"before": before, "after": sorted(role_codes)},
    )
    return user


@dataclass(frozen=True)
class AccountStats:
    active: int
    disabled: int
    locked: int
    machines: int
    without_mfa_admins: int


def account_stats(session: Session, *, mfa_roles: list[str]) -> AccountStats:
    """Counts for the system administrator's overview."""
    from sqlalchemy import func

    now = utcnow()
    active = session.scalar(select(func.count()).select_from(User).where(User.is_active.is_(True))) or 0
    disabled = session.scalar(select(func.count()).select_from(User).where(User.is_active.is_(False))) or 0
    locked = session.scalar(select(func.count()).select_from(User).where(User.locked_until > now)) or 0
    machines = session.scalar(select(func.count()).select_from(User).where(User.is_machine.is_(True))) or 0
    no_mfa = (
        session.scalar(
            select(func.count(func.distinct(User.id)))
            .select_from(User)
            .join(user_role)
            .join(Role)
            .where(Role.code.in_(mfa_roles), User.totp_enabled.is_(False), User.is_active.is_(True))
        )
        or 0
    )
    return AccountStats(active, disabled, locked, machines, no_mfa)
