"""Scheduled work of the market part of the village domain: every hour, open supply listings whose period
has passed are marked expired (they are read as expired before that, and never matched)."""

from __future__ import annotations

from countyos.core.actor import SYSTEM
from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.village.service import market


def expire_listings(db: Database) -> object:
    with db.unit_of_work() as session:
        return market.expire_listings(session, actor=SYSTEM)


JOBS: list[Job] = [Job("village.market.expire", 3600, expire_listings)]
