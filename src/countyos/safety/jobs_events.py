"""Scheduled work of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain."""

from __future__ import annotations

from countyos.core.scheduler import Job

JOBS: list[Job] = []
