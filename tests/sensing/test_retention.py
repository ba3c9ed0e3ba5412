"""Retention classes keep the database bounded: raw observations go after N days, rollups stay."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select, update

from countyos.sensing.models import Datastream, Latest, Observation, RetentionClass, RollupDay, RollupHour
from countyos.sensing.service import retention, store
from countyos.sensing.service.times import DAY_US, HOUR_US, now_us


def _feed(db, ds: int, start: int, days: int, step_us: int = HOUR_US) -> None:
    t = np.arange(start, start + days * DAY_US, step_us, dtype=np.int64)
    with db.unit_of_work() as s:
        retention.ensure_partitions(s, start_us=int(t[0]), end_us=int(t[-1]) + 1)
        store.store(s, np.full(len(t), ds, dtype=np.int64), t, np.sin(t / 1e10))


def test_long_run_stays_bounded_and_rollups_outlive_raw(db, sensors):
    """Sixty simulated days of hourly data through a 10-day class, pruned as a job would every day."""
    with db.unit_of_work() as s:
        short = RetentionClass(code="short", name="short", raw_days=10, minute_days=20, hour_days=None, day_days=None)
        s.add(short)
        s.flush()
        s.execute(update(Datastream).where(Datastream.id == sensors.level).values(retention_class_id=short.id))
    now = now_us() // DAY_US * DAY_US
    start = now - 60 * DAY_US
    counts = []
    for day in range(0, 60, 5):
        _feed(db, sensors.level, start + day * DAY_US, 5)
        report = retention.prune(db, now=start + (day + 5) * DAY_US)
        with db.reading() as s:
            counts.append(s.scalar(select(func.count()).select_from(Observation)))
        assert report.raw >= 0
    # Never more than the class's 10 days (+ the batch that just arrived) of hourly rows.
    assert max(counts) <= 15 * 24
    with db.reading() as s:
        oldest = s.scalar(select(func.min(Observation.phenomenon_us)))
        assert oldest >= now - 10 * DAY_US
        assert s.get(Latest, sensors.level).raw_count == s.scalar(select(func.count()).select_from(Observation))
        # Hour and day rollups are kept for ever: all 60 days are still there.
        assert s.scalar(select(func.sum(RollupHour.n)).where(RollupHour.datastream_id == sensors.level)) == 60 * 24
        assert s.scalar(select(func.count()).select_from(RollupDay)) >= 60


def test_disk_use_is_reported_per_class(db, sensors):
    _feed(db, sensors.level, now_us() - 3 * DAY_US, 2, step_us=60_000_000)
    with db.unit_of_work() as s:
        stats = retention.refresh_stats(s)
    assert stats["critical"]["raw_rows"] == 2 * 24 * 60
    assert stats["critical"]["raw_bytes"] > 2 * 24 * 60 * 8
    assert stats["standard"]["datastreams"] == 2  # battery and rain have no explicit class
    with db.reading() as s:
        c = s.scalar(select(RetentionClass).where(RetentionClass.code == "critical"))
        assert c.stats["raw_rows"] == 2 * 24 * 60 and c.stats_at is not None
