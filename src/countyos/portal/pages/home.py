"""The residents' front door ``/portal``, its web-app manifest, and the window's real-name check
(``/portal/residents``: find a resident's account by phone, record the document seen)."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.responses import Response

from countyos.core.crypto import mask_phone
from countyos.core.errors import CountyError
from countyos.core.i18n import N_, gettext, use_locale
from countyos.portal.pages.account import LEVEL_LABELS
from countyos.portal.pages.common import PORTAL, render
from countyos.portal.schemas import PHONE_PATTERN, RealNameIn
from countyos.portal.service import accounts
from countyos.services.models import IdType
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
STATIC_JS = pathlib.Path(__file__).resolve().parents[2] / "web" / "static" / "js"
VERIFY = "portal.resident.verify"
NAV = [NavItem(PORTAL, N_("Residents' real names"), "/portal/residents", VERIFY, order=400)]
Public = Annotated[Auth | None, Depends(public)]
Clerk = Annotated[Auth, Depends(require(VERIFY))]
DOCUMENTS = {
    IdType.RESIDENT_ID: N_("Resident identity card"),
    IdType.PASSPORT: N_("Passport"),
    IdType.HK_MACAO_PERMIT: N_("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT: N_("Mainland travel permit for Taiwan residents"),
    IdType.FOREIGN_RESIDENT: N_("Foreigner's permanent residence ID card"),
}


@router.get("/portal")
def front_door(request: Request, a: Public) -> Response:
    resident = a is not None and a.actor.can("portal.self")
    return render(request, "portal/home.html", {"resident": resident}, a=a, tab="home")


@router.get("/portal/manifest.webmanifest")
def manifest(request: Request, a: Public) -> Response:
    """Lets a phone keep the front door on its home screen (and a provincial app's web view name it)."""
    locale = getattr(request.state, "locale", "zh_CN")
    with use_locale(locale):
        name = f"{request.app.state.settings.county_name} · {gettext('One network for residents')}"
    body = {
        "name": name,
        "short_name": request.app.state.settings.county_name,
        "start_url": "/portal",
        "scope": "/portal",
        "display": "standalone",
        "background_color": "#f5f7f9",
        "theme_color": "#1f5f8b",
        "lang": "zh-CN" if locale == "zh_CN" else "en",
        "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")


@router.get("/portal/sw.js")
def service_worker(a: Public) -> Response:
    """The service worker, served under /portal so that its scope covers the front door's pages."""
    body = (STATIC_JS / "portal-sw.js").read_text(encoding="utf-8")
    return Response(
        body,
        media_type="application/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/portal"},
    )


@router.get("/portal/offline")
def offline(request: Request, a: Public) -> Response:
    """What the service worker shows for a page it has not kept when there is no signal."""
    return render(request, "portal/offline.html", {}, a=None, tab="home")


# -- the window: real-name verification ----------------------------------------------------------


def _residents_page(
    request: Request, session: ReadSession, phone: str, *, form: Refused | None = None, status: int = 200
) -> Response:
    found = None
    resident = None
    phone = phone.strip()
    searched = bool(phone)
    if phone and re.match(PHONE_PATTERN, phone):
        user = accounts.find_resident(session, phone=phone)
        if user is not None:
            found = user
            resident = accounts.resident_of(session, user_id=user.id)
    return templates(request).render(
        request,
        "portal/residents.html",
        {
            "phone": phone,
            "searched": searched,
            "found": found,
            "resident": resident,
            "masked": mask_phone(phone) if phone else "",
            "documents": DOCUMENTS,
            "level_labels": LEVEL_LABELS,
            "form": form or Refused({"document": str(IdType.RESIDENT_ID)}, {}, None, 200),
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/portal/residents")
def residents(request: Request, session: ReadSession, a: Clerk, phone: str = "") -> Response:
    return _residents_page(request, session, phone[:20])


@router.post("/portal/residents/{user_id}/verify")
def verify(
    request: Request,
    session: WriteSession,
    a: Clerk,
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    form: PostedForm,
) -> Response:
    values = forms.typed(form, ("name", "document", "number", "place"))
    phone = str(form.get("phone") or "")[:20]
    try:
        body = forms.parse(RealNameIn, values, empty_is_none=False)
        accounts.verify_real_name(session, actor=a.actor, user_id=user_id, **body.model_dump())
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "number": ""})
        return _residents_page(request, session, phone, form=refused, status=refused.status)
    return redirect(
        f"/portal/residents?phone={phone}", flash=translate(request, N_("The real name is recorded as verified"))
    )
