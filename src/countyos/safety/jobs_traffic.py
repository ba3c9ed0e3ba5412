"""Scheduled work of the traffic (路段, 停车场, 道路事件) part of the safety domain: every minute, the published
road incidents whose end has passed are ended (they leave the public page)."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job


def expire(db: Database) -> object:
    from countyos.core.actor import SYSTEM
    from countyos.safety.service import traffic_incidents

    with db.unit_of_work() as s:
        return traffic_incidents.expire(s, actor=SYSTEM)


JOBS: list[Job] = [Job("safety.traffic.expire", 60, expire)]
