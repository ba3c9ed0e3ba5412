"""API of the air part (HJ 633-2012), mounted under /api/v1/eco: the public AQI calculator, the
stations with their latest hour, their hourly and daily indices over bounded ranges, the station
editor's writes and an on-demand recomputation. Errors are problem+json."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from countyos.core.clock import county_zone, utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.eco.models.air import AirDaily, AirHourly, AirStation
from countyos.eco.permissions import MONITOR_MANAGE, MONITOR_READ
from countyos.eco.schemas.air import (
    MAX_ID,
    AqiIn,
    AqiOut,
    ComputeIn,
    ComputeOut,
    DailyOut,
    HourlyOut,
    StationIn,
    StationOut,
)
from countyos.eco.service import air, air_compute, air_queries, aqi
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require

router = APIRouter(prefix="/air", tags=["eco"])
Reader = Annotated[Auth, Depends(require(MONITOR_READ))]
Keeper = Annotated[Auth, Depends(require(MONITOR_MANAGE))]
StationId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_HOURLY_DAYS = 31
MAX_DAILY_DAYS = 366


def index_out(index: aqi.AirIndex) -> AqiOut:
    return AqiOut(
        averaging=index.averaging,
        concentrations=index.concentrations,
        iaqi=index.iaqi,
        aqi=index.aqi,
        primary=list(index.primary),
        exceeding=list(index.exceeding),
        level=index.level,
        level_name=index.level_name,
        category=index.category,
        colour=index.colour,
        capped=list(index.capped),
        substituted=index.substituted,
    )


def _level(aqi_value: int | None) -> tuple[str | None, str | None]:
    if aqi_value is None:
        return None, None
    lv = aqi.level_of(aqi_value)
    return lv.category_zh, lv.colour


def hourly_out(r: AirHourly) -> HourlyOut:
    category, colour = _level(r.aqi)
    return HourlyOut(
        start=r.start,
        concentrations={p: getattr(r, p) for p in aqi.HOURLY},
        o3_8h=r.o3_8h,
        minutes=r.minutes or {},
        iaqi=r.iaqi or {},
        aqi=r.aqi,
        level=r.level,
        category=category,
        colour=colour,
        primary=r.primary or [],
        exceeding=r.exceeding or [],
        valid=r.valid,
        flags=r.flags or {},
    )


def daily_out(r: AirDaily) -> DailyOut:
    category, colour = _level(r.aqi)
    return DailyOut(
        start=r.start,
        day=r.start.astimezone(county_zone()).date().isoformat(),
        concentrations={k: getattr(r, k) for k in aqi.DAILY},
        hours=r.hours or {},
        iaqi=r.iaqi or {},
        aqi=r.aqi,
        level=r.level,
        category=category,
        colour=colour,
        primary=r.primary or [],
        exceeding=r.exceeding or [],
        valid=r.valid,
        flags=r.flags or {},
    )


def station_out(session: Session, s: AirStation, *, latest: AirHourly | None = None) -> StationOut:
    thing = air.thing_of(session, s)
    return StationOut(
        id=s.id,
        code=s.code,
        name=s.name,
        thing_id=s.thing_id,
        kind=s.kind,
        kind_label=gettext(air.KIND_NAMES[s.kind]),
        division_code=s.division_code,
        place=s.place,
        streams={k: int(v) for k, v in (s.streams or {}).items()},
        active=s.active,
        lon=thing.lon,
        lat=thing.lat,
        url=f"/eco/air/stations/{s.id}",
        latest=hourly_out(latest) if latest is not None else None,
    )


@router.post("/aqi", dependencies=[Depends(public)])
def calculate(body: AqiIn) -> AqiOut:
    """HJ 633-2012 sub-indices, AQI, primary and exceeding pollutants, level, category and colour of the
    given concentrations (µg/m³; CO mg/m³). Nothing is stored."""
    values: dict[str, float | None] = {str(k): v for k, v in body.concentrations.items()}
    try:
        index = aqi.hourly_aqi(values, so2_24h=body.so2_24h) if body.averaging == "hour" else aqi.daily_aqi(values)
    except ValueError:
        raise ValidationFailed(N_("The concentrations are not valid")) from None
    return index_out(index)


@router.get("/stations")
def list_stations(session: ReadSession, a: Reader) -> list[StationOut]:
    """Every station (at most a county's few hundred) with its latest hour that has an AQI."""
    stations = air.list_stations(session)[:1000]
    last = air_queries.latest(session, station_ids=[s.id for s in stations])
    return [station_out(session, s, latest=last.get(s.id)) for s in stations]


@router.get("/stations/{station_id}")
def get_station(station_id: StationId, session: ReadSession, a: Reader) -> StationOut:
    s = air.get(session, station_id=station_id)
    return station_out(session, s, latest=air_queries.latest(session, station_ids=[s.id]).get(s.id))


def _range(start: datetime | None, end: datetime | None, default: timedelta, most: int) -> tuple[datetime, datetime]:
    end = end or utcnow()
    start = start or end - default
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed(N_("Give times with a time zone"))
    if end <= start:
        raise ValidationFailed(N_("The end must come after the start"))
    if end - start > timedelta(days=most):
        raise ValidationFailed(N_("The range is too long (at most %(days)s days)"), days=most)
    return start, end


@router.get("/stations/{station_id}/hourly")
def station_hourly(
    station_id: StationId,
    session: ReadSession,
    a: Reader,
    start: Annotated[datetime | None, Query()] = None,
    end: Annotated[datetime | None, Query()] = None,
) -> list[HourlyOut]:
    """Stored hours in [start, end) (at most 31 days; default the last 48 hours)."""
    air.get(session, station_id=station_id)
    lo, hi = _range(start, end, timedelta(hours=48), MAX_HOURLY_DAYS)
    return [hourly_out(r) for r in air_queries.hourly(session, station_id=station_id, start=lo, end=hi)]


@router.get("/stations/{station_id}/daily")
def station_daily(
    station_id: StationId,
    session: ReadSession,
    a: Reader,
    start: Annotated[datetime | None, Query()] = None,
    end: Annotated[datetime | None, Query()] = None,
) -> list[DailyOut]:
    """Stored local days beginning in [start, end) (at most 366 days; default the last 30)."""
    air.get(session, station_id=station_id)
    lo, hi = _range(start, end, timedelta(days=30), MAX_DAILY_DAYS)
    return [daily_out(r) for r in air_queries.daily(session, station_id=station_id, start=lo, end=hi)]


@router.post("/stations", status_code=201)
def create_station(body: StationIn, session: WriteSession, a: Keeper) -> StationOut:
    return station_out(session, air.create(session, actor=a.actor, data=body))


@router.put("/stations/{station_id}")
def replace_station(station_id: StationId, body: StationIn, session: WriteSession, a: Keeper) -> StationOut:
    return station_out(session, air.update(session, actor=a.actor, station_id=station_id, data=body))


@router.post("/stations/{station_id}/compute")
def compute_station(station_id: StationId, body: ComputeIn, session: WriteSession, a: Keeper) -> ComputeOut:
    """Recompute the station's complete hours in [start, end) (at most 31 days) and the days they complete."""
    done = air_compute.compute_period(session, actor=a.actor, station_id=station_id, start=body.start, end=body.end)
    return ComputeOut(hours=done.hours, days=done.days, exceedances=done.exceedances)
