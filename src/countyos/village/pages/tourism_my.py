"""``/village/tourism/my`` (phone first): the manager's spot now with the day's revenue form, and the
keeper's homestay with today's occupancy report form (a second report of a day replaces the first)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.village.pages.tourism_common import render
from countyos.village.permissions import TOURISM_REPORT
from countyos.village.schemas.tourism import RevenueIn, StayReportIn
from countyos.village.service import tourism, tourism_flow, tourism_holidays, tourism_public, tourism_stays
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
Reporter = Annotated[Auth, Depends(require(TOURISM_REPORT))]


def _page(request: Request, session: Session, a: Auth, form: Refused | None = None) -> Response:
    today = tourism_flow.local_day(utcnow())
    spots = tourism.my_spots(session, a.actor)
    stays = tourism_stays.my_stays(session, a.actor)
    spot_rows = []
    for s in spots:
        rows = tourism_flow.daily(session, spot_id=s.id, start=today, end=today)
        spot_rows.append(
            {"s": s, "live": tourism_public.live_of(session, s, curve=False), "today": rows[0] if rows else None}
        )
    stay_rows = [{"h": h, "today": tourism_stays.report_of(session, homestay_id=h.id, day=today)} for h in stays]
    return render(
        request,
        "village/tourism/my.html",
        {"spots": spot_rows, "stays": stay_rows, "today": today, "form": form or Refused.empty()},
        status=form.status if form else 200,
    )


@router.get("/village/tourism/my")
def my_page(request: Request, session: ReadSession, a: Reporter) -> Response:
    return _page(request, session, a)


@router.post("/village/tourism/my/spots/{spot_id:int}/revenue")
def report_revenue(request: Request, spot_id: int, session: WriteSession, a: Reporter, form: PostedForm) -> Response:
    values = forms.typed(form, ("day", "revenue"))
    try:
        body = forms.parse(RevenueIn, dict[str, Any](values))
        tourism_holidays.report_revenue(session, actor=a.actor, spot_id=spot_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _page(request, session, a, Refused.of(request, exc, values, which=f"spot-{spot_id}"))
    return redirect("/village/tourism/my", flash=translate(request, "Saved"))


@router.post("/village/tourism/my/homestays/{homestay_id:int}/report")
def report_stay(request: Request, homestay_id: int, session: WriteSession, a: Reporter, form: PostedForm) -> Response:
    values = forms.typed(form, ("day", "rooms_occupied", "guests", "revenue"))
    try:
        body = forms.parse(StayReportIn, dict[str, Any](values))
        tourism_stays.report(session, actor=a.actor, homestay_id=homestay_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _page(request, session, a, Refused.of(request, exc, values, which=f"stay-{homestay_id}"))
    return redirect("/village/tourism/my", flash=translate(request, "Report saved"))
