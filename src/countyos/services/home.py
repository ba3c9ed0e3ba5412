"""The services domain's part of the home page: a window clerk's 待受理, a department's 待办 with its
overdue and nearly due counts, and a supervisor's overdue applications, each linking to its list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue
from countyos.services.service import work

SERVICES = N_("Government services")  # the section, as the services pages' navigation group


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    out = []
    if (t := work.to_accept_tally(session, actor=actor)) is not None:
        out.append(WorkQueue("services_to_accept", SERVICES, N_("Applications to accept"), "/services/desk/queue",
                             t.count, order=70))  # fmt: skip
    if (t := work.todo_tally(session, actor=actor, now=now)) is not None:
        out.append(WorkQueue("services_todo", SERVICES, N_("Applications to handle"), "/services/inbox",
                             t.count, t.overdue, t.due_soon, order=71))  # fmt: skip
    if (t := work.overdue_tally(session, actor=actor, now=now)) is not None:
        out.append(WorkQueue("services_overdue", SERVICES, N_("Overdue applications to supervise"),
                             "/services/applications?overdue=1", t.count, t.overdue, order=72))  # fmt: skip
    return out
