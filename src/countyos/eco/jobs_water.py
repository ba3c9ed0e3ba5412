"""Scheduled work of the water part of the ecology domain: the automatic stations' daily samples.

Every hour the last two complete local days are computed again (idempotent: a day's automatic sample
is replaced), so observations that arrive late still count; see ``service/water_auto.py`` for the rule
of a valid day.
"""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.eco.service import water_auto


def daily_samples(db: Database) -> object:
    with db.unit_of_work() as session:
        report = water_auto.run_days(session, days=water_auto.complete_days())
    return report.saved


JOBS: list[Job] = [Job("eco.water.daily", 3600, daily_samples)]
