"""Scheduled work of the hidden-danger inspections (隐患排查) part of the safety domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
