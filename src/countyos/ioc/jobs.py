"""Scheduled work of the ioc domain."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.core.usage import COUNTER
from countyos.ioc.service import reports, usage


def flush_usage(db: Database) -> int:
    counts = COUNTER.drain()
    if not counts:
        return 0
    try:
        with db.unit_of_work() as session:
            return usage.store(session, counts=counts)
    except Exception:
        COUNTER.restore(counts)
        raise


def scheduled_reports(db: Database) -> int:
    """Yesterday's, last week's and last month's operations reports, each made once."""
    with db.unit_of_work() as session:
        return len(reports.ensure_scheduled(session))


JOBS = [Job("ioc.flush_usage", 60, flush_usage), Job("ioc.reports", 600, scheduled_reports)]
