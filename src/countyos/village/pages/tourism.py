"""Pages of the tourism part of the village domain (文旅局: ``village.tourism.read`` to see,
``village.tourism.manage`` to change; the spot's manager and the homestay's keeper on ``/village/tourism/my``):

- ``/village/tourism``: the spots on the county's outline coloured by their level, live numbers, today's
  totals, the open crowding alarms, links to the registers.
- ``/village/tourism/spots/new``, ``/village/tourism/spots/{id}`` (live, today's curve, daily totals, alarms
  and their cases, counters), ``/village/tourism/spots/{id}/edit``.
- the homestays, events, culture, holidays and the manager's page are in ``tourism_*.py`` next to this one;
  the public ``/portal/scenic`` in ``tourism_public.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.geo.service import outline
from countyos.org.service import audit, users
from countyos.village.models.tourism import ALevel, Spot
from countyos.village.pages import tourism_culture, tourism_holidays, tourism_my, tourism_public, tourism_stays
from countyos.village.pages.tourism_common import TOURISM, Keeper, Reader, render
from countyos.village.permissions import TOURISM_MANAGE, TOURISM_READ, TOURISM_REPORT
from countyos.village.schemas.tourism import CounterIn, SpotIn
from countyos.village.service import tourism, tourism_crowding, tourism_flow
from countyos.village.service import tourism_public as live_figures
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(TOURISM, N_("Scenic spots and visitors"), "/village/tourism", TOURISM_READ, order=610),
    NavItem(TOURISM, N_("Homestays and farm stays"), "/village/tourism/homestays", TOURISM_READ, order=611),
    NavItem(TOURISM, N_("Events calendar"), "/village/tourism/events", TOURISM_READ, order=612),
    NavItem(TOURISM, N_("Culture resources"), "/village/tourism/culture", TOURISM_READ, order=613),
    NavItem(TOURISM, N_("Holiday reports"), "/village/tourism/holidays", TOURISM_READ, order=614),
    NavItem(TOURISM, N_("My spot or homestay"), "/village/tourism/my", TOURISM_REPORT, order=615),
]
SPOT_FIELDS = ("name", "a_level", "capacity_instant", "capacity_daily", "opens", "closes", "manager_id", "lon", "lat")
SPOT_TEXT = ("description", "outline")
CW, CH, PAD = 640, 160, 8


def _map(session: Session, spots: list[Spot]) -> dict[str, Any]:
    try:
        frame = outline.outline(session)
    except CountyError:
        return {"frame": None, "dots": [], "shapes": []}
    dots = [(s, xy) for s in spots if s.lon is not None and s.lat is not None and (xy := frame.project(s.lon, s.lat))]
    shapes = []
    for s in spots:
        polys = (s.outline or {}).get("coordinates") or []
        if (s.outline or {}).get("type") == "Polygon":
            polys = [polys]
        d = ""
        for poly in polys:
            points = [frame.project(float(x), float(y)) for x, y, *_ in (poly[0] if poly else [])]
            if len(points) >= 3 and all(p is not None for p in points):
                d += "M" + "L".join(f"{p[0]} {p[1]}" for p in points if p is not None) + "Z"
        if d:
            shapes.append((s, d))
    return {"frame": frame, "dots": dots, "shapes": shapes}


@router.get("/village/tourism")
def overview(request: Request, session: ReadSession, a: Reader) -> Response:
    spots = tourism.list_spots(session)
    now = utcnow()
    live = {s.id: live_figures.live_of(session, s, now=now, curve=False) for s in spots}
    today = tourism_flow.local_day(now)
    return render(
        request,
        "village/tourism/overview.html",
        {
            "spots": spots,
            "live": live,
            "today": today,
            "visitors": sum(x.entries_today for x in live.values()),
            "in_park": sum(x.in_park for x in live.values()),
            "alarms": tourism_crowding.alarms_of(session, spot_ids=[s.id for s in spots], open_only=True),
            "map": _map(session, spots),
        },
    )


# --- one spot ------------------------------------------------------------------------------------


def _curve(points: list[tuple[Any, int]], capacity: int) -> dict[str, Any] | None:
    if len(points) < 2:
        return None
    t0, t1 = points[0][0], points[-1][0]
    width = (t1 - t0).total_seconds() or 1.0
    top = max(max(v for _, v in points), capacity, 1)

    def xy(at: Any, v: float) -> tuple[float, float]:
        return (
            round(PAD + (CW - 2 * PAD) * (at - t0).total_seconds() / width, 1),
            round(CH - PAD - (CH - 2 * PAD) * v / top, 1),
        )

    levels = []
    for lv in tourism.crowding_config()["levels"]:
        levels.append(
            {"y": xy(t0, capacity * lv["percent"] / 100)[1], "colour": lv["colour"], "percent": lv["percent"]}
        )
    return {"points": " ".join(f"{x},{y}" for x, y in (xy(at, v) for at, v in points)), "levels": levels,
            "first": t0, "last": t1, "top": top}  # fmt: skip


def spot_page(request: Request, session: Session, a: Auth, spot_id: int, form: Refused | None = None) -> Response:
    spot = tourism.spot_for(session, a.actor, spot_id)
    live = live_figures.live_of(session, spot)
    today = tourism_flow.local_day(utcnow())
    manager = users.colleagues(session, user_ids=[spot.manager_id]).get(spot.manager_id or 0)
    counters = tourism.counters_of(session, spot_ids=[spot.id])[spot.id]
    return render(
        request,
        "village/tourism/spot.html",
        {
            "s": spot,
            "live": live,
            "curve": _curve(live.curve, spot.capacity_instant),
            "CW": CW,
            "CH": CH,
            "daily": tourism_flow.daily(session, spot_id=spot.id, start=today - timedelta(days=60), end=today),
            "alarms": tourism_crowding.alarms_of(session, spot_ids=[spot.id]),
            "counters": counters,
            "stream_names": tourism.stream_labels(
                session, datastream_ids=[i for c in counters for i in (c.entry_datastream_id, c.exit_datastream_id)]
            ),
            "choices": tourism.counter_choices(session) if a.actor.can(TOURISM_MANAGE) else [],
            "manager": manager.display_name if manager else None,
            "form": form or Refused.empty(),
        },
        status=form.status if form else 200,
    )


@router.get("/village/tourism/spots/{spot_id:int}")
def spot_view(request: Request, spot_id: int, session: ReadSession, a: Reader) -> Response:
    return spot_page(request, session, a, spot_id)


@router.post("/village/tourism/spots/{spot_id:int}/counters")
def attach_counter(request: Request, spot_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, ("entry_datastream_id", "exit_datastream_id"))
    try:
        body = forms.parse(CounterIn, values)
        tourism.attach_counter(session, actor=a.actor, spot_id=spot_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return spot_page(request, session, a, spot_id, Refused.of(request, exc, values))
    return redirect(f"/village/tourism/spots/{spot_id}", flash=translate(request, "Saved"))


# --- the spot form -------------------------------------------------------------------------------


def _values(s: Spot) -> dict[str, str]:
    return {
        "name": s.name,
        "a_level": s.a_level.value,
        "capacity_instant": str(s.capacity_instant),
        "capacity_daily": str(s.capacity_daily),
        "opens": s.opens,
        "closes": s.closes,
        "manager_id": str(s.manager_id or ""),
        "lon": f"{s.lon:.6f}" if s.lon is not None else "",
        "lat": f"{s.lat:.6f}" if s.lat is not None else "",
        "description": s.description,
        "outline": json.dumps(s.outline, ensure_ascii=False) if s.outline else "",
    }


def _form(request: Request, session: Session, s: Spot | None, form: Refused | None = None) -> Response:
    blank = Refused(_values(s) if s else {"a_level": "none", "opens": "08:00", "closes": "17:30"}, {}, None, 200)
    managers = users.names_of_holders(session, permission=TOURISM_REPORT)
    return render(
        request,
        "village/tourism/spot_form.html",
        {"s": s, "form": form or blank, "a_levels": list(ALevel), "managers": managers},
        status=form.status if form else 200,
    )


@router.get("/village/tourism/spots/new")
def new_spot(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form(request, session, None)


@router.get("/village/tourism/spots/{spot_id:int}/edit")
def edit_spot(request: Request, spot_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form(request, session, tourism.get_spot(session, spot_id=spot_id))


def _save(request: Request, session: Session, a: Auth, form: Any, spot_id: int | None) -> Response:
    values = forms.typed(form, (*SPOT_FIELDS, *SPOT_TEXT))
    try:
        data: dict[str, Any] = {k: values[k] for k in SPOT_FIELDS}
        data["description"] = values["description"]
        if values["outline"].strip():
            try:
                data["outline"] = json.loads(values["outline"][:400_000])
            except ValueError:
                raise tourism.field_error("outline", N_("The outline must be a GeoJSON polygon")) from None
        body = forms.parse(SpotIn, data)
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            if spot_id is None:
                spot = tourism.create_spot(session, actor=a.actor, data=body)
            else:
                from countyos.village.schemas.tourism import SpotPatch

                patch = SpotPatch.model_validate({**body.model_dump(), "outline": body.outline})
                spot = tourism.update_spot(session, actor=a.actor, spot_id=spot_id, data=patch)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        current = tourism.get_spot(session, spot_id=spot_id) if spot_id is not None else None
        return _form(request, session, current, Refused.of(request, exc, values))
    return redirect(f"/village/tourism/spots/{spot.id}", flash=translate(request, "Saved"))


@router.post("/village/tourism/spots/new")
def create_spot(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save(request, session, a, form, None)


@router.post("/village/tourism/spots/{spot_id:int}/edit")
def update_spot(request: Request, spot_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    tourism.get_spot(session, spot_id=spot_id)
    return _save(request, session, a, form, spot_id)


for part in (tourism_stays, tourism_culture, tourism_holidays, tourism_my, tourism_public):
    router.include_router(part.router)

# The audit log names every write of the tourism part.
audit.name_codes(
    actions={
        "village.tourism.spot.create": N_("Scenic spot added"),
        "village.tourism.spot.update": N_("Scenic spot changed"),
        "village.tourism.counter.attach": N_("Visitor counter attached to a scenic spot"),
        "village.tourism.crowding": N_("Scenic spot's crowding level changed"),
        "village.tourism.spot.revenue": N_("Scenic spot's revenue reported"),
        "village.tourism.homestay.create": N_("Homestay added"),
        "village.tourism.homestay.update": N_("Homestay changed"),
        "village.tourism.homestay.report": N_("Homestay's occupancy reported"),
        "village.tourism.event.create": N_("Event added to the calendar"),
        "village.tourism.heritage.create": N_("Intangible heritage item added"),
        "village.tourism.inheritor.create": N_("Heritage inheritor added"),
        "village.tourism.village.create": N_("Traditional village added"),
    },
    targets={
        "village_spot": N_("Scenic spot"),
        "village_homestay": N_("Homestay"),
        "village_tourism_event": N_("Event"),
        "village_heritage_item": N_("Intangible heritage item"),
        "village_traditional_village": N_("Traditional village"),
    },
)
