"""My account: password change (also the forced first-login step), second-factor enrolment and the
API tokens acting as me.

These pages are for the person in their own browser session: an API token never reaches them (else a
reporting app's key could set up a second factor or change the password of its account).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, PermissionDenied, ValidationFailed
from countyos.org.models import SessionStage
from countyos.org.pages.login import STAGE_URL, set_session_cookie
from countyos.org.service import auth, mfa, tokens, users
from countyos.web.deps import (
    SESSION_COOKIE,
    Auth,
    CurrentAuth,
    ReadSession,
    WriteSession,
    authenticated,
    in_stage,
)
from countyos.web.refusals import Refusal
from countyos.web.templating import redirect, templates, translate


async def person_only(request: Request, a: CurrentAuth) -> None:
    """Refuse a bearer token on every account page (the route's own requirement handles the rest)."""
    if a is None or a.user_session is not None:
        return
    # recorded by the error handler, coalesced and off the event loop (web/refusals.py)
    request.state.refusal = Refusal("access.denied", detail={"reason": "token"})
    raise PermissionDenied("Account pages are for the person signed in with a browser; API tokens cannot use them")


router = APIRouter(dependencies=[Depends(person_only)])

PASSWORD_STAGES = in_stage(SessionStage.CHANGE_PASSWORD, SessionStage.FULL)
ENROL_STAGES = in_stage(SessionStage.MFA_ENROL, SessionStage.FULL)


@router.get("/account")
def account(request: Request, session: ReadSession, a: Annotated[Auth, Depends(authenticated)]) -> Response:
    return templates(request).render(
        request,
        "org/account.html",
        {
            "phone": users.masked_phone(a.user),
            "mfa_required": auth.mfa_required(a.user),
            "tokens": tokens.list_tokens(session, user_id=a.user.id, live=True),
            "not_mine": {t.id for t in tokens.made_by_others(session, user_id=a.user.id)},
        },
    )


PERSONAL_TOKEN_MAX_DAYS = 365


def _tokens_page(
    request: Request, session: ReadSession | WriteSession, a: Auth, status: int = 200, **extra: object
) -> Response:
    ctx = {
        "tokens": tokens.list_tokens(session, user_id=a.user.id),
        "not_mine": {t.id for t in tokens.made_by_others(session, user_id=a.user.id)},
        "permissions": sorted(a.actor.permissions),
        "new_token": None,
        **extra,
    }
    return templates(request).render(request, "org/account_tokens.html", ctx, status_code=status)


@router.get("/account/tokens")
def my_tokens(request: Request, session: ReadSession, a: Annotated[Auth, Depends(authenticated)]) -> Response:
    return _tokens_page(request, session, a)


@router.post("/account/tokens")
def my_token_create(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(authenticated)],
    name: Annotated[str, Form(max_length=80)],
    scopes: Annotated[str, Form(max_length=2000)],
    days: Annotated[int, Form(ge=1, le=PERSONAL_TOKEN_MAX_DAYS)] = 90,
) -> Response:
    """A token acting as me, with some of my permissions, for a script of my own (audited)."""
    scope_list = [s.strip() for s in scopes.replace(",", " ").split() if s.strip()]
    try:
        tok, plain = tokens.create(
            session,
            actor=a.actor,
            name=name,
            user_id=a.user.id,
            scopes=scope_list,
            expires_at=utcnow() + timedelta(days=days),
        )
    except CountyError as exc:
        session.rollback()
        return _tokens_page(request, session, a, status=exc.status, error=exc.message)
    return _tokens_page(request, session, a, new_token=plain, new_name=tok.name)


@router.post("/account/tokens/{token_id}/revoke")
def my_token_revoke(
    request: Request, token_id: int, session: WriteSession, a: Annotated[Auth, Depends(authenticated)]
) -> Response:
    tok = tokens.revoke(session, actor=a.actor, token_id=token_id, own_only=True)
    return redirect("/account/tokens", flash=translate(request, "Token %(name)s revoked", name=tok.name))


