"""Reads of the air part for the API and the pages: the stored hours and days of a station, each
station's latest hour, the county's index (the stations' mean concentrations, as HJ 633 reports a city
from its points), the open exceedances and the stations as map features."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.eco.models.air import AirDaily, AirHourly, AirStation
from countyos.eco.service import air, air_compute, aqi
from countyos.sensing.models import Alarm, AlarmKind, AlarmState, Thing

MAX_ROWS = 24 * 62  # the longest list one request reads (hours of two months)


def hourly(session: Session, *, station_id: int, start: datetime, end: datetime) -> list[AirHourly]:
    return list(
        session.scalars(
            select(AirHourly)
            .where(AirHourly.station_id == station_id, AirHourly.start >= start, AirHourly.start < end)
            .order_by(AirHourly.start)
            .limit(MAX_ROWS)
        )
    )


def daily(session: Session, *, station_id: int, start: datetime, end: datetime) -> list[AirDaily]:
    return list(
        session.scalars(
            select(AirDaily)
            .where(AirDaily.station_id == station_id, AirDaily.start >= start, AirDaily.start < end)
            .order_by(AirDaily.start)
            .limit(MAX_ROWS)
        )
    )


def latest(session: Session, *, station_ids: list[int]) -> dict[int, AirHourly]:
    """Each station's latest hour with an AQI."""
    if not station_ids:
        return {}
    newest = (
        select(AirHourly.station_id, func.max(AirHourly.start).label("start"))
        .where(AirHourly.station_id.in_(station_ids), AirHourly.aqi.is_not(None))
        .group_by(AirHourly.station_id)
        .subquery()
    )
    rows = session.scalars(
        select(AirHourly).join(
            newest, (AirHourly.station_id == newest.c.station_id) & (AirHourly.start == newest.c.start)
        )
    )
    return {r.station_id: r for r in rows}


@dataclass(frozen=True)
class CountyIndex:
    start: datetime | None
    index: aqi.AirIndex | None
    stations: int  # how many stations the mean is of


def _mean_index(rows: list[Any], keys: tuple[str, ...], hourly_: bool) -> aqi.AirIndex | None:
    values: dict[str, float | None] = {}
    for k in keys:
        got = [getattr(r, k) for r in rows if getattr(r, k) is not None]
        values[k] = air_compute.rounded(k, sum(got) / len(got)) if got else None
    index = aqi.hourly_aqi(values) if hourly_ else aqi.daily_aqi(values)
    return index if index.aqi is not None else None


def county_now(session: Session, *, stations: list[AirStation]) -> CountyIndex:
    """The county's real-time index: the mean of the active stations' concentrations in the latest hour
    any of them has."""
    ids = [s.id for s in stations if s.active]
    if not ids:
        return CountyIndex(None, None, 0)
    last = session.scalar(
        select(func.max(AirHourly.start)).where(AirHourly.station_id.in_(ids), AirHourly.aqi.is_not(None))
    )
    if last is None:
        return CountyIndex(None, None, 0)
    rows = list(session.scalars(select(AirHourly).where(AirHourly.station_id.in_(ids), AirHourly.start == last)))
    return CountyIndex(last, _mean_index(rows, tuple(aqi.HOURLY), True), len(rows))


def county_day(session: Session, *, stations: list[AirStation], start: datetime) -> CountyIndex:
    """The county's daily index of the local day beginning at START."""
    ids = [s.id for s in stations if s.active]
    rows = list(session.scalars(select(AirDaily).where(AirDaily.station_id.in_(ids), AirDaily.start == start)))
    rows = [r for r in rows if r.aqi is not None]
    if not rows:
        return CountyIndex(start, None, 0)
    return CountyIndex(start, _mean_index(rows, tuple(aqi.DAILY), False), len(rows))


def open_exceedances(session: Session, *, stations: list[AirStation]) -> list[tuple[Alarm, AirStation]]:
    """The stations' index alarms not yet cleared, newest first."""
    by_thing = {s.thing_id: s for s in stations}
    if not by_thing:
        return []
    alarms = session.scalars(
        select(Alarm)
        .where(
            Alarm.kind == AlarmKind.INDEX,
            Alarm.thing_id.in_(list(by_thing)),
            Alarm.state.in_([AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED]),
        )
        .order_by(Alarm.last_raised_at.desc())
        .limit(100)
    )
    return [(a, by_thing[a.thing_id]) for a in alarms]


def recent_exceedances(
    session: Session, *, stations: list[AirStation], since: datetime, limit: int = 20
) -> list[tuple[Alarm, AirStation]]:
    """The stations' index alarms cleared since SINCE, newest first (the episodes of the last weeks)."""
    by_thing = {s.thing_id: s for s in stations}
    if not by_thing:
        return []
    alarms = session.scalars(
        select(Alarm)
        .where(
            Alarm.kind == AlarmKind.INDEX,
            Alarm.thing_id.in_(list(by_thing)),
            Alarm.state == AlarmState.CLEARED,
            Alarm.cleared_at >= since,
        )
        .order_by(Alarm.cleared_at.desc())
        .limit(limit)
    )
    return [(a, by_thing[a.thing_id]) for a in alarms]


def positions(session: Session, *, stations: list[AirStation]) -> dict[int, tuple[float, float]]:
    ids = [s.thing_id for s in stations]
    if not ids:
        return {}
    rows = session.execute(select(Thing.id, Thing.lon, Thing.lat).where(Thing.id.in_(ids))).all()
    pos = {tid: (lon, lat) for tid, lon, lat in rows if lon is not None and lat is not None}
    return {s.id: pos[s.thing_id] for s in stations if s.thing_id in pos}


def map_features(session: Session) -> list[dict[str, Any]]:
    """Every active station as a GeoJSON Feature coloured by its latest AQI."""
    stations = air.list_stations(session, active_only=True)
    last = latest(session, station_ids=[s.id for s in stations])
    where = positions(session, stations=stations)
    out = []
    for s in stations:
        if s.id not in where:
            continue
        row = last.get(s.id)
        level = aqi.level_of(row.aqi) if row is not None and row.aqi is not None else None
        out.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(where[s.id])},
                "properties": {
                    "id": s.id,
                    "name": s.name,
                    "aqi": row.aqi if row else None,
                    "category": level.category_zh if level else None,
                    "colour": level.colour if level else "#9e9e9e",
                    "at": row.start.isoformat() if row else None,
                    "url": f"/eco/air/stations/{s.id}",
                },
            }
        )
    return out
