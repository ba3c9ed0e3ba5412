"""The resident's subscriptions (``portal.self``): follow the county, a township or a village (picked
one step at a time), for every kind of notice or some; unfollow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.geo.service import divisions
from countyos.portal.pages.common import render
from countyos.portal.pages.notices import labels, picker
from countyos.portal.schemas import SubscriptionIn
from countyos.portal.service import subscriptions as svc
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
Resident = Annotated[Auth, Depends(require(svc.SELF))]


def _page(
    request: Request, session: Session, a: Auth, *, area: str, form: Refused | None = None, status: int = 200
) -> Response:
    mine = svc.of_user(session, user_id=a.user.id)
    return render(
        request,
        "portal/subscriptions.html",
        {
            "mine": mine,
            "names": divisions.names_by_code(session, [s.division_code for s in mine]),
            "place": picker(session, area[:12]),
            "form": form or Refused.empty(),
            **labels(),
        },
        a=a,
        tab="me",
        status_code=status,
    )


@router.get("/portal/subscriptions")
def subscriptions_page(request: Request, session: ReadSession, a: Resident, area: str = "") -> Response:
    return _page(request, session, a, area=area)


@router.post("/portal/subscriptions")
def follow(request: Request, session: WriteSession, a: Resident, form: PostedForm) -> Response:
    values = forms.typed(form, ("division_code",))
    kinds = [k for k in form.getlist("kinds") if isinstance(k, str) and k]
    try:
        body = forms.parse(SubscriptionIn, {**values, "kinds": kinds})
        svc.follow(session, actor=a.actor, division_code=body.division_code, kinds=body.kinds)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "kinds": kinds})
        return _page(request, session, a, area=values["division_code"], form=refused, status=refused.status)
    return redirect("/portal/subscriptions", flash=translate(request, "You follow this area now"))


@router.post("/portal/subscriptions/unfollow")
def unfollow(request: Request, session: WriteSession, a: Resident, form: PostedForm) -> Response:
    code = forms.typed(form, ("division_code",))["division_code"]
    svc.unfollow(session, actor=a.actor, division_code=code)
    return redirect("/portal/subscriptions", flash=translate(request, "You no longer follow this area"))
