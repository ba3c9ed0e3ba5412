"""The safety domain's part of the home page: my department's emergency tasks and the commands it has not
acknowledged yet (``service/events_home.py``), each opening its list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from countyos.core.actor import Actor
from countyos.core.work import WorkQueue
from countyos.safety.service import events_home


def queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    return events_home.queues(session, actor, now)
