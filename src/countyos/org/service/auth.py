"""Login, lockout and cookie sessions (等保 2.0 level 3 身份鉴别).

A login returns an outcome instead of raising, so that the caller commits the failure count and the
audit record of a failed attempt together with everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import new_token, token_hash
from countyos.core.db import UTCDateTime
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.models import AuditResult, SessionStage, User, UserSession
from countyos.org.service import audit, passwords, users


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    user: User | None = None
    session: UserSession | None = None
    token: str | None = None
    error: str | None = None  # message id


def actor_for(
    user: User, ip: str | None, *, via_token: bool = False, permissions: frozenset[str] | None = None
) -> Actor:
    return Actor(
        id=user.id,
        name=user.username,
        ip=ip,
        permissions=permissions if permissions is not None else frozenset(user.permission_codes),
        department_id=user.department_id,
        via_token=via_token,
    )


def mfa_required(user: User) -> bool:
    return user.totp_enabled or bool(user.role_codes & set(get_settings().mfa_required_roles))


def next_stage(user: User, *, mfa_done: bool) -> SessionStage:
    if user.totp_enabled and not mfa_done:
        return SessionStage.MFA_VERIFY
    if user.must_change_password or passwords.is_expired(user):
        return SessionStage.CHANGE_PASSWORD
    if mfa_required(user) and not user.totp_enabled:
        return SessionStage.MFA_ENROL
    return SessionStage.FULL


GENERIC_FAILURE = N_("The user name or password is wrong, or the account is locked or disabled")


def _refuse(session: Session, *, actor: Actor, user: User | None, reason: str) -> LoginOutcome:
    audit.record(
        session,
        actor=actor,
        action="auth.login",
        target_type="user" if user else None,
        target_id=user.id if user else None,
        result=AuditResult.FAILURE,
        detail={"reason": reason},
    )
    return LoginOutcome(ok=False, error=GENERIC_FAILURE)


def count_failure(session: Session, *, user: User, actor: Actor, factor: str) -> bool:
    """Count a wrong password (``factor="password"``) or second-factor code (``"totp"``); lock the
    account at the threshold. Returns True when this failure locked the account.

    The two are counted apart. A right password resets the password count only, so knowing the
    password does not buy fresh code guesses. The second-factor count is reset only by a right code
    (or an administrator's unlock or reset): once it has reached the threshold, each further wrong
    code after a lock ends locks the account again at once. Counting is one ``UPDATE … RETURNING``,
    so concurrent wrong attempts are all counted.
    """
    s = get_settings()
    column = User.failed_mfa if factor == "totp" else User.failed_logins
    count = session.execute(
        update(User).where(User.id == user.id).values({column: column + 1}).returning(column),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(user, column.key, count)
    if count < s.lockout_threshold:
        return False
    if factor != "totp":
        user.failed_logins = 0
    user.locked_until = utcnow() + timedelta(minutes=s.lockout_minutes)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="auth.lockout",
        target_type="user",
        target_id=user.id,
        result=AuditResult.FAILURE,
        detail={"minutes": s.lockout_minutes, "factor": factor, "failures": count},
    )
    return True


def login(
    session: Session, *, username: str, password: str, ip: str | None, user_agent: str | None = None
) -> LoginOutcome:
    user = users.get_by_username(session, username=username)
    if user is None or user.is_machine:
        passwords.equalise_timing(password)
        return _refuse(session, actor=Actor(id=None, name=username[:60], ip=ip), user=None, reason="unknown_user")
    actor = Actor(id=user.id, name=user.username, ip=ip)
    if not user.is_active:
        return _refuse(session, actor=actor, user=user, reason="disabled")
    if user.locked_until and user.locked_until > utcnow():
        return _refuse(session, actor=actor, user=user, reason="locked")
    if not passwords.verify_password(user.password_hash, password):
        locked = count_failure(session, user=user, actor=actor, factor="password")
        return _refuse(session, actor=actor, user=user, reason="bad_password_locked" if locked else "bad_password")
    user.failed_logins = 0
    user.locked_until = None
    if passwords.hasher().check_needs_rehash(user.password_hash or ""):
        user.password_hash = passwords.hash_password(password)
    stage = next_stage(user, mfa_done=False)
    token, us = _open_session(session, user, stage, ip, user_agent)
    if stage == SessionStage.FULL:
        user.last_login_at = utcnow()
    audit.record(
        session, actor=actor, action="auth.login", target_type="user", target_id=user.id, detail={"stage": str(stage)}
    )
    return LoginOutcome(ok=True, user=user, session=us, token=token)


def _open_session(
    session: Session, user: User, stage: SessionStage, ip: str | None, user_agent: str | None
) -> tuple[str, UserSession]:
    token = new_token()
    us = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        stage=stage,
        csrf_token=new_token(24),
        ip=ip,
        user_agent=(user_agent or "")[:300],
        created_at=utcnow(),
        last_seen_at=utcnow(),
    )
    session.add(us)
    session.flush()
    return token, us


def open_session_by_code(
    session: Session, *, user: User, ip: str | None, user_agent: str | None, method: str
) -> tuple[str, UserSession]:
    """A session for a person who proved another way than a password that the account is theirs (a
    one-time code sent to the account's phone, ``method`` names it). The password's own stages
    (changing it, its age) do not apply; a second factor still does."""
    user.failed_logins = 0
    user.locked_until = None
    if user.totp_enabled:
        stage = SessionStage.MFA_VERIFY
    elif mfa_required(user):
        stage = SessionStage.MFA_ENROL
    else:
        stage = SessionStage.FULL
    token, us = _open_session(session, user, stage, ip, user_agent)
    user.last_login_at = utcnow()
    audit.record(
        session,
        actor=Actor(id=user.id, name=user.username, ip=ip),
        action="auth.login",
        target_type="user",
        target_id=user.id,
        detail={"stage": str(stage), "method": method},
    )
    return token, us


def resolve_session(session: Session, *, token: str) -> UserSession | None:
    """The live session for a cookie value, or None when unknown, ended, idle too long or too old."""
    us = find_session(session, token=token)
    if us is None or not session_is_live(us, last_seen_at=us.last_seen_at):
        return None
    return us


def find_session(session: Session, *, token: str) -> UserSession | None:
    """The session row of a cookie value, live or not (see :func:`session_is_live`)."""
    return session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))


def session_is_live(us: UserSession, *, last_seen_at: datetime) -> bool:
    """Not ended, not idle since ``last_seen_at`` (the row's, or a later visit not written yet), not
    too old, and its account active and not locked."""
    if us.ended_at is not None:
        return False
    s = get_settings()
    now = utcnow()
    if now - last_seen_at > timedelta(minutes=s.session_idle_minutes):
        return False
    if now - us.created_at > timedelta(hours=s.session_absolute_hours):
        return False
    return us.user.is_active and not (us.user.locked_until and us.user.locked_until > now)


def get_session(session: Session, *, session_id: int) -> UserSession:
    """The session row in this unit of work (never merge the request's detached copy: it is stale)."""
    return session.get_one(UserSession, session_id)


def touch_session(session: Session, *, session_id: int) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=utcnow()))


def mark_sessions_seen(session: Session, *, seen: Mapping[int, datetime]) -> None:
    """Move each session's ``last_seen_at`` forward to the time given (never back): the best-effort
    touch written off the request path (``web/sidewrites.py``); not audited, like a visit."""
    table, at = UserSession.metadata.tables[UserSession.__tablename__], bindparam("at", type_=UTCDateTime())
    stmt = update(table).where(table.c.id == bindparam("sid"), table.c.last_seen_at < at).values(last_seen_at=at)
    session.execute(stmt, [{"sid": sid, "at": when} for sid, when in sorted(seen.items())])


def advance(session: Session, *, user_session: UserSession, mfa_done: bool) -> SessionStage:
    user = user_session.user
    stage = next_stage(user, mfa_done=mfa_done)
    user_session.stage = stage
    if stage == SessionStage.FULL:
        user.last_login_at = utcnow()
    session.flush()
    return stage


def rotate(session: Session, *, user_session: UserSession) -> str:
    """A new session id after a privilege change (prevents session fixation)."""
    token = new_token()
    user_session.token_hash = token_hash(token)
    user_session.csrf_token = new_token(24)
    session.flush()
    return token


def logout(session: Session, *, user_session: UserSession, actor: Actor) -> None:
    user_session.ended_at = utcnow()
    audit.record(session, actor=actor, action="auth.logout", target_type="user", target_id=user_session.user_id)


def end_all_sessions(session: Session, *, user_id: int, except_id: int | None = None) -> None:
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if except_id is not None:
        stmt = stmt.where(UserSession.id != except_id)
    session.execute(stmt.values(ended_at=utcnow()))


def change_password(session: Session, *, actor: Actor, user: User, current: str, new: str) -> None:
    """Change one's own password. A wrong current password counts like a wrong password at sign-in,
    so a borrowed session cannot be used to find the password; at the threshold the account locks
    and every session of it ends (check ``user.locked_until`` after the error)."""
    if not passwords.verify_password(user.password_hash, current):
        if count_failure(session, user=user, actor=actor, factor="password"):
            end_all_sessions(session, user_id=user.id)
        audit.record(
            session,
            actor=actor,
            action="auth.password_change",
            target_type="user",
            target_id=user.id,
            result=AuditResult.FAILURE,
            detail={"reason": "wrong_current"},
        )
        raise ValidationFailed("The current password is wrong", errors=[{"field": "current", "message": "wrong"}])
    user.failed_logins = 0
    if current == new:
        raise ValidationFailed(
            "The new password must differ from the current one", errors=[{"field": "new", "message": "same as current"}]
        )
    passwords.check_policy(new, username=user.username)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    session.flush()
    audit.record(session, actor=actor, action="auth.password_change", target_type="user", target_id=user.id)


def second_factor_passed(session: Session, *, user: User) -> None:
    """A right code ends the run of wrong ones."""
    user.failed_mfa = 0
    session.flush()


def second_factor_failed(session: Session, *, user: User, user_session: UserSession, actor: Actor) -> bool:
    """Count a wrong second-factor code (apart from wrong passwords); True when the account is now
    locked, and the session that guessed is ended."""
    locked = count_failure(session, user=user, actor=actor, factor="totp")
    if locked:
        user_session.ended_at = utcnow()
        session.flush()
    return locked
