"""HTML pages of the ioc domain: the operations view, its lists, the phone view, reports, usage."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.core.i18n import N_
from countyos.ioc.pages import ops, reports, usage
from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
for _module in (ops, reports, usage):
    router.include_router(_module.router)

OPERATIONS = N_("Operations centre")
NAV = [
    NavItem(OPERATIONS, N_("Operations view"), "/ioc", "ioc.view", order=90),
    NavItem(OPERATIONS, N_("Phone view"), "/ioc/m", "ioc.view", order=91),
    NavItem(OPERATIONS, N_("Operations reports"), "/ioc/reports", "ioc.report", order=92),
    *usage.NAV,
]
