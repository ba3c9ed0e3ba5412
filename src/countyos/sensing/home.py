"""The sensing domain's part of the home page: alarms waiting to be acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.work import WorkQueue
from countyos.sensing.service import alarms

SECTION = N_("Sensing")


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    if not actor.can("alarm.ack"):
        return []
    n, critical = alarms.waiting_counts(session)
    return [
        WorkQueue(
            "alarms",
            SECTION,
            N_("Alarms to acknowledge"),
            "/sensing/alarms?state=active",
            n,
            urgent=critical,
            order=200,
        )
    ]
