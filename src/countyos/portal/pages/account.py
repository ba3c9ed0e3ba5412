"""Residents' sign-in by phone code (or password), and their own pages under ``/portal/me``.

``/portal/signin`` sends a code (``POST /portal/signin/code``) and signs in with it (``POST
/portal/signin``; the first time also opens the account, with the privacy rules agreed to). ``/portal/me``
is "my county": messages, the problems reported, applications, what is followed. ``/portal/me/data``
shows everything held about the resident, ``/portal/me/data.json`` gives it as a file, and ``POST
/portal/me/delete`` deletes it (saying what the law keeps). ``/portal/me/settings``: name, password,
consents. Every page takes the 适老 large text (``POST /portal/large``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.crypto import mask_phone
from countyos.core.errors import CountyError, RateLimited, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.org.models import AuditResult
from countyos.org.service import audit, auth, passwords, users
from countyos.portal import booking_lifecycle
from countyos.portal.models import ConsentPurpose, RealNameLevel
from countyos.portal.pages.common import LARGE_COOKIE, render
from countyos.portal.schemas import CodeRequestIn, CodeSignInIn, ConsentIn, NameIn, PasswordIn, PasswordSignInIn
from countyos.portal.service import accounts, bookings, codes, follows, messages, personal, sms
from countyos.web import forms, refusals
from countyos.web.deps import SESSION_COOKIE, Auth, ReadSession, WriteSession, client_ip, get_db, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.sidewrites import AuditEntry
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
SELF = "portal.self"
Public = Annotated[Auth | None, Depends(public)]
Me = Annotated[Auth, Depends(require(SELF))]
MESSAGES_PAGE = 30
CONSENT_LABELS = {
    ConsentPurpose.PRIVACY: N_("Rules on personal information (needed for an account)"),
    ConsentPurpose.LOCATION: N_("Use my phone's position to find what is nearest"),
    ConsentPurpose.MESSAGES: N_("Send me messages about the areas I follow"),
}
LEVEL_LABELS = {
    RealNameLevel.UNVERIFIED: N_("Phone number verified"),
    RealNameLevel.VERIFIED: N_("Real name verified at a window"),
}
LABELS: dict[str, Any] = {"consent_labels": CONSENT_LABELS, "level_labels": LEVEL_LABELS}


def safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and not value.startswith("/portal/signin"):
        return value[:300]
    return "/portal/me"


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=request.app.state.settings.tls, path="/"
    )


def _limited(request: Request, phone: str) -> RateLimited | None:
    """The per-address limit of sign-in attempts (shared with the staff sign-in), audited when hit."""
    ip = client_ip(request)
    wait = request.app.state.login_limiter.hit(ip or "unknown")
    if wait is None:
        return None
    refusals.record_in_thread(
        request,
        AuditEntry(
            actor=refusals.anonymous(ip),
            action="auth.rate_limited",
            result=AuditResult.DENIED,
            detail={"path": request.url.path, "method": request.method, "phone": mask_phone(phone)},
        ),
    )
    return RateLimited("Too many sign-in attempts from this address; wait %(s)s seconds", s=wait, retry_after=wait)


def _signin_page(
    request: Request,
    a: Auth | None,
    *,
    form: Refused | None = None,
    pwform: Refused | None = None,
    next: str = "",
    sent: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "portal/signin.html",
        {
            "form": form or Refused.empty(),
            "pwform": pwform or Refused.empty(),
            "which": "password" if pwform and pwform.errors else "",
            "next": next,
            "sent": sent,
            "minutes": int(codes.RULES.valid_for.total_seconds() // 60),
        },
        a=a,
        tab="me",
        status_code=status,
        headers=headers,
    )


@router.get("/portal/signin")
def signin_page(request: Request, a: Public, next: str = "") -> Response:
    if a is not None and a.actor.can(SELF):
        return redirect(safe_next(next))
    return _signin_page(request, a, next=next[:300])


@router.post("/portal/signin/code")
def send_code(request: Request, a: Public, form: PostedForm) -> Response:
    """Send a sign-in code to the phone (rate-limited per phone and per address)."""
    values = forms.typed(form, ("phone",))
    next = str(form.get("next") or "")[:300]
    try:
        body = forms.parse(CodeRequestIn, values, empty_is_none=False)
        limited = _limited(request, body.phone)
        if limited is not None:
            raise limited
        ip = client_ip(request)
        with get_db(request).unit_of_work() as s:
            code, _ = codes.issue(s, phone=body.phone, ip=ip, now=utcnow())
            minutes = int(codes.RULES.valid_for.total_seconds() // 60)
            text = translate(
                request,
                N_("Your sign-in code for %(county)s is %(code)s, valid for %(minutes)s minutes. Do not tell anyone."),
                county=request.app.state.settings.county_name,
                code=code,
                minutes=minutes,
            )
            sms.sender().send(body.phone, text)  # a failure rolls the code back: nothing half-done
            audit.record(
                s,
                actor=refusals.anonymous(ip),
                action="portal.code_sent",
                target_type="phone",
                target_id=mask_phone(body.phone),
            )
    except (PydanticValidationError, CountyError) as exc:
        refused = _phone_refusal(request, exc, values)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return _signin_page(request, a, form=refused, next=next, status=refused.status, headers=headers)
    return _signin_page(
        request, a, form=Refused({"phone": body.phone}, {}, None, 200), next=next, sent=mask_phone(body.phone)
    )


def _phone_refusal(request: Request, exc: Exception, values: dict[str, Any]) -> Refused:
    if isinstance(exc, CountyError) and not isinstance(exc, ValidationFailed):
        return Refused(values, {"phone": exc.message}, exc.message, exc.status)
    if isinstance(exc, PydanticValidationError):
        message = translate(request, N_("Enter the 11 digits of a mobile number"))
        return Refused(values, {"phone": message}, translate(request, "Please correct the marked fields"), 422)
    return Refused.of(request, exc, values)


@router.post("/portal/signin")
def signin(request: Request, a: Public, form: PostedForm) -> Response:
    values = forms.typed(form, ("phone", "code"))
    values["agree"] = "1" if form.get("agree") else ""
    next = str(form.get("next") or "")[:300]
    try:
        body = forms.parse(CodeSignInIn, {**values, "agree": bool(values["agree"])}, empty_is_none=False)
        limited = _limited(request, body.phone)
        if limited is not None:
            raise limited
    except (PydanticValidationError, CountyError) as exc:
        refused = Refused.of(request, exc, values)
        if isinstance(exc, PydanticValidationError) and "phone" in refused.errors:
            refused.errors["phone"] = translate(request, N_("Ask for a code first: enter your mobile number above"))
        return _signin_page(request, a, form=refused, next=next, status=refused.status)
    with get_db(request).unit_of_work() as s:
        outcome = accounts.sign_in_by_code(
            s,
            phone=body.phone,
            code=body.code,
            agree=body.agree,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    if not outcome.ok or outcome.token is None:
        field = "agree" if outcome.needs_agreement else "code"
        message = translate(request, outcome.message or "")
        refused = Refused(values, {field: message}, message, 401 if field == "code" else 422)
        return _signin_page(request, a, form=refused, next=next, status=refused.status)
    flash = None
    if outcome.created:
        flash = translate(request, N_("Your account is open."))
    if outcome.linked_reports:
        flash = " ".join(
            x
            for x in (
                flash,
                translate(
                    request,
                    N_("%(n)s problems you reported earlier with this phone are now in your list."),
                    n=outcome.linked_reports,
                ),
            )
            if x
        )
    response = redirect(safe_next(next), flash=flash)
    _set_session_cookie(request, response, outcome.token)
    return response


@router.post("/portal/signin/password")
def signin_password(request: Request, a: Public, form: PostedForm) -> Response:
    values = forms.typed(form, ("phone", "password"))
    next = str(form.get("next") or "")[:300]
    shown = {"phone": values.get("phone", "")}
    try:
        body = forms.parse(PasswordSignInIn, values, empty_is_none=False)
        limited = _limited(request, body.phone)
        if limited is not None:
            raise limited
    except (PydanticValidationError, CountyError) as exc:
        refused = Refused.of(request, exc, shown)
        return _signin_page(request, a, pwform=refused, next=next, status=refused.status)
    ip = client_ip(request)
    with get_db(request).unit_of_work() as s:
        user = accounts.find_resident(s, phone=body.phone)
        if user is None:
            passwords.equalise_timing(body.password)
            outcome = None
        else:
            outcome = auth.login(
                s, username=user.username, password=body.password, ip=ip, user_agent=request.headers.get("user-agent")
            )
    if outcome is None or not outcome.ok or outcome.token is None:
        message = translate(request, N_("The phone number or password is wrong, or the account is locked"))
        refused = Refused(shown, {"password": message}, message, 401)
        return _signin_page(request, a, pwform=refused, next=next, status=401)
    response = redirect(safe_next(next) if outcome.session and str(outcome.session.stage) == "full" else "/")
    _set_session_cookie(request, response, outcome.token)
    return response


@router.post("/portal/signout")
def signout(request: Request, session: WriteSession, a: Me) -> Response:
    if a.user_session is not None:
        auth.logout(session, user_session=auth.get_session(session, session_id=a.user_session.id), actor=a.actor)
    response = redirect("/portal", flash=translate(request, "You are logged out"))
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/portal/large")
def large_text(request: Request, a: Public, form: PostedForm) -> Response:
    """The reader's choice of text size, kept for a year in a cookie (no account needed)."""
    large = form.get("large") == "1"
    nxt = str(form.get("next") or "/portal")
    response = redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "/portal")
    response.set_cookie(LARGE_COOKIE, "1" if large else "0", max_age=365 * 86400, httponly=True, samesite="lax")
    return response


