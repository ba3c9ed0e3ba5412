"""Pages of the information reports and reviews (信息报送, 复盘) part of the safety domain."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
