"""Scheduled work of the modules part."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
