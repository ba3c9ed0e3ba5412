"""Scheduled work of the market part of the village domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
