"""Scheduled work of the programme domain."""

from __future__ import annotations

from countyos.core.scheduler import Job
from countyos.programme import jobs_index, jobs_kpis, jobs_modules, jobs_partners, jobs_payments, jobs_projects

JOBS: list[Job] = [
    *jobs_modules.JOBS,
    *jobs_projects.JOBS,
    *jobs_kpis.JOBS,
    *jobs_payments.JOBS,
    *jobs_index.JOBS,
    *jobs_partners.JOBS,
]