@router.get("/portal/privacy")
def privacy(request: Request, a: Public) -> Response:
    return render(request, "portal/privacy.html", {"kept": personal.KEPT, "version": accounts.PRIVACY_VERSION}, a=a)


# -- my county ------------------------------------------------------------------------------------


@router.get("/portal/me")
def me(request: Request, session: ReadSession, a: Me) -> Response:
    from countyos.cases.service import publicmap, reporters
    from countyos.services.service import applications

    resident = accounts.resident_of(session, user_id=a.user.id)
    mine = bookings.of_person(session, user_id=a.user.id, limit=10)
    latest, total = messages.list_for(session, user_id=a.user.id, page=PageParams(limit=5))
    return render(
        request,
        "portal/me.html",
        {
            "resident": resident,
            "messages": latest,
            "message_total": total,
            "reports": reporters.reports_of(session, user_id=a.user.id, limit=20),
            "applications": applications.of_applicant(session, user_id=a.user.id, limit=20),
            "subscriptions": personal.subscriptions_of(session, user_id=a.user.id),
            "bookings": mine,
            "places": bookings.names_of(session, [b.bookable_id for b in mine]),
            "booking_states": booking_lifecycle.STATE_NAMES,
            "following": publicmap.by_ids(
                session, case_ids=[f.case_id for f in follows.followed_by(session, user_id=a.user.id)]
            ),
            **LABELS,
        },
        a=a,
        tab="me",
    )


