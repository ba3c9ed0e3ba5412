"""Named, scoped, revocable bearer tokens (``Authorization: Bearer cos_…``).

A token acts as a machine account (issued by whoever holds ``token.manage``) or as the person who
issued it for themselves on their account page. Nobody issues a token acting as another person: it
would let them act as that person unseen. The person sees every token acting as them on their account
page, and is told at sign-in of one they did not make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import new_token, token_hash
from countyos.core.db import UTCDateTime
from countyos.core.errors import NotFound, PermissionDenied, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.core.signals import Signal
from countyos.org.models import ApiToken, Role, User, role_permission, user_role
from countyos.org.service import audit, users

TOKEN_PREFIX = "cos_"

# Sent by the request's caller resolution right after a bearer token resolves (``session``, ``token_id``):
# a receiver may refuse the request by raising (a partner key's daily quota, ``programme.receivers``).
TOKEN_USED = Signal("org.token_used")


def create(
    session: Session, *, actor: Actor, name: str, user_id: int, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; the plain value is returned once and only its hash is stored."""
    user = users.get(session, user_id=user_id)
    check_may_issue(actor, user)
    users.check_authority_over(actor, user)  # a token never carries administrator powers its issuer lacks
    if not name.strip():
        raise ValidationFailed("Please name the token after the system that will use it")
    if not scopes:
        raise ValidationFailed("A token needs at least one scope")
    outside = sorted(set(scopes) - user.permission_codes)
    if outside:
        raise ValidationFailed(
            "The account %(user)s does not hold these permissions: %(codes)s",
            user=user.username,
            codes=", ".join(outside),
        )
    prefix = new_token(6)[:8]
    plain = f"{TOKEN_PREFIX}{prefix}_{new_token(32)}"
    tok = ApiToken(
        name=name.strip(),
        prefix=prefix,
        token_hash=token_hash(plain),
        user_id=user.id,
        scopes=sorted(set(scopes)),
        created_by_id=actor.id,
        expires_at=expires_at,
    )
    session.add(tok)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        target_type="api_token",
        target_id=tok.id,
        detail={
            "name": tok.name,
            "user": user.username,
            "user_id": user.id,
            "scopes": tok.scopes,
            "own": actor.id == user.id,
        },
    )
    return tok, plain


def check_may_issue(actor: Actor, user: User) -> None:
    """Tokens act as machine accounts, or as the person who issues one for themselves in a browser
    session. A token never issues tokens for its own account (it could widen its own scopes). The
    server console (no account) may issue any."""
    if actor.id is None:
        return
    if actor.id == user.id:
        if actor.via_token:
            raise PermissionDenied("A token cannot issue tokens for its own account")
        return
    if not user.is_machine:
        raise PermissionDenied(
            "API tokens act as machine accounts; a person issues their own tokens on their account page"
        )


def resolve(session: Session, *, plain: str) -> ApiToken | None:
    if not plain.startswith(TOKEN_PREFIX):
        return None
    tok = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(plain)))
    now = utcnow()
    if tok is None or tok.revoked_at is not None or (tok.expires_at and tok.expires_at <= now):
        return None
    if not tok.user.is_active:
        return None
    return tok


def refusal_reason(session: Session, *, plain: str) -> tuple[str, int | None]:
    """Why :func:`resolve` refused ``plain``, for the audit log: the reason and the token's id when one
    matches (``malformed``, ``unknown``, ``revoked``, ``expired``, ``account_disabled``)."""
    if not plain.startswith(TOKEN_PREFIX):
        return "malformed", None
    tok = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(plain)))
    if tok is None:
        return "unknown", None
    if tok.revoked_at is not None:
        return "revoked", tok.id
    if tok.expires_at and tok.expires_at <= utcnow():
        return "expired", tok.id
    return "account_disabled", tok.id


def mark_used(session: Session, *, used: Mapping[int, datetime]) -> None:
    """Move each token's ``last_used_at`` forward to the time given (never back): the best-effort touch
    written off the request path (``web/sidewrites.py``); not audited, like a use."""
    table, at = ApiToken.metadata.tables[ApiToken.__tablename__], bindparam("at", type_=UTCDateTime())
    stmt = (
        update(table)
        .where(table.c.id == bindparam("tid"), or_(table.c.last_used_at.is_(None), table.c.last_used_at < at))
        .values(last_used_at=at)
    )
    session.execute(stmt, [{"tid": tid, "at": when} for tid, when in sorted(used.items())])


def effective_permissions(tok: ApiToken) -> frozenset[str]:
    return frozenset(set(tok.scopes) & tok.user.permission_codes)


@dataclass(frozen=True)
class TokenIdentity:
    """What a request needs of a valid token: who acts, with which permissions."""

    token_id: int
    name: str
    prefix: str
    user_id: int
    username: str
    department_id: int | None
    permissions: frozenset[str]
    expires_at: datetime | None

    def actor(self, ip: str | None) -> Actor:
        return Actor(
            id=self.user_id,
            name=self.username,
            ip=ip,
            permissions=self.permissions,
            department_id=self.department_id,
            via_token=True,
        )


# Tokens, their users and the users' roles: a write in this process takes effect at once, a write in
# another process (revocation, a disabled account) within IDENTITY_TTL_S seconds.
IDENTITY_TTL_S = 5.0
_IDENTITIES: HotCache[TokenIdentity | None] = HotCache(
    "api tokens",
    tables=(ApiToken.__tablename__, User.__tablename__, Role.__tablename__, user_role.name, role_permission.name),
    ttl=IDENTITY_TTL_S,
)


def identify(session: Session, *, plain: str) -> TokenIdentity | None:
    """:func:`resolve` for hot paths (Open311 posting): the token's identity from a short-lived cache."""
    if not plain.startswith(TOKEN_PREFIX):
        return None

    def load() -> TokenIdentity | None:
        tok = resolve(session, plain=plain)
        if tok is None:
            return None
        return TokenIdentity(
            token_id=tok.id,
            name=tok.name,
            prefix=tok.prefix,
            user_id=tok.user.id,
            username=tok.user.username,
            department_id=tok.user.department_id,
            permissions=effective_permissions(tok),
            expires_at=tok.expires_at,
        )

    ident = _IDENTITIES.get(session, token_hash(plain), load)
    if ident is None or (ident.expires_at is not None and ident.expires_at <= utcnow()):
        return None
    return ident


def list_tokens(session: Session, *, user_id: int | None = None, live: bool = False) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    if live:
        now = utcnow()
        stmt = stmt.where(ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
    return list(session.scalars(stmt))


def made_by_others(session: Session, *, user_id: int) -> list[ApiToken]:
    """Live tokens acting as this account that someone else issued (an administrator before tokens
    were kept to machine accounts, or the server console): the person is shown them."""
    return [
        t
        for t in list_tokens(session, user_id=user_id, live=True)
        if t.created_by_id is None or t.created_by_id != user_id
    ]


def revoke(session: Session, *, actor: Actor, token_id: int, own_only: bool = False) -> ApiToken:
    """Revoke a token; with ``own_only`` (a person on their account page) only one acting as them."""
    tok = session.get(ApiToken, token_id)
    if tok is None or (own_only and tok.user_id != actor.id):
        raise NotFound("Token %(id)s does not exist", id=token_id)
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="token.revoke",
            target_type="api_token",
            target_id=tok.id,
            detail={"name": tok.name, "user_id": tok.user_id},
        )
    return tok
