"""Request dependencies: database sessions, who is calling, and what a route requires.

Every route declares exactly one requirement — ``Depends(public)``, ``Depends(authenticated)`` or
``Depends(require("perm.code"))`` — and the role × route matrix test fails for a route without one.
Cookie sessions must send the CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field) on
every unsafe request; bearer tokens need none. A check that refuses leaves a :class:`Refusal` on
``request.state.refusal``; the error handler records it in the audit log (``web/refusals.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import constant_time_equals
from countyos.core.db import Database
from countyos.core.errors import NotAuthenticated, PermissionDenied
from countyos.org.models import AuditResult, SessionStage, User, UserSession
from countyos.org.service import auth, tokens
from countyos.web import sidewrites
from countyos.web.refusals import Refusal

SESSION_COOKIE = "countyos_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOUCH_EVERY = timedelta(seconds=60)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def read_session(request: Request) -> Iterator[Session]:
    with get_db(request).reading() as s:
        yield s


def write_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back if it raises."""
    with get_db(request).unit_of_work() as s:
        yield s


# scope="function": the commit runs when the route function returns, BEFORE the response is sent,
# so a failed commit (disk full, database gone) becomes an error response, never a false success.
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


@dataclass(frozen=True)
class Auth:
    actor: Actor
    user: User
    user_session: UserSession | None = None

    @property
    def stage(self) -> SessionStage:
        return self.user_session.stage if self.user_session else SessionStage.FULL

    @property
    def csrf_token(self) -> str:
        return self.user_session.csrf_token if self.user_session else ""


def current_auth(request: Request) -> Auth | None:
    """Resolve the caller once per request from the bearer token or the session cookie.

    In a read transaction, so that no request waits for the SQLite writer lock (or a PostgreSQL row
    lock) to learn who calls. A session's last visit and a token's last use are written at most once a
    minute (``TOUCH_EVERY``), by the side writer (``web/sidewrites.py``), which also remembers the visit
    for idle expiry in this process until its row says so."""
    if hasattr(request.state, "auth"):
        cached: Auth | None = request.state.auth
        return cached
    result: Auth | None = None
    db = get_db(request)
    side = sidewrites.for_app(request.app.state, db)
    header = request.headers.get("authorization", "")
    ip = client_ip(request)
    if header.lower().startswith("bearer "):
        plain = header[7:].strip()
        reason, token_id = "unknown", None
        s = db.session()
        try:
            tok = tokens.resolve(s, plain=plain)
            if tok is not None:
                tokens.TOKEN_USED.send(s, token_id=tok.id)
                now = utcnow()
                if tok.last_used_at is None or now - tok.last_used_at > TOUCH_EVERY:
                    side.token_used(tok.id, now)
                result = Auth(
                    actor=auth.actor_for(tok.user, ip, via_token=True, permissions=tokens.effective_permissions(tok)),
                    user=tok.user,
                )
            else:
                reason, token_id = tokens.refusal_reason(s, plain=plain)
        finally:
            s.close()  # expunges without expiring: what was loaded stays readable for this request
        if result is None:
            request.state.auth = None
            request.state.refusal = Refusal(
                "auth.token_failed",
                AuditResult.FAILURE,
                detail={"reason": reason},
                target_type="api_token" if token_id is not None else None,
                target_id=token_id,
            )
            raise NotAuthenticated("The API token is unknown, expired or revoked")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            s = db.session()
            try:
                us = auth.find_session(s, token=cookie)
                if us is not None:
                    pending = side.last_seen(us.id)
                    seen = pending if pending is not None and pending > us.last_seen_at else us.last_seen_at
                    if auth.session_is_live(us, last_seen_at=seen):
                        now = utcnow()
                        if now - seen > TOUCH_EVERY:
                            side.session_seen(us.id, now)
                        result = Auth(actor=auth.actor_for(us.user, ip), user=us.user, user_session=us)
            finally:
                s.close()
    request.state.auth = result
    if result is not None:
        request.state.locale = result.user.locale
    return result


