"""Scheduled work of the information reports and reviews (信息报送, 复盘) part of the safety domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
