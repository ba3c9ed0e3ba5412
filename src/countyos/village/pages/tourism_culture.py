"""``/village/tourism/events`` (the calendar) and ``/village/tourism/culture`` (非遗 items with their
inheritors, 传统村落), each with its form for the bureau."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import county_zone, utcnow
from countyos.core.errors import CountyError
from countyos.village.models.tourism import EventKind, HeritageLevel
from countyos.village.pages.tourism_common import Keeper, Reader, render
from countyos.village.schemas.tourism import EventIn, HeritageItemIn, InheritorIn, TraditionalVillageIn
from countyos.village.service import tourism, tourism_culture
from countyos.village.service.tourism_flow import local_day
from countyos.web import forms
from countyos.web.deps import ReadSession, WriteSession
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
EVENT_FIELDS = ("title", "kind", "starts_at", "ends_at", "place", "spot_id", "description")


def _local(text: str) -> str | datetime:
    """A ``datetime-local`` field read in the county's time zone."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=county_zone())
    except ValueError:
        return text


def _events_page(request: Request, session: Session, form: Refused | None = None) -> Response:
    start = datetime.combine(local_day(utcnow()) - timedelta(days=90), time(0), tzinfo=county_zone())
    return render(
        request,
        "village/tourism/events.html",
        {
            "rows": tourism_culture.list_events(session, start=start),
            "spots": {s.id: s.name for s in tourism.list_spots(session, active_only=False)},
            "kinds": list(EventKind),
            "form": form or Refused({"kind": "festival"}, {}, None, 200),
        },
        status=form.status if form else 200,
    )


@router.get("/village/tourism/events")
def events(request: Request, session: ReadSession, a: Reader) -> Response:
    return _events_page(request, session)


@router.post("/village/tourism/events")
def add_event(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, (*EVENT_FIELDS, "public"))
    try:
        data: dict[str, Any] = {k: values[k] for k in EVENT_FIELDS}
        data["starts_at"], data["ends_at"] = _local(values["starts_at"]), _local(values["ends_at"])
        data["public"] = values["public"] == "on"
        tourism_culture.create_event(session, actor=a.actor, data=forms.parse(EventIn, data))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _events_page(request, session, Refused.of(request, exc, values))
    return redirect("/village/tourism/events", flash=translate(request, "Saved"))


def _culture_page(request: Request, session: Session, form: Refused | None = None) -> Response:
    items = tourism_culture.list_items(session)
    inheritors = tourism_culture.list_inheritors(session)
    by_item: dict[int, list[Any]] = {}
    for p in inheritors:
        by_item.setdefault(p.item_id, []).append(p)
    locale = getattr(request.state, "locale", "zh_CN")
    return render(
        request,
        "village/tourism/culture.html",
        {
            "items": items,
            "by_item": by_item,
            "villages": tourism_culture.list_villages(session),
            "categories": {c: tourism_culture.category_name(c, locale) for c in tourism_culture.heritage_categories()},
            "levels": list(HeritageLevel),
            "form": form or Refused.empty(),
        },
        status=form.status if form else 200,
    )


@router.get("/village/tourism/culture")
def culture(request: Request, session: ReadSession, a: Reader) -> Response:
    return _culture_page(request, session)


FORMS: dict[str, tuple[type[BaseModel], tuple[str, ...]]] = {
    "item": (HeritageItemIn, ("name", "level", "category", "description", "listed_year")),
    "inheritor": (InheritorIn, ("item_id", "name", "level")),
    "village": (TraditionalVillageIn, ("name", "village_code", "town", "batch", "listed_year", "description")),
}


@router.post("/village/tourism/culture/{which}")
def add_culture(request: Request, which: str, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    model, fields = FORMS.get(which, FORMS["item"])
    values = forms.typed(form, fields)
    try:
        body = forms.parse(model, dict[str, Any](values))
        if isinstance(body, HeritageItemIn):
            tourism_culture.create_item(session, actor=a.actor, data=body)
        elif isinstance(body, InheritorIn):
            tourism_culture.create_inheritor(session, actor=a.actor, data=body)
        elif isinstance(body, TraditionalVillageIn):
            tourism_culture.create_village(session, actor=a.actor, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _culture_page(request, session, Refused.of(request, exc, values, which=which))
    return redirect("/village/tourism/culture", flash=translate(request, "Saved"))
