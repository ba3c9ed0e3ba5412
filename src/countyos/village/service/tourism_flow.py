"""Visitor flows of the scenic spots: live 在园人数 and the daily totals, from the sensing observations.

The gates' counters report persons per interval (entries and exits, one observation each per interval).
Sensing stores each (datastream, phenomenon time) once — a device's retry or a second post of the same
time is dropped on ingest (the table's unique index) — so summing the stored rows counts each interval
once. An observation that arrives late counts for its own phenomenon time: every figure is summed from
the rows of the local day, whenever they came.

    在园人数(t) = Σ entries(≤ t) − Σ exits(≤ t), since the start of the county's local day

If exits run ahead of entries (a counter missed people coming in, or the day began with people still in
the park) the figure would be negative: it is shown as 0 and marked ``clipped``. The peak of a day is the
largest clipped figure after any interval, with its time. ``recompute`` keeps today's and yesterday's
totals in ``village_spot_daily`` (the job, so late data counts); earlier days stay as they were.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import county_day, county_day_bounds, utcnow
from countyos.sensing.models import Observation
from countyos.sensing.service.times import from_us, to_us
from countyos.village.models.tourism import Spot, SpotCounter, SpotDaily
from countyos.village.service import tourism

MAX_DAYS = 400


local_day = county_day
day_bounds = county_day_bounds


@dataclass
class Flow:
    """A spot's flow over part of one local day."""

    spot_id: int
    day: date
    entries: int = 0
    exits: int = 0
    in_park: int = 0  # at the end of the period, clipped at 0
    raw_in_park: int = 0  # entries − exits, unclipped
    peak: int = 0
    peak_at: datetime | None = None
    clipped: bool = False  # the figure went below zero at some point and was shown as 0
    last_at: datetime | None = None  # the newest observation counted
    curve: list[tuple[datetime, int]] = field(default_factory=list)  # in park after each interval
    has_counters: bool = False


def flows(session: Session, *, spot_ids: list[int], day: date, until: datetime | None = None) -> dict[int, Flow]:
    """Each spot's flow on the local DAY (up to UNTIL, when given), from its counters' observations."""
    start, end = day_bounds(day)
    if until is not None:
        end = min(end, until + timedelta(microseconds=1))
    counters = tourism.counters_of(session, spot_ids=spot_ids)
    sign: dict[int, tuple[int, int]] = {}  # datastream → (spot, +1 entries / −1 exits)
    for spot_id, pairs in counters.items():
        for c in pairs:
            sign[c.entry_datastream_id] = (spot_id, 1)
            sign[c.exit_datastream_id] = (spot_id, -1)
    out = {i: Flow(spot_id=i, day=day, has_counters=bool(counters.get(i))) for i in spot_ids}
    if not sign:
        return out
    rows = session.execute(
        select(Observation.datastream_id, Observation.phenomenon_us, Observation.result).where(
            Observation.datastream_id.in_(list(sign)),
            Observation.phenomenon_us >= to_us(start),
            Observation.phenomenon_us < to_us(end),
            Observation.result.is_not(None),
        )
    ).all()
    steps: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for ds, t, value in rows:
        if ds is None or value is None:
            continue
        spot_id, s = sign[int(ds)]
        n = max(0, round(float(value)))
        steps[spot_id][int(t)][0 if s > 0 else 1] += n
    for spot_id, by_time in steps.items():
        f = out[spot_id]
        running = 0
        for t in sorted(by_time):
            came, left = by_time[t]
            f.entries += came
            f.exits += left
            running += came - left
            shown = max(0, running)
            f.clipped = f.clipped or running < 0
            at = from_us(t)
            f.curve.append((at, shown))
            if shown > f.peak:
                f.peak, f.peak_at = shown, at
            f.last_at = at
        f.raw_in_park = running
        f.in_park = max(0, running)
    return out


def live(session: Session, *, spot_ids: list[int], now: datetime | None = None) -> dict[int, Flow]:
    """Each spot's flow today so far (the county's local day)."""
    now = now or utcnow()
    return flows(session, spot_ids=spot_ids, day=local_day(now), until=now)


def percent(spot: Spot, in_park: int) -> float:
    return round(100.0 * in_park / spot.capacity_instant, 1) if spot.capacity_instant > 0 else 0.0


def recompute(session: Session, *, now: datetime | None = None, days: int = 2) -> int:
    """Keep the daily totals of the last DAYS local days (today and yesterday by default) for every spot.
    Returns how many rows were written. The reported revenue is kept."""
    now = now or utcnow()
    today = local_day(now)
    spots = [s.id for s in tourism.list_spots(session)]
    n = 0
    for back in range(days):
        day = today - timedelta(days=back)
        n += store_day(session, spot_ids=spots, day=day, flows_of_day=flows(session, spot_ids=spots, day=day), now=now)
    return n


def store_day(session: Session, *, spot_ids: list[int], day: date, flows_of_day: dict[int, Flow], now: datetime) -> int:
    existing = {
        r.spot_id: r
        for r in session.scalars(select(SpotDaily).where(SpotDaily.day == day, SpotDaily.spot_id.in_(spot_ids)))
    }
    n = 0
    for spot_id in spot_ids:
        f = flows_of_day[spot_id]
        if not f.has_counters:
            continue
        row = existing.get(spot_id)
        if row is None:
            row = SpotDaily(spot_id=spot_id, day=day)
            session.add(row)
        row.entries, row.exits, row.peak, row.peak_at = f.entries, f.exits, f.peak, f.peak_at
        row.clipped, row.computed_at = f.clipped, now
        n += 1
    session.flush()
    return n


def daily(session: Session, *, spot_id: int, start: date, end: date) -> list[SpotDaily]:
    """The stored totals of a spot between two local days (inclusive), newest first."""
    if (end - start).days > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS)
    return list(
        session.scalars(
            select(SpotDaily)
            .where(SpotDaily.spot_id == spot_id, SpotDaily.day >= start, SpotDaily.day <= end)
            .order_by(SpotDaily.day.desc())
        )
    )


def has_counters(session: Session, *, spot_id: int) -> bool:
    return session.scalar(select(SpotCounter.id).where(SpotCounter.spot_id == spot_id).limit(1)) is not None
