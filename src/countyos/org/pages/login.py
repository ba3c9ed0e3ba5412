"""Sign-in: password, second factor, logout. Each step leads to the next one the session needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import RateLimited
from countyos.core.i18n import N_
from countyos.org.models import AuditResult, SessionStage
from countyos.org.service import auth, mfa, tokens
from countyos.web import refusals
from countyos.web.deps import (
    SESSION_COOKIE,
    Auth,
    WriteSession,
    client_ip,
    get_db,
    in_stage,
    public,
)
from countyos.web.sidewrites import AuditEntry
from countyos.web.templating import redirect, templates, translate

router = APIRouter()

STAGE_URL = {
    SessionStage.MFA_VERIFY: "/login/mfa",
    SessionStage.CHANGE_PASSWORD: "/account/password",
    SessionStage.MFA_ENROL: "/account/mfa",
    SessionStage.FULL: "/",
}
ANY_STAGE = tuple(SessionStage)

TOKENS_NOTICE = N_("API tokens issued by someone else act as you; check them on your account page")


def _tokens_notice(session: Session, user_id: int) -> bool:
    """At sign-in, a person is told of live tokens acting as them that they did not issue."""
    return bool(tokens.made_by_others(session, user_id=user_id))


def safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and not value.startswith("/login"):
        return value
    return "/"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=request.app.state.settings.tls, path="/"
    )


@router.get("/login")
def login_form(request: Request, a: Annotated[Auth | None, Depends(public)], next: str | None = None) -> Response:
    if a is not None:
        return redirect(STAGE_URL[a.stage] if a.stage != SessionStage.FULL else safe_next(next))
    return templates(request).render(request, "org/login.html", {"next": next or "", "username": ""})


@router.post("/login")
def login_submit(
    request: Request,
    _: Annotated[Auth | None, Depends(public)],
    username: Annotated[str, Form(max_length=60)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    ip = client_ip(request)
    wait = request.app.state.login_limiter.hit(ip or "unknown")
    db = get_db(request)
    if wait is not None:
        # coalesced per address and minute, written off the request's own transaction (web/refusals.py)
        refusals.record_in_thread(
            request,
            AuditEntry(
                actor=refusals.anonymous(ip),
                action="auth.rate_limited",
                result=AuditResult.DENIED,
                detail={"path": request.url.path, "method": request.method, "username": username[:60]},
            ),
        )
        err = RateLimited("Too many sign-in attempts from this address; wait %(s)s seconds", s=wait)
        return templates(request).render(
            request,
            "org/login.html",
            {"error": err.message, "next": next, "username": username},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    with db.unit_of_work() as s:
        outcome = auth.login(
            s, username=username, password=password, ip=ip, user_agent=request.headers.get("user-agent")
        )
        stage = outcome.session.stage if outcome.session else None
        notice = stage == SessionStage.FULL and outcome.user is not None and _tokens_notice(s, outcome.user.id)
    if not outcome.ok or outcome.token is None or stage is None:
        message = translate(request, outcome.error or auth.GENERIC_FAILURE)
        return templates(request).render(
            request, "org/login.html", {"error": message, "next": next, "username": username}, status_code=401
        )
    response = redirect(
        STAGE_URL[stage] if stage != SessionStage.FULL else safe_next(next),
        flash=translate(request, TOKENS_NOTICE) if notice else None,
        kind="warn",
    )
    set_session_cookie(request, response, outcome.token)
    return response


@router.get("/login/mfa")
def mfa_form(request: Request, a: Annotated[Auth, Depends(in_stage(SessionStage.MFA_VERIFY))]) -> Response:
    return templates(request).render(request, "org/login_mfa.html", {})


@router.post("/login/mfa")
def mfa_submit(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(in_stage(SessionStage.MFA_VERIFY))],
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    assert a.user_session is not None  # the MFA stage exists only for cookie sessions
    user_session = auth.get_session(session, session_id=a.user_session.id)
    user = user_session.user
    if mfa.verify(session, actor=a.actor, user=user, code=code):
        auth.second_factor_passed(session, user=user)
        stage = auth.advance(session, user_session=user_session, mfa_done=True)
        token = auth.rotate(session, user_session=user_session)
        notice = stage == SessionStage.FULL and _tokens_notice(session, user.id)
        response = redirect(STAGE_URL[stage], flash=translate(request, TOKENS_NOTICE) if notice else None, kind="warn")
        set_session_cookie(request, response, token)
        return response
    locked = auth.second_factor_failed(session, user=user, user_session=user_session, actor=a.actor)
    if locked:
        session.commit()
        response = redirect("/login", flash=translate(request, auth.GENERIC_FAILURE), kind="error")
        response.delete_cookie(SESSION_COOKIE)
        return response
    session.commit()
    return templates(request).render(
        request,
        "org/login_mfa.html",
        {"error": translate(request, "The code is not right; try again")},
        status_code=401,
    )


@router.post("/logout")
def logout(request: Request, session: WriteSession, a: Annotated[Auth, Depends(in_stage(*ANY_STAGE))]) -> Response:
    if a.user_session is not None:
        auth.logout(session, user_session=auth.get_session(session, session_id=a.user_session.id), actor=a.actor)
    response = redirect("/login", flash=translate(request, "You are logged out"))
    response.delete_cookie(SESSION_COOKIE)
    return response
