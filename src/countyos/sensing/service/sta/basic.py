"""HTTP Basic of machine accounts (what SensorThings clients send), checked like a sign-in.

A wrong password counts toward the same account lockout as the login form and is audited; a
locked, disabled, human or unknown account gets the same answer after the same work (a password
hash is checked against a dummy), so neither user names nor account states can be told by timing.

Argon2 takes tens of milliseconds, too long for every request of a device that sends a reading each
second, so a correct check is remembered for ``CACHE_TTL_S``. The memory is keyed by the account's
current password hash, read with the account whenever the full check runs: a password change ends
it, and a lock, a disable or a role change is read from the account, never from the memory. The
password itself is kept only as an HMAC under a key that lives in this process.

What a request needs of its caller (the account, its roles and permissions; for an API token also
the token's scopes and expiry) is kept in :data:`PRINCIPALS` and :data:`TOKEN_PRINCIPALS`, hot caches
over the account, role (and token) tables keyed by the user name and the password's HMAC (Basic) or
the token's hash (Bearer), so a device that writes every second costs no query to be known. Only
accepted credentials are kept; a refusal always takes the full path (lockout, audit). A write to
those tables in this process — a changed password, a lock, a disabled account, a role change, a
revoked token — empties the cache at once (the next request is checked from the database), a write in
another process within ``PRINCIPAL_TTL_S`` seconds (as API tokens everywhere,
``org.service.tokens.identify``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import token_hash
from countyos.core.hotcache import HotCache
from countyos.org.models import ApiToken, AuditResult, Role, User, role_permission, user_role
from countyos.org.service import audit, passwords, tokens, users
from countyos.org.service import auth as org_auth

CACHE_TTL_S = 300.0
CACHE_MAX = 10_000
FAILED_ACTION = "auth.basic_failed"

_KEY = secrets.token_bytes(32)
_cache: dict[tuple[int, str, bytes], float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    user: User | None  # the account when the credentials are right
    known: User | None = None  # the account named, right or wrong (for the failure count)
    reason: str = ""  # why not: unknown_user, not_machine, disabled, locked, bad_password
    hashed: bool = False  # the password was checked against the account's hash in this request


def _key(user: User, password: str) -> tuple[int, str, bytes]:
    digest = hmac.new(_KEY, password.encode(), hashlib.sha256).digest()
    return (user.id, user.password_hash or "", digest)


def remembered(user: User, password: str) -> bool:
    """True when this password was checked right for the account's current password hash lately."""
    return _cache.get(_key(user, password), 0.0) > time.monotonic()


def _remember(user: User, password: str) -> None:
    with _lock:
        if len(_cache) >= CACHE_MAX:
            now = time.monotonic()
            for k in [k for k, until in _cache.items() if until <= now]:
                del _cache[k]
            if len(_cache) >= CACHE_MAX:
                _cache.clear()
        _cache[_key(user, password)] = time.monotonic() + CACHE_TTL_S


def forget_all() -> None:
    with _lock:
        _cache.clear()


def usable(user: User | None) -> str:
    """Why this account cannot use Basic now ("" when it can)."""
    if user is None:
        return "unknown_user"
    if not user.is_machine:
        return "not_machine"
    if not user.is_active:
        return "disabled"
    if user.locked_until and user.locked_until > utcnow():
        return "locked"
    return ""


def check(session: Session, *, username: str, password: str) -> Outcome:
    """The machine account these credentials name, or why not (constant work for every refusal)."""
    user = users.get_by_username(session, username=username)
    reason = usable(user)
    if reason:
        passwords.equalise_timing(password)
        return Outcome(None, user, reason)
    assert user is not None
    if remembered(user, password):
        return Outcome(user, user)
    if not passwords.verify_password(user.password_hash, password):
        return Outcome(None, user, "bad_password")
    _remember(user, password)
    return Outcome(user, user, hashed=True)


