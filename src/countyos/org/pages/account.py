"""My account: password change (also the forced first-login step) and second-factor enrolment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from countyos.core.errors import ValidationFailed
from countyos.org.models import SessionStage
from countyos.org.pages.login import STAGE_URL, set_session_cookie
from countyos.org.service import auth, mfa, users
from countyos.web.deps import Auth, WriteSession, authenticated, in_stage
from countyos.web.templating import redirect, templates, translate

router = APIRouter()

PASSWORD_STAGES = in_stage(SessionStage.CHANGE_PASSWORD, SessionStage.FULL)
ENROL_STAGES = in_stage(SessionStage.MFA_ENROL, SessionStage.FULL)


@router.get("/account")
def account(request: Request, a: Annotated[Auth, Depends(authenticated)]) -> Response:
    return templates(request).render(
        request, "org/account.html", {"phone": users.masked_phone(a.user), "mfa_required": auth.mfa_required(a.user)}
    )


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
            raise ValidationFailed("The two new passwords differ")
        auth.change_password(session, actor=a.actor, user=user, current=current, new=new)
    except ValidationFailed as exc:
        session.commit()  # keep the audit record of a failed attempt
        return templates(request).render(
            request,
            "org/password.html",
            {"forced": a.stage != SessionStage.FULL, "error": exc.message, "errors": exc.errors},
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
