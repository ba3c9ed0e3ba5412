"""Scheduled work of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain: every
minute, open tasks past their deadline are logged once as overdue and their departments notified."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job


def overdue(db: Database) -> object:
    from countyos.safety.service import events_tasks

    with db.unit_of_work() as s:
        return events_tasks.sweep_overdue(s)


JOBS: list[Job] = [Job("safety.events.overdue", 60, overdue)]
