"""The events part of the home page: my department's open emergency tasks (overdue and due within the
hour counted) and the commands it has not acknowledged yet, each opening the field page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue
from countyos.safety.models.events import CommandTarget, EmergencyEvent, EventCommand, EventState, EventTask
from countyos.safety.permissions import TASK
from countyos.safety.service.events import OPEN_TASK

SECTION = N_("Emergency")


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    if not actor.can(TASK) or actor.department_id is None:
        return []
    open_q = (
        select(EventTask.deadline_at)
        .where(EventTask.department_id == actor.department_id, EventTask.state.in_(OPEN_TASK))
        .subquery()
    )
    count, overdue, soon = session.execute(
        select(
            func.count(),
            func.count().filter(open_q.c.deadline_at < now),
            func.count().filter(open_q.c.deadline_at >= now, open_q.c.deadline_at < now + timedelta(hours=1)),
        ).select_from(open_q)
    ).one()
    commands = session.scalar(
        select(func.count())
        .select_from(CommandTarget)
        .join(EventCommand, EventCommand.id == CommandTarget.command_id)
        .join(EmergencyEvent, EmergencyEvent.id == EventCommand.event_id)
        .where(
            CommandTarget.department_id == actor.department_id,
            CommandTarget.acknowledged_at.is_(None),
            EmergencyEvent.state == EventState.ACTIVE,
        )
    )
    out = []
    if count:
        out.append(
            WorkQueue(
                "safety_tasks",
                SECTION,
                N_("My department's emergency tasks"),
                "/safety/tasks",
                int(count),
                overdue=int(overdue),
                due_soon=int(soon),
                urgent=int(count),
                order=700,
            )
        )
    if commands:
        out.append(
            WorkQueue(
                "safety_commands",
                SECTION,
                N_("Emergency commands to acknowledge"),
                "/safety/field",
                int(commands or 0),
                urgent=int(commands or 0),
                order=701,
            )
        )
    return out