async def caller(request: Request) -> Auth | None:
    """``current_auth`` as a dependency (``CurrentAuth``), or awaited by a requirement that resolves the
    caller itself: a request without a token or a session cookie (a citizen, a posting app, the login
    page) has nothing to look up and skips the hop to the thread pool."""
    if not hasattr(request.state, "auth") and not (
        request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE)
    ):
        request.state.auth = None
    if hasattr(request.state, "auth"):
        cached: Auth | None = request.state.auth
        return cached
    return await run_in_threadpool(current_auth, request)


CurrentAuth = Annotated[Auth | None, Depends(caller)]


async def _check_csrf(request: Request, a: Auth) -> None:
    if request.method not in UNSAFE or a.user_session is None:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not constant_time_equals(sent, a.user_session.csrf_token):
        request.state.refusal = Refusal("auth.csrf_rejected")
        raise PermissionDenied("The form has expired or did not come from this site; reload the page and try again")


ANON_CSRF_COOKIE = "countyos_csrf"
MACHINE_PATHS = ("/api/", "/open311/", "/sta/")


async def _check_anonymous_csrf(request: Request) -> None:
    """Double-submit check for forms posted before login (login itself, language switch)."""
    if request.method not in UNSAFE or request.url.path.startswith(MACHINE_PATHS):
        return
    if not request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        return
    form = await request.form()
    sent = form.get("csrf_token")
    cookie = request.cookies.get(ANON_CSRF_COOKIE, "")
    if not isinstance(sent, str) or not cookie or not constant_time_equals(sent, cookie):
        request.state.refusal = Refusal("auth.csrf_rejected")
        raise PermissionDenied("The form has expired or did not come from this site; reload the page and try again")


class Requirement:
    """What a route needs: ``kind`` is public, authenticated, stage or permission. A permission
    requirement names one permission, or several of which any one is enough (``require_any``; its
    ``permission`` is then the codes joined by ``|``, as the reviewed route table shows it)."""

    def __init__(
        self,
        kind: str,
        permission: str | None = None,
        stages: frozenset[SessionStage] = frozenset(),
        any_of: tuple[str, ...] = (),
    ) -> None:
        self.kind = kind
        self.permission = "|".join(any_of) if any_of else permission
        self.codes: tuple[str, ...] = any_of or ((permission,) if permission else ())
        self.stages = stages

    def __repr__(self) -> str:
        return f"Requirement({self.kind!r}, {self.permission!r})"

    async def __call__(self, request: Request, a: CurrentAuth) -> Auth | None:
        if self.kind == "public":
            if a is None:
                await _check_anonymous_csrf(request)
            elif not request.url.path.startswith(MACHINE_PATHS) or a.user_session is not None:
                await _check_csrf(request, a)
            return a
        if a is None:
            raise NotAuthenticated()
        await _check_csrf(request, a)
        if self.kind == "stage":
            if a.stage not in self.stages:
                raise PermissionDenied("This step of signing in is not the current one")
            return a
        if a.stage != SessionStage.FULL:
            raise NotAuthenticated("Please finish signing in first")
        if self.kind == "permission" and self.codes and not any(a.actor.can(c) for c in self.codes):
            # recorded by the error handler, off the event loop and coalesced (web/refusals.py)
            request.state.refusal = Refusal(
                "access.denied",
                detail={
                    "permission": self.permission,
                    "via_token": a.actor.via_token,
                    "out_of_scope": a.actor.via_token and any(c in a.user.permission_codes for c in self.codes),
                },
            )
            raise PermissionDenied()
        return a


public = Requirement("public")
authenticated = Requirement("authenticated")


def require(permission: str) -> Requirement:
    return Requirement("permission", permission)


def require_any(*permissions: str) -> Requirement:
    """Signed in with any one of PERMISSIONS (pages read by several services, e.g. the camera register by
    the operations centre, the traffic office and the emergency duty staff)."""
    return Requirement("permission", any_of=tuple(permissions))


def in_stage(*stages: SessionStage) -> Requirement:
    """For the sign-in steps: the route is open to a session in one of these stages."""
    return Requirement("stage", stages=frozenset(stages))


def actor_of(a: Auth | None) -> Actor:
    if a is None:
        raise NotAuthenticated()
    return a.actor
