"""Pages of the air part: ``/eco/monitor`` (the 生态环境局's view: the map of air stations and water
sections, the county's AQI, the stations, the open exceedances), a station's page (trends of the last
48 hours and 30 days, the hourly table with invalid hours marked) and the station editor."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import county_zone, utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.eco.models.air import AirStation, StationKind
from countyos.eco.permissions import MONITOR_MANAGE, MONITOR_READ
from countyos.eco.schemas.air import MAX_ID, ComputeIn, StationIn
from countyos.eco.service import air, air_charts, air_compute, air_queries, aqi, aqi_labels, water
from countyos.sensing.service import devices
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
ECO = N_("Ecology")  # the navigation group of the ecology pages (as the other parts)
NAV = [
    NavItem(ECO, N_("Ecology monitoring"), "/eco/monitor", MONITOR_READ, order=500),
    NavItem(ECO, N_("Add an air station"), "/eco/air/stations/new", MONITOR_MANAGE, order=501),
]
Reader = Annotated[Auth, Depends(require(MONITOR_READ))]
Keeper = Annotated[Auth, Depends(require(MONITOR_MANAGE))]
StationId = Annotated[int, Path(ge=1, le=MAX_ID)]
FIELDS = ("code", "name", "thing_id", "kind", "division_code", "place")
RECOMPUTE_DAYS = (1, 7, 31)
LABELS = {
    "pollutants": air.POLLUTANT_NAMES,
    "kind_labels": air.KIND_NAMES,
    "unit_of": air.unit_of,
    "level_of": aqi.level_of,
    "aqi_level_names": aqi_labels.LEVEL_NAMES,
    "aqi_category_names": aqi_labels.CATEGORY_NAMES,
    "hourly_keys": tuple(aqi.HOURLY),
    "daily_keys": tuple(aqi.DAILY),
}


@router.get("/eco/monitor")
def monitor(request: Request, session: ReadSession, a: Reader) -> Response:
    stations = air.list_stations(session)
    last = air_queries.latest(session, station_ids=[s.id for s in stations])
    now = utcnow()
    yesterday = air_compute.day_start(now) - timedelta(days=1)
    air_features = air_queries.map_features(session)
    water_features = water.map_features(session)
    frame = air_charts.map_frame(session, [("water", f) for f in water_features] + [("air", f) for f in air_features])
    return templates(request).render(
        request,
        "eco/air/monitor.html",
        {
            "stations": stations,
            "last": last,
            "county_now": air_queries.county_now(session, stations=stations),
            "county_day": air_queries.county_day(session, stations=stations, start=yesterday),
            "exceedances": air_queries.open_exceedances(session, stations=stations),
            "recent": air_queries.recent_exceedances(session, stations=stations, since=now - timedelta(days=30)),
            "frame": frame,
            "water": water_features,
            "can_manage": a.actor.can(MONITOR_MANAGE),
            **LABELS,
        },
    )


@router.get("/eco/air/stations/{station_id:int}")
def station_page(request: Request, station_id: StationId, session: ReadSession, a: Reader) -> Response:
    station = air.get(session, station_id=station_id)
    end = air_compute.hour_floor(utcnow())
    hours = _slots(air_queries.hourly(session, station_id=station.id, start=end - timedelta(hours=48), end=end),
                   end - timedelta(hours=48), timedelta(hours=1), 48)  # fmt: skip
    day_end = air_compute.day_start(utcnow())
    days = _slots(air_queries.daily(session, station_id=station.id, start=day_end - timedelta(days=30), end=day_end),
                  day_end - timedelta(days=30), timedelta(days=1), 30)  # fmt: skip
    tz = county_zone()
    h_times = [t.astimezone(tz) for t, _ in hours]
    d_times = [t.astimezone(tz) for t, _ in days]
    charts = {
        "aqi_hours": air_charts.aqi_bars(h_times, [r.aqi if r else None for _, r in hours], "%H时", 6),
        "aqi_days": air_charts.aqi_bars(d_times, [r.aqi if r else None for _, r in days], "%m-%d", 5),
        "pollutants": [
            (p, air_charts.line(h_times, [getattr(r, p) if r else None for _, r in hours], "%H时", 6))
            for p in aqi.POLLUTANTS
        ],
    }
    thing = air.thing_of(session, station)
    return templates(request).render(
        request,
        "eco/air/station.html",
        {
            "station": station,
            "thing": thing,
            "hours": list(reversed(hours)),
            "days": list(reversed(days)),
            "charts": charts,
            "can_manage": a.actor.can(MONITOR_MANAGE),
            "recompute_days": RECOMPUTE_DAYS,
            **LABELS,
        },
    )


def _slots(rows: list[Any], start: Any, step: timedelta, n: int) -> list[tuple[Any, Any]]:
    """Every slot of the period with its stored row (None where none was stored)."""
    by = {r.start: r for r in rows}
    return [(start + k * step, by.get(start + k * step)) for k in range(n)]


def _editor(
    request: Request, session: Session, *, station: AirStation | None, form: Refused | None = None, status: int = 200
) -> Response:
    if form is None:
        values: dict[str, Any] = {}
        if station is not None:
            values = {f: str(getattr(station, f) or "") for f in FIELDS}
            values["kind"] = str(station.kind.value)
            values["active"] = "1" if station.active else ""
            values.update({f"stream_{p}": str(ds) for p, ds in (station.streams or {}).items()})
        else:
            values = {"kind": StationKind.COUNTY.value, "active": "1"}
        form = Refused(values, {}, None, 200)
    thing_id = str(form.values.get("thing_id") or "")
    streams = devices.datastreams_of(session, thing_id=int(thing_id)) if thing_id.isdigit() else []
    return templates(request).render(
        request,
        "eco/air/edit.html",
        {
            "station": station,
            "form": form,
            "things": air.air_devices(session),
            "streams": streams,
            "kinds": list(StationKind),
            **LABELS,
        },
        status_code=status,
    )


@router.get("/eco/air/stations/new")
def new_station(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _editor(request, session, station=None)


@router.get("/eco/air/stations/{station_id:int}/edit")
def edit_station(request: Request, station_id: StationId, session: ReadSession, a: Keeper) -> Response:
    return _editor(request, session, station=air.get(session, station_id=station_id))


def _posted_station(form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What was typed, and the model's input: the stream fields become ``streams`` when any is given
    (all empty: found by the device's metric names)."""
    values: dict[str, Any] = forms.typed(form, (*FIELDS, *(f"stream_{p}" for p in aqi.POLLUTANTS)))
    values["active"] = "1" if form.get("active") else ""
    data: dict[str, Any] = {k: values[k] for k in FIELDS}
    streams = {p: values[f"stream_{p}"].strip() for p in aqi.POLLUTANTS if values[f"stream_{p}"].strip()}
    if streams:
        data["streams"] = streams
    data["active"] = bool(values["active"])
    return values, data


