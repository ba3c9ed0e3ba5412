"""Scheduled work of the traffic (路段, 停车场, 道路事件) part of the safety domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
