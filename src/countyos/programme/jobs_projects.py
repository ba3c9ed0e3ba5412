"""Scheduled work of the projects part."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
