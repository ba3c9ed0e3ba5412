"""Scheduled work of the ioc domain."""

from __future__ import annotations

from datetime import timedelta

from countyos.core.clock import county_today
from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.core.usage import COUNTER
from countyos.ioc.service import reports, usage


def flush_usage(db: Database) -> int:
    """Store the counts and the people seen since the last run; forget who was active past the retention
    (a range delete on the primary key's first column: nothing to do on most runs)."""
    counts, seen = COUNTER.drain_all()
    if not counts and not seen:
        return 0
    try:
        with db.unit_of_work() as session:
            n = usage.store(session, counts=counts)
            usage.store_active(session, seen=seen)
            usage.prune_active(session, before=county_today() - timedelta(days=usage.KEEP_ACTIVE_DAYS))
        return n
    except Exception:
        COUNTER.restore(counts, seen)
        raise


def scheduled_reports(db: Database) -> int:
    """Yesterday's, last week's and last month's operations reports, each made once."""
    with db.unit_of_work() as session:
        return len(reports.ensure_scheduled(session))


JOBS = [Job("ioc.flush_usage", 60, flush_usage), Job("ioc.reports", 600, scheduled_reports)]
