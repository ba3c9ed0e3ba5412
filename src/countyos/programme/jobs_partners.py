"""Scheduled work of the partners part."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
