"""HTML pages of the cases domain (and the Open311 router, mounted at the site root)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.cases import open311
from countyos.core.i18n import N_
from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
router.include_router(open311.router)

CASES = N_("Cases")
NAV: list[NavItem] = []
