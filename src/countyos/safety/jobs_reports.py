"""Scheduled work of the information reports (信息报送): every minute, the report rows each event should
have by now, and the reminders when a report is due soon and when it is overdue (each once)."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job


def remind(db: Database) -> object:
    from countyos.safety.service import reports

    with db.unit_of_work() as s:
        return reports.remind(s)


JOBS: list[Job] = [Job("safety.reports.remind", 60, remind)]