@router.get("/portal/me/messages")
def my_messages(request: Request, session: ReadSession, a: Me, offset: int = 0) -> Response:
    page = PageParams(limit=MESSAGES_PAGE, offset=max(0, min(offset, 100_000)))
    rows, total = messages.list_for(session, user_id=a.user.id, page=page)
    return render(
        request,
        "portal/messages.html",
        {"rows": rows, "total": total, "limit": page.limit, "offset": page.offset, "base_query": ""},
        a=a,
        tab="me",
    )


@router.post("/portal/me/messages/read")
def read_messages(request: Request, session: WriteSession, a: Me, form: PostedForm) -> Response:
    ids = [int(v) for v in form.getlist("id") if isinstance(v, str) and v.isdigit()][:200]
    messages.mark_read(session, user_id=a.user.id, message_ids=ids or None)
    return redirect("/portal/me/messages")


@router.get("/portal/me/data")
def my_data(request: Request, session: ReadSession, a: Me) -> Response:
    return render(
        request,
        "portal/data.html",
        {"data": personal.gather(session, user_id=a.user.id), "kept": personal.KEPT, "form": Refused.empty(), **LABELS},
        a=a,
        tab="me",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/portal/me/data.json")
def my_data_file(request: Request, session: WriteSession, a: Me) -> Response:
    """Everything held about the resident as one JSON file (个人信息保护法 第四十五条: 可携带)."""
    data = personal.gather(session, user_id=a.user.id)
    data["kept_by_law"] = [
        {"what": translate(request, k.what), "why": translate(request, k.why)} for k in personal.KEPT
    ]
    data["exported_at"] = utcnow().isoformat()
    audit.record(session, actor=a.actor, action="portal.data_export", target_type="user", target_id=a.user.id)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/portal/me/delete")
def delete_me(request: Request, session: WriteSession, a: Me, form: PostedForm) -> Response:
    """Delete the resident's personal data; the page then says what was deleted and what is kept."""
    if form.get("confirm") != "1":
        message = translate(request, N_("Tick the box to confirm that you want your data deleted"))
        return render(
            request,
            "portal/data.html",
            {
                "data": personal.gather(session, user_id=a.user.id),
                "kept": personal.KEPT,
                "form": Refused({}, {"confirm": message}, message, 422),
                **LABELS,
            },
            a=a,
            tab="me",
            status_code=422,
        )
    done = personal.delete_account(session, actor=a.actor, user_id=a.user.id)
    response = render(request, "portal/deleted.html", {"done": done, "kept": personal.KEPT}, a=None, tab="me")
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- settings: name, password, consents ------------------------------------------------------------


def _settings_page(
    request: Request, session: Any, a: Auth, *, form: Refused | None = None, status: int = 200
) -> Response:
    user = users.get(session, user_id=a.user.id)
    held = {c.purpose for c in accounts.consents(session, user_id=a.user.id) if c.withdrawn_at is None}
    return render(
        request,
        "portal/settings.html",
        {
            "form": form or Refused({"name": user.display_name}, {}, None, 200),
            "empty": Refused.empty(),
            "password_set": bool(user.password_hash),
            "held": held,
            "withdrawable": [p for p in ConsentPurpose if p in accounts.WITHDRAWABLE],
            **LABELS,
        },
        a=a,
        tab="me",
        status_code=status,
    )


@router.get("/portal/me/settings")
def settings_page(request: Request, session: ReadSession, a: Me) -> Response:
    return _settings_page(request, session, a)


@router.post("/portal/me/name")
def save_name(request: Request, session: WriteSession, a: Me, form: PostedForm) -> Response:
    values = forms.typed(form, ("name",))
    try:
        body = forms.parse(NameIn, values, empty_is_none=False)
        accounts.set_name(session, actor=a.actor, user_id=a.user.id, name=body.name)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="name")
        return _settings_page(request, session, a, form=refused, status=refused.status)
    return redirect("/portal/me/settings", flash=translate(request, "Saved"))


