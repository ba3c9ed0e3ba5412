"""Pages of the index part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
