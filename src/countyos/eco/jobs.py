"""Scheduled work of the ecology domain: the hourly and daily air indices, water samples from the
automatic stations, their exceedances."""

from __future__ import annotations

from countyos.core.scheduler import Job
from countyos.eco import jobs_air, jobs_water

JOBS: list[Job] = [*jobs_air.JOBS, *jobs_water.JOBS]
