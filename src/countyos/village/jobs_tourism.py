"""Scheduled work of the tourism part of the village domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
