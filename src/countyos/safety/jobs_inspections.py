"""Scheduled work of the hidden-danger inspections (隐患排查) part of the safety domain.

``safety.inspections.overdue`` (hourly): each hazard past its rectification deadline and not closed is
noted once per deadline on its timeline (and in the audit log); the lists show it as overdue from the day
after its deadline whatever the job did.
"""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.safety.service import inspections_hazards


def overdue(db: Database) -> object:
    with db.unit_of_work() as session:
        return len(inspections_hazards.sweep_overdue(session))


JOBS: list[Job] = [Job("safety.inspections.overdue", 3600, overdue)]
