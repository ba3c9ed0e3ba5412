"""Daily samples of the automatic water-quality stations (水质自动站) from the sensing rollups.

For each section bound to a station, a local day's sample holds the day's mean of each of the
station's datastreams named in ``data/gb3838_basic.json`` (``automatic.metrics``: metric → parameter),
read from the sensing domain's daily rollup. A parameter counts only when its observations fall in at
least ``automatic.min_hours`` distinct hours of that day (the hourly rollup); a day without any valid
parameter gives no sample. The sample is stamped at the day's local midnight and replaced when the day
is computed again, so the job may run as often as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.eco.models.water import SampleSource, WaterSample, WaterSection
from countyos.eco.service import gb3838, water
from countyos.org.service import audit
from countyos.sensing.service import devices, rollups
from countyos.sensing.service.times import DAY_US, to_us

ACTOR = Actor(id=None, name="eco")


def rule() -> dict[str, Any]:
    found: dict[str, Any] = gb3838.table()["automatic"]
    return found


@dataclass
class DayReport:
    days: int = 0
    saved: int = 0  # made or changed
    unchanged: int = 0  # computed again to the same values
    skipped: int = 0  # a station-day without a valid parameter
    samples: list[int] = field(default_factory=list)


def day_values(session: Session, *, thing_id: int, day: date) -> tuple[dict[str, float], dict[str, int]]:
    """The day's mean per parameter (valid ones only) and the hours with data per parameter."""
    metrics: dict[str, str] = rule()["metrics"]
    min_hours = int(rule()["min_hours"])
    start = to_us(water.day_start(day))
    end = start + DAY_US
    values: dict[str, float] = {}
    hours: dict[str, int] = {}
    for ds in devices.datastreams_of(session, thing_id=thing_id):
        code = metrics.get(ds.metric or "")
        if code is None:
            continue
        _, hourly = rollups.series(session, datastream_id=ds.id, start_us=start, end_us=end, level="hour")
        n_hours = sum(1 for p in hourly if p.n > 0)
        hours[code] = n_hours
        if n_hours < min_hours:
            continue
        _, daily = rollups.series(session, datastream_id=ds.id, start_us=start, end_us=end, level="day")
        if daily and daily[0].avg is not None:
            values[code] = round(daily[0].avg, 4)
    return values, hours


def daily_sample(
    session: Session, *, section: WaterSection, day: date, actor: Actor = ACTOR
) -> tuple[WaterSample | None, bool]:
    """The section's automatic sample of DAY (made, replaced or left as it was) and whether it was
    written; (None, False) without a valid parameter."""
    if section.thing_id is None:
        return None, False
    values, hours = day_values(session, thing_id=section.thing_id, day=day)
    if not values:
        return None, False
    kept = session.scalars(
        select(WaterSample).where(
            WaterSample.section_id == section.id,
            WaterSample.source == SampleSource.AUTO,
            WaterSample.sampled_at == water.day_start(day),
        )
    ).first()
    if kept is not None and kept.values == values and kept.hours == hours and kept.target_class == section.target_class:
        return kept, False
    return water.save_sample(
        session,
        actor=actor,
        section=section,
        sampled_at=water.day_start(day),
        values=values,
        source=SampleSource.AUTO,
        hours=hours,
        audited=False,
    ), True


def run_days(session: Session, *, days: list[date], actor: Actor = ACTOR) -> DayReport:
    """Daily samples of every active automatic section for DAYS (in order); one audit record."""
    report = DayReport()
    sections = list(
        session.scalars(select(WaterSection).where(WaterSection.thing_id.is_not(None), WaterSection.active.is_(True)))
    )
    for day in sorted(days):
        report.days += 1
        for s in sections:
            sample, written = daily_sample(session, section=s, day=day, actor=actor)
            if sample is None:
                report.skipped += 1
            elif not written:
                report.unchanged += 1
            else:
                report.saved += 1
                report.samples.append(sample.id)
    if report.saved:
        audit.record(
            session,
            actor=actor,
            action="eco.water.sample.auto",
            target_type=water.TARGET,
            detail={
                "days": [d.isoformat() for d in sorted(days)],
                "saved": report.saved,
                "samples": report.samples[:500],
            },
        )
    return report


def complete_days(back: int = 2) -> list[date]:
    """The last BACK complete local days (yesterday first back), so late data is counted again."""
    today = water.local_day(utcnow())
    return [today - timedelta(days=k) for k in range(back, 0, -1)]
