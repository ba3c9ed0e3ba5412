"""Pages of the plans and resources (预案, 演练, 物资仓库, 救援队伍, 避难场所, 专家) part of the safety domain."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
