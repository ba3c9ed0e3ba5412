"""Scheduled work of the producers part of the village domain: every minute, each new sensing alarm on a
device attached to a base becomes one task for the base's producer (``service/producers_tasks.py``)."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.village.service import producers_tasks


def tasks(db: Database) -> object:
    with db.unit_of_work() as session:
        return producers_tasks.make_tasks(session)


JOBS: list[Job] = [Job("village.producers.tasks", 60, tasks)]
