"""Scheduled work of the camera-detected events (视频智能发现) part of the safety domain: below-threshold
events are kept 30 days for tuning the thresholds, then deleted."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job


def purge(db: Database) -> object:
    from countyos.safety.service import cameras_intake

    with db.unit_of_work() as s:
        return cameras_intake.purge(s)


JOBS: list[Job] = [Job("safety.cameras.purge", 6 * 3600, purge)]
