"""Pages of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
