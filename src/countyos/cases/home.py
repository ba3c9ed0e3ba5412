"""The cases domain's part of the home page: the person's case queues and unread messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from countyos.cases.service import work
from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue

SECTION = N_("Cases")


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    if not actor.can("case.read"):
        return []
    tallies = work.tallies(session, actor=actor, now=now)
    out = []
    for order, spec in enumerate(work.QUEUE_SPECS):
        t = tallies.get(spec.key)
        if t is not None:
            out.append(
                WorkQueue(spec.key, SECTION, spec.label, spec.url, t.count, t.overdue, t.due_soon, t.urgent, order)
            )
    if work.OVERDUE_KEY in tallies:
        t = tallies[work.OVERDUE_KEY]
        out.append(
            WorkQueue(
                "overdue", SECTION, N_("Overdue cases to supervise"), "/cases/supervision", t.count, t.overdue, 0, 0, 50
            )
        )
    unread = work.unread_messages(session, user_id=actor.id)
    out.append(WorkQueue("messages", SECTION, N_("Unread messages"), "/cases/notifications", unread, order=60))
    return out
