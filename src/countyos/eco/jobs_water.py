"""Scheduled work of the water part of the ecology domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
