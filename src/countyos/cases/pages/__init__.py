"""HTML pages of the cases domain, and the Open311 router (at the site root, matched before other routes)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.cases import open311
from countyos.cases.pages import admin, batch, console, evaluation, intake, mobile, public, settings
from countyos.core.i18n import N_
from countyos.web.nav import NavItem

router = APIRouter(include_in_schema=False)
for _module in (admin, evaluation, intake, mobile, public, batch, settings, console):
    router.include_router(_module.router)
EARLY_ROUTERS = [open311.router]

CASES = N_("Cases")
NAV = [
    NavItem(CASES, N_("Intake desk"), "/cases/intake", "case.intake", order=99),
    NavItem(CASES, N_("Dispatcher console"), "/cases", "case.read_all", order=100),
    NavItem(CASES, N_("Department inbox"), "/cases/inbox", "case.handle", order=101),
    NavItem(CASES, N_("My tasks"), "/m/tasks", "case.inspect", order=102),
    NavItem(CASES, N_("Report a problem"), "/m/report", "case.report", order=103),
    NavItem(CASES, N_("Supervision"), "/cases/supervision", "case.supervise", order=104),
    NavItem(CASES, N_("Evaluation"), "/cases/evaluation", "case.evaluate", order=105),
    NavItem(CASES, N_("Routing table"), "/cases/routing", "case.routing", order=106),
    NavItem(CASES, N_("12345 import"), "/cases/hotline", "case.hotline", order=107),
    NavItem(CASES, N_("Categories and time limits"), "/cases/categories", "case.configure", order=108),
    NavItem(CASES, N_("Messages"), "/cases/notifications", "case.read", order=109),
    NavItem(CASES, N_("Stock phrases"), "/cases/intake/phrases", "case.configure", order=110),
    NavItem(CASES, N_("Workflow rules"), "/cases/settings", "case.configure", order=111),
]
