"""Scheduled work of the air part of the ecology domain: every ten minutes, each station's last complete
hours (recomputed a few hours back so late observations count), the local day once complete, and the
exceedances they raise or clear."""

from __future__ import annotations

from countyos.core.db import Database
from countyos.core.scheduler import Job


def air_indices(db: Database) -> object:
    from countyos.eco.service import air_compute

    with db.unit_of_work() as s:
        return air_compute.run(s)


JOBS: list[Job] = [Job("eco.air.indices", 600, air_indices)]
