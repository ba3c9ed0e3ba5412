"""Hourly and daily indices of the air stations from the sensing domain's hourly rollups, stored with
idempotent upserts, and the exceedances they raise.

An hour (``start`` in UTC) is computed once it is complete; the job recomputes the last few hours on
every run so that late observations count, and a local day (Asia/Shanghai, the county's time zone)
once all its hours are complete. Each hour is weighed against the limit once (``checked_until`` on the
station): above it raises (or repeats) the station's ``index`` alarm, which opens a case on its first
raise; back within it clears the alarm. A later recomputation of an hour already weighed changes the
stored index but raises nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_zone, utcnow
from countyos.eco.models.air import AirDaily, AirHourly, AirStation
from countyos.eco.service import air, air_averages, aqi, exceed
from countyos.org.service import audit
from countyos.sensing.models import RollupHour, Severity
from countyos.sensing.service.times import from_us, to_us

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RECOMPUTE_HOURS = 6  # how far back each run looks again for late observations
LOOKBACK = 23 * HOUR  # hours before a range that its 8-hour and 24-hour averages need


def hour_floor(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return t.replace(minute=0, second=0, microsecond=0)


def day_start(t: datetime) -> datetime:
    """Local midnight (in UTC) of the county's day that contains T."""
    local = t.astimezone(county_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def rounded(key: str, value: float | None) -> float | None:
    if value is None:
        return None
    decimals: int = aqi.table()["decimals"].get(key.split("_")[0], 0)
    return float(round(value, decimals))


@dataclass(frozen=True)
class HourValues:
    values: dict[str, float | None]  # pollutant → valid, rounded hourly value
    minutes: dict[str, float]  # pollutant → minutes of data in the hour


def hour_values(session: Session, *, station: AirStation, start: datetime, end: datetime) -> dict[datetime, HourValues]:
    """Each hour of [start, end) of the station's pollutants from the hourly rollups."""
    by_ds = {int(ds): p for p, ds in (station.streams or {}).items() if p in aqi.POLLUTANTS}
    interval = air.thing_of(session, station).expected_interval_s
    raw: dict[datetime, dict[str, tuple[int, float | None]]] = {}
    if by_ds:
        rows = session.execute(
            select(RollupHour.datastream_id, RollupHour.bucket_us, RollupHour.n, RollupHour.vsum).where(
                RollupHour.datastream_id.in_(list(by_ds)),
                RollupHour.bucket_us >= to_us(start),
                RollupHour.bucket_us < to_us(end),
            )
        ).all()
        for ds, bucket, n, vsum in rows:
            raw.setdefault(from_us(bucket), {})[by_ds[ds]] = (n, vsum)
    out: dict[datetime, HourValues] = {}
    h = hour_floor(start)
    while h < end:
        got = raw.get(h, {})
        values: dict[str, float | None] = {}
        minutes: dict[str, float] = {}
        for p in aqi.POLLUTANTS:
            n, vsum = got.get(p, (0, None))
            minutes[p] = air_averages.minutes_of(n, interval) if n else 0.0
            values[p] = rounded(p, air_averages.hour_value(n, vsum, interval))
        out[h] = HourValues(values, minutes)
        h += HOUR
    return out


def _apply_index(row: AirHourly | AirDaily, index: aqi.AirIndex) -> None:
    row.iaqi = dict(index.iaqi)
    row.aqi, row.level = index.aqi, index.level
    row.primary, row.exceeding = list(index.primary), list(index.exceeding)
    row.flags = {"capped": list(index.capped), "substituted": dict(index.substituted)}
    row.computed_at = utcnow()


def compute_hours(
    session: Session, *, station: AirStation, start: datetime, end: datetime, now: datetime | None = None
) -> list[AirHourly]:
    """Compute and store the station's complete hours in [start, end); the rows in time order."""
    start, end = hour_floor(start), min(end, hour_floor(now or utcnow()))
    if end <= start:
        return []
    data = hour_values(session, station=station, start=start - LOOKBACK, end=end)
    have = {
        r.start: r
        for r in session.scalars(
            select(AirHourly).where(AirHourly.station_id == station.id, AirHourly.start >= start, AirHourly.start < end)
        )
    }
    out: list[AirHourly] = []
    h = start
    while h < end:
        hv = data[h]
        window = [data[h - k * HOUR].values["o3"] for k in range(7, -1, -1)]
        o3_8h = rounded("o3", air_averages.moving_8h(window))
        so2_24h = rounded("so2", air_averages.day_mean([data[h - k * HOUR].values["so2"] for k in range(23, -1, -1)]))
        index = aqi.hourly_aqi(hv.values, so2_24h=so2_24h)
        row = have.get(h)
        if row is None:
            row = AirHourly(station_id=station.id, start=h)
            session.add(row)
        row.so2, row.no2, row.co, row.o3 = (hv.values[p] for p in ("so2", "no2", "co", "o3"))
        row.pm10, row.pm25, row.o3_8h = hv.values["pm10"], hv.values["pm25"], o3_8h
        row.minutes = dict(hv.minutes)
        row.valid = all(v is not None for v in hv.values.values())
        _apply_index(row, index)
        out.append(row)
        h += HOUR
    session.flush()
    return out


def daily_values(hours: Sequence[HourValues]) -> tuple[dict[str, float | None], dict[str, int]]:
    """The day's values for :func:`aqi.daily_aqi` from its 24 hours, and the valid hours (windows) of each."""
    values: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for p in ("so2", "no2", "co", "pm10", "pm25"):
        series = [h.values[p] for h in hours]
        values[p] = rounded(p, air_averages.day_mean(series))
        counts[p] = sum(v is not None for v in series)
    o3 = [h.values["o3"] for h in hours]
    values["o3_1h"] = rounded("o3", air_averages.day_max(o3))
    counts["o3_1h"] = sum(v is not None for v in o3)
    windows = air_averages.windows_of_day(o3)
    values["o3_8h"] = rounded("o3", air_averages.day_o3_8h(windows))
    counts["o3_8h"] = sum(v is not None for v in windows)
    return values, counts


def compute_day(session: Session, *, station: AirStation, start: datetime) -> AirDaily:
    """Compute and store the station's local day beginning at START (local midnight, in UTC)."""
    data = hour_values(session, station=station, start=start, end=start + DAY)
    hours = [data[start + k * HOUR] for k in range(24)]
    values, counts = daily_values(hours)
    index = aqi.daily_aqi(values)
    row = session.get(AirDaily, (station.id, start))
    if row is None:
        row = AirDaily(station_id=station.id, start=start)
        session.add(row)
    for key, v in values.items():
        setattr(row, key, v)
    row.hours = counts
    row.valid = all(v is not None for v in values.values())
    _apply_index(row, index)
    session.flush()
    return row


SEVERITY = {"minor": Severity.MINOR, "major": Severity.MAJOR, "critical": Severity.CRITICAL}


def weigh(session: Session, *, station: AirStation, rows: Sequence[AirHourly]) -> int:
    """Weigh each hour newer than the station's ``checked_until`` against the limit, oldest first:
    raise (or repeat) the exceedance above it, clear it back within it. The number of new alarms."""
    thing = air.thing_of(session, station)
    raised = 0
    for row in sorted(rows, key=lambda r: r.start):
        if row.aqi is None or (station.checked_until is not None and row.start <= station.checked_until):
            continue
        level = aqi.level_of(row.aqi)
        at = row.start + HOUR
        if level.severity is not None:
            local = row.start.astimezone(county_zone())
            names = "、".join(air.POLLUTANT_NAMES.get(p, p) for p in row.primary)
            outcome = exceed.raise_exceedance(
                session,
                source="air",
                key=f"air:{station.id}:{row.start:%Y-%m-%dT%H}",
                title=f"{station.name} 空气质量{level.category_zh}（AQI {row.aqi}）",
                description=(
                    f"{station.name}（{station.code}）{local:%Y-%m-%d %H}时 AQI {row.aqi}，"
                    f"{level.name_zh}{level.category_zh}，首要污染物 {names or '—'}。"
                ),
                value=float(row.aqi),
                severity=SEVERITY[level.severity],
                thing_id=thing.id,
                lon=thing.lon,
                lat=thing.lat,
                at=at,
                context={"station_id": station.id, "hour": row.start.isoformat(), "aqi": row.aqi},
            )
            raised += int(outcome.created)
        else:
            exceed.clear_exceedance(session, thing_id=thing.id, at=at, note=f"AQI {row.aqi}")
        station.checked_until = row.start
    session.flush()
    return raised


def _complete_days(start: datetime, end: datetime) -> list[datetime]:
    """Local days that intersect [start, end) and end at or before END."""
    out = []
    d = day_start(start)
    while d + DAY <= end:
        if d + DAY > start:
            out.append(d)
        d += DAY
    return out


@dataclass(frozen=True)
class Computed:
    hours: int
    days: int
    exceedances: int


def compute_station(
    session: Session, *, station: AirStation, start: datetime, end: datetime, now: datetime | None = None
) -> Computed:
    """The station's hours of [start, end) and the local days they complete, and the exceedances."""
    now = now or utcnow()
    end = min(end, hour_floor(now))
    rows = compute_hours(session, station=station, start=start, end=end, now=now)
    raised = weigh(session, station=station, rows=rows)
    days = _complete_days(hour_floor(start), end)
    for d in days:
        compute_day(session, station=station, start=d)
    return Computed(len(rows), len(days), raised)


def compute_period(
    session: Session, *, actor: Actor, station_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> Computed:
    """On demand (the API, the editor): recompute a station's period; audited."""
    station = air.get(session, station_id=station_id)
    done = compute_station(session, station=station, start=start, end=end, now=now)
    audit.record(
        session, actor=actor, action="eco.air.compute", target_type="eco_air_station", target_id=station.id,
        detail={"start": start.isoformat(), "end": end.isoformat(), "hours": done.hours, "days": done.days},
    )  # fmt: skip
    return done


def run(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """The job: every active station's last complete hours (a few back, for late observations) and
    the local day they complete. Derived figures, like the sensing rollups: not audited row by row
    (the alarms and cases they raise are)."""
    now = now or utcnow()
    end = hour_floor(now)
    start = end - RECOMPUTE_HOURS * HOUR
    totals = {"stations": 0, "hours": 0, "days": 0, "exceedances": 0}
    for station in air.list_stations(session, active_only=True):
        done = compute_station(session, station=station, start=start, end=end, now=now)
        totals["stations"] += 1
        totals["hours"] += done.hours
        totals["days"] += done.days
        totals["exceedances"] += done.exceedances
    return totals
