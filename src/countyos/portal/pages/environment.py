"""``/portal/environment``: the county's air and water now, for anyone (no sign-in, phone first).

The county's real-time AQI and each air station's latest hour (HJ 633), and each water section's latest
class against its target (GB 3838), on the county's light outline. Stations and sections only: no person,
no record of who measured or entered anything.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import NotFound
from countyos.eco.service import air, air_queries, aqi, aqi_labels, water
from countyos.geo.service import outline
from countyos.portal.pages.common import render
from countyos.web.deps import Auth, ReadSession, public

router = APIRouter(include_in_schema=False)
Public = Annotated[Auth | None, Depends(public)]


def _level(value: int | None) -> dict[str, Any] | None:
    if value is None:
        return None
    lv = aqi.level_of(value)
    return {
        "aqi": value,
        "level": aqi_labels.LEVEL_NAMES[lv.level],
        "category": aqi_labels.CATEGORY_NAMES[lv.level],
        "colour": lv.colour,
    }


def _frame(session: Session) -> outline.Outline | None:
    try:
        return outline.outline(session)
    except NotFound:
        return None


@router.get("/portal/environment")
def environment(request: Request, session: ReadSession, a: Public) -> Response:
    stations = air.list_stations(session, active_only=True)
    latest = air_queries.latest(session, station_ids=[s.id for s in stations])
    county = air_queries.county_now(session, stations=stations)
    positions = air_queries.positions(session, stations=stations)
    sections = water.current(session)
    frame = _frame(session)
    dots: list[tuple[str, str, tuple[float, float]]] = []
    rows = []
    for s in stations:
        hour = latest.get(s.id)
        level = _level(hour.aqi if hour else None)
        primary = [air.POLLUTANT_NAMES.get(p, p) for p in (hour.primary if hour else [])]
        rows.append({"station": s, "hour": hour, "level": level, "primary": primary})
        pos = positions.get(s.id)
        if frame is not None and pos is not None and (xy := frame.project(*pos)) is not None:
            dots.append(("air", level["colour"] if level else "#9ca3af", xy))
    for w in sections:
        if frame is not None and (xy := frame.project(w["lon"], w["lat"])) is not None:
            dots.append(("water", w["colour"], xy))
    index = county.index
    return render(
        request,
        "portal/environment.html",
        {
            "county": _level(index.aqi if index else None),
            "county_at": county.start,
            "county_primary": [air.POLLUTANT_NAMES.get(p, p) for p in (index.primary if index else ())],
            "stations": rows,
            "sections": sections,
            "frame": frame,
            "dots": dots,
        },
        a=a,
        tab="home",
    )