def record_failure(session: Session, *, outcome: Outcome, username: str, ip: str | None) -> None:
    """Audit a refused Basic attempt; a wrong password of a machine account counts toward its lockout."""
    known = session.get(User, outcome.known.id) if outcome.known is not None else None
    actor = Actor(id=known.id if known else None, name=(known.username if known else username)[:60], ip=ip)
    locked = False
    if known is not None and outcome.reason == "bad_password":
        locked = org_auth.count_failure(session, user=known, actor=actor, factor="basic")
    audit.record(
        session,
        actor=actor,
        action=FAILED_ACTION,
        target_type="user" if known else None,
        target_id=known.id if known else None,
        result=AuditResult.FAILURE,
        detail={"reason": "bad_password_locked" if locked else outcome.reason},
    )


def record_success(session: Session, *, user_id: int) -> None:
    """A right password ends the count of wrong ones (as a sign-in does)."""
    user = session.get(User, user_id)
    if user is not None and user.failed_logins:
        user.failed_logins = 0
        session.flush()


# --- accepted credentials, kept ----------------------------------------------------------------------

PRINCIPAL_TTL_S = 5.0


@dataclass(frozen=True)
class Principal:
    """An accepted caller: the account (detached, its roles and their permissions loaded), and for a
    token the permissions it carries, its id and expiry."""

    user: User
    permissions: frozenset[str]
    token_id: int | None = None
    expires_at: datetime | None = None

    def actor(self, ip: str | None) -> Actor:
        return org_auth.actor_for(self.user, ip, via_token=self.token_id is not None, permissions=self.permissions)


class Refused(Exception):
    """Credentials that were not accepted (never kept): ``outcome`` says why (Basic)."""

    def __init__(self, outcome: Outcome | None = None) -> None:
        super().__init__(outcome.reason if outcome else "refused")
        self.outcome = outcome


_ACCOUNT_TABLES = (User.__tablename__, Role.__tablename__, user_role.name, role_permission.name)
PRINCIPALS: HotCache[Principal] = HotCache("sensorthings callers", tables=_ACCOUNT_TABLES, ttl=PRINCIPAL_TTL_S)
# Tokens apart: a token's last use is written (at most once a minute) and empties only this one.
TOKEN_PRINCIPALS: HotCache[Principal] = HotCache(
    "sensorthings tokens", tables=(*_ACCOUNT_TABLES, ApiToken.__tablename__), ttl=PRINCIPAL_TTL_S
)


def _loaded(user: User) -> User:
    """Load what the request reads of the account before its session closes (it is shared after)."""
    _ = user.role_codes, user.permission_codes, user.locale
    return user


class NotKept(Exception):
    """The caller is not in the cache (asked with :func:`not_kept` as the check)."""


def not_kept() -> Outcome:
    raise NotKept


def basic_principal(session: Session, *, username: str, password: str, check_fn: Callable[[], Outcome]) -> Principal:
    """The kept caller of these Basic credentials, or ``check_fn()`` (the full check) to find it; a
    :class:`Refused` carries a refusal's outcome. With :func:`not_kept` as the check: only a kept
    caller, else :class:`NotKept` (no query: what the event loop may ask)."""
    digest = hmac.new(_KEY, password.encode(), hashlib.sha256).digest()

    def load() -> Principal:
        outcome = check_fn()
        if outcome.user is None:
            raise Refused(outcome)
        user = _loaded(outcome.user)
        return Principal(user, frozenset(user.permission_codes))

    return PRINCIPALS.get(session, ("basic", username.strip().lower(), digest), load)


def bearer_principal(session: Session, *, plain: str, kept_only: bool = False) -> Principal:
    """The kept caller of an API token (:class:`Refused` when it is unknown, revoked, expired or its
    account disabled: the request then takes the full path, which audits the refusal). With
    ``kept_only``: :class:`NotKept` instead of a query."""

    def load() -> Principal:
        if kept_only:
            raise NotKept
        tok = tokens.resolve(session, plain=plain)
        if tok is None:
            raise Refused()
        return Principal(_loaded(tok.user), tokens.effective_permissions(tok), tok.id, tok.expires_at)

    if not plain.startswith(tokens.TOKEN_PREFIX):
        raise Refused()
    found = TOKEN_PRINCIPALS.get(session, token_hash(plain), load)
    if found.expires_at is not None and found.expires_at <= utcnow():
        raise Refused()
    return found
