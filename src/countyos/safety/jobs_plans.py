"""Scheduled work of the plans and resources part of the safety domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