PASSWORD_FIELDS = {"current": "current", "new": "new", "password": "new", "confirm": "confirm"}


@router.get("/account/password")
def password_form(request: Request, a: Annotated[Auth, Depends(PASSWORD_STAGES)]) -> Response:
    return templates(request).render(request, "org/password.html", {"forced": a.stage != SessionStage.FULL})


@router.post("/account/password")
def password_submit(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(PASSWORD_STAGES)],
    current: Annotated[str, Form(max_length=200)],
    new: Annotated[str, Form(max_length=200)],
    confirm: Annotated[str, Form(max_length=200)],
) -> Response:
    user_session = auth.get_session(session, session_id=a.user_session.id) if a.user_session else None
    user = users.get(session, user_id=a.user.id)
    try:
        if new != confirm:
            raise ValidationFailed("The two new passwords differ", errors=[{"field": "confirm", "message": "differs"}])
        auth.change_password(session, actor=a.actor, user=user, current=current, new=new)
    except ValidationFailed as exc:
        session.commit()  # keep the audit record of a failed attempt
        if user.locked_until and user.locked_until > utcnow():  # too many wrong current passwords
            response = redirect("/login", flash=translate(request, auth.GENERIC_FAILURE), kind="error")
            response.delete_cookie(SESSION_COOKIE)
            return response
        return templates(request).render(
            request,
            "org/password.html",
            {
                "forced": a.stage != SessionStage.FULL,
                "error": exc.message,
                "errors": exc.errors,
                # the message beside the field it is about (passwords are never sent back)
                "field_errors": {
                    PASSWORD_FIELDS.get(str(e.get("field")), "new"): exc.message for e in exc.errors or [{}]
                },
            },
            status_code=422,
        )
    auth.end_all_sessions(session, user_id=user.id, except_id=user_session.id if user_session else None)
    if user_session is None:
        return redirect("/account", flash=translate(request, "Password changed"))
    stage = auth.advance(session, user_session=user_session, mfa_done=True)
    token = auth.rotate(session, user_session=user_session)
    response = redirect(
        STAGE_URL[stage] if stage != SessionStage.FULL else "/account", flash=translate(request, "Password changed")
    )
    set_session_cookie(request, response, token)
    return response


@router.get("/account/mfa")
def mfa_page(request: Request, a: Annotated[Auth, Depends(ENROL_STAGES)]) -> Response:
    pending = a.user.totp_secret_enc is not None and not a.user.totp_enabled
    ctx = {
        "forced": a.stage != SessionStage.FULL,
        "enabled": a.user.totp_enabled,
        "enrolment": mfa.enrolment_for(a.user) if pending else None,
    }
    return templates(request).render(request, "org/mfa.html", ctx)


@router.post("/account/mfa/start")
def mfa_start(request: Request, session: WriteSession, a: Annotated[Auth, Depends(ENROL_STAGES)]) -> Response:
    if a.user.totp_enabled:
        raise ValidationFailed("The second factor is already set up; ask an administrator to reset it")
    mfa.begin_enrolment(session, user=users.get(session, user_id=a.user.id))
    return redirect("/account/mfa")


@router.post("/account/mfa")
def mfa_confirm(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(ENROL_STAGES)],
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    user = users.get(session, user_id=a.user.id)
    try:
        codes = mfa.confirm_enrolment(session, actor=a.actor, user=user, code=code)
    except ValidationFailed as exc:
        session.commit()
        return templates(request).render(
            request,
            "org/mfa.html",
            {
                "forced": a.stage != SessionStage.FULL,
                "enabled": False,
                "enrolment": mfa.enrolment_for(user),
                "error": exc.message,
            },
            status_code=422,
        )
    token = None
    if a.user_session is not None:
        user_session = auth.get_session(session, session_id=a.user_session.id)
        auth.advance(session, user_session=user_session, mfa_done=True)
        token = auth.rotate(session, user_session=user_session)
    response = templates(request).render(request, "org/mfa_codes.html", {"codes": codes})
    if token:
        set_session_cookie(request, response, token)
    return response
