"""``/village/tourism/homestays``: the 民宿/农家乐 register, occupancy by village and month, the form."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.org.service import users
from countyos.village.models.tourism import StayKind
from countyos.village.pages.tourism_common import Keeper, Reader, render
from countyos.village.permissions import TOURISM_REPORT
from countyos.village.schemas.tourism import HomestayIn
from countyos.village.service import tourism_stays
from countyos.village.service.tourism_flow import local_day
from countyos.web import forms
from countyos.web.deps import ReadSession, WriteSession
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
FIELDS = (
    "name",
    "kind",
    "village_name",
    "village_code",
    "address",
    "rooms",
    "beds",
    "keeper_id",
    "license_no",
    "grade",
)
Short = Annotated[str, Query(max_length=100)]


def _page(request: Request, session: Session, village: str, form: Refused | None = None) -> Response:
    today = local_day(utcnow())
    first = date(today.year - (1 if today.month == 1 else 0), 12 if today.month == 1 else today.month - 1, 1)
    rows = tourism_stays.list_stays(session, village=village)
    keepers = users.colleagues(session, user_ids=[h.keeper_id for h in rows])
    villages = sorted({h.village_name for h in tourism_stays.list_stays(session)})
    return render(
        request,
        "village/tourism/homestays.html",
        {
            "rows": rows,
            "keepers": {k: c.display_name for k, c in keepers.items()},
            "occupancy": tourism_stays.occupancy(session, start=first, end=today),
            "village": village,
            "villages": villages,
            "kinds": list(StayKind),
            "people": users.names_of_holders(session, permission=TOURISM_REPORT),
            "form": form or Refused({"kind": "homestay"}, {}, None, 200),
        },
        status=form.status if form else 200,
    )


@router.get("/village/tourism/homestays")
def homestays(request: Request, session: ReadSession, a: Reader, village: Short = "") -> Response:
    return _page(request, session, village[:100])


@router.post("/village/tourism/homestays")
def add_homestay(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        body = forms.parse(HomestayIn, dict[str, Any](values))
        tourism_stays.create(session, actor=a.actor, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _page(request, session, "", Refused.of(request, exc, values))
    return redirect("/village/tourism/homestays", flash=translate(request, "Saved"))
