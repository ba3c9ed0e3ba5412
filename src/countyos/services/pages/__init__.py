"""HTML pages of the services domain (one module per part, composed here with their navigation)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.services.pages import (
    catalogue,
    desk,
    desk_corrections,
    desk_print,
    ratings,
    resident,
    statistics,
    supervision,
    verify,
    work,
    work_lists,
)
from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
for _module in (
    catalogue,
    desk,
    desk_corrections,
    desk_print,
    resident,
    work,
    work_lists,
    statistics,
    supervision,
    ratings,
    verify,
):
    router.include_router(_module.router)
    NAV.extend(_module.NAV)
