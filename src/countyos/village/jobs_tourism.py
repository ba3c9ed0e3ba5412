"""Scheduled work of the tourism part of the village domain: every minute, each scenic spot's crowding
(alarms, notices, 限流 cases); every ten minutes, today's and yesterday's daily totals (so late counter
data counts)."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job


def crowding(db: Database) -> object:
    from countyos.village.service import tourism_crowding

    with db.unit_of_work() as s:
        return len(tourism_crowding.evaluate(s))


def daily_totals(db: Database) -> object:
    from countyos.village.service import tourism_flow

    with db.unit_of_work() as s:
        return tourism_flow.recompute(s)


JOBS: list[Job] = [Job("village.tourism.crowding", 60, crowding), Job("village.tourism.daily", 600, daily_totals)]