@router.post("/eco/air/stations/new")
def create_station(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values, data = _posted_station(form)
    try:
        station = air.create(session, actor=a.actor, data=forms.parse(StationIn, data))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _editor(request, session, station=None, form=refused, status=refused.status)
    return redirect(f"/eco/air/stations/{station.id}", flash=translate(request, "Saved"))


@router.post("/eco/air/stations/{station_id:int}/edit")
def update_station(
    request: Request, station_id: StationId, session: WriteSession, a: Keeper, form: PostedForm
) -> Response:
    values, data = _posted_station(form)
    try:
        station = air.update(session, actor=a.actor, station_id=station_id, data=forms.parse(StationIn, data))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _editor(request, session, station=air.get(session, station_id=station_id), form=refused,
                       status=refused.status)  # fmt: skip
    return redirect(f"/eco/air/stations/{station.id}", flash=translate(request, "Saved"))


@router.post("/eco/air/stations/{station_id:int}/compute")
def recompute(request: Request, station_id: StationId, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    """Recompute the last 1, 7 or 31 days of the station (hours, days, exceedances not yet weighed)."""
    days = forms.typed(form, ("days",))["days"]
    n = int(days) if days.isdigit() and int(days) in RECOMPUTE_DAYS else 1
    end = air_compute.hour_floor(utcnow())
    body = ComputeIn(start=end - timedelta(days=n), end=end)
    done = air_compute.compute_period(session, actor=a.actor, station_id=station_id, start=body.start, end=body.end)
    message = translate(request, "Recomputed %(hours)s hours and %(days)s days", hours=done.hours, days=done.days)
    return redirect(f"/eco/air/stations/{station_id}", flash=message)
