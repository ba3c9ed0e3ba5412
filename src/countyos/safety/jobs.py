"""Scheduled work of the safety domain."""

from __future__ import annotations

from countyos.core.scheduler import Job
from countyos.safety import jobs_cameras, jobs_events, jobs_inspections, jobs_plans, jobs_reports, jobs_traffic

JOBS: list[Job] = [
    *jobs_plans.JOBS,
    *jobs_events.JOBS,
    *jobs_reports.JOBS,
    *jobs_inspections.JOBS,
    *jobs_cameras.JOBS,
    *jobs_traffic.JOBS,
]