@router.post("/portal/me/password")
def save_password(request: Request, session: WriteSession, a: Me, form: PostedForm) -> Response:
    values = forms.typed(form, ("password", "current"))
    try:
        body = forms.parse(PasswordIn, values, empty_is_none=False)
        accounts.set_password(session, actor=a.actor, user_id=a.user.id, password=body.password, current=body.current)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        user = users.get(session, user_id=a.user.id)
        refused = Refused.of(request, exc, {"name": user.display_name}, which="password")
        return _settings_page(request, session, a, form=refused, status=refused.status)
    return redirect("/portal/me/settings", flash=translate(request, N_("Your password is set")))


@router.post("/portal/me/consents")
def save_consent(request: Request, session: WriteSession, a: Me, form: PostedForm) -> Response:
    values = forms.typed(form, ("purpose", "give"))
    try:
        body = forms.parse(ConsentIn, values, empty_is_none=False)
        if body.give:
            accounts.give_consent(
                session, actor=a.actor, user_id=a.user.id, purpose=body.purpose, version=accounts.PRIVACY_VERSION
            )
        else:
            accounts.withdraw_consent(session, actor=a.actor, user_id=a.user.id, purpose=body.purpose)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="consent")
        return _settings_page(request, session, a, form=refused, status=refused.status)
    return redirect("/portal/me/settings", flash=translate(request, "Saved"))
