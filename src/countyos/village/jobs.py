"""Scheduled work of the village domain."""

from __future__ import annotations

from countyos.core.scheduler import Job
from countyos.village import jobs_certs, jobs_farming, jobs_market, jobs_producers, jobs_tourism

JOBS: list[Job] = [*jobs_producers.JOBS, *jobs_farming.JOBS, *jobs_certs.JOBS, *jobs_market.JOBS, *jobs_tourism.JOBS]
