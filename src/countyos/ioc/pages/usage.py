"""HTML pages of the ioc domain."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.ioc.api.usage import period
from countyos.ioc.service import usage
from countyos.org.service import roles
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates, translate

router = APIRouter(include_in_schema=False)

NAV = [NavItem(N_("System"), N_("Platform usage"), "/usage", "usage.read", order=905)]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# Modules as counted by ``core.usage.module_of`` (first path segment, or the one after /api/v1).
MODULE_LABELS = {
    "home": N_("Home page"),
    "account": N_("My account"),
    "admin": N_("System administration"),
    "login": N_("Sign-in"),
    "logout": N_("Sign-in"),
    "cases": N_("Cases"),
    "case-attachments": N_("Case photos"),
    "case-categories": N_("Categories and time limits"),
    "case-evaluation": N_("Evaluation"),
    "case-routing": N_("Routing table"),
    "m": N_("Mobile patrol"),
    "r": N_("Citizen's case page"),
    "report": N_("Citizen reports"),
    "open311": N_("Open311 apps"),
    "sensing": N_("Sensing"),
    "services": N_("Government services"),
    "data": N_("Data sharing and open data"),
    "portal": N_("Residents' portal"),
    "eco": N_("Ecology"),
    "village": N_("Digital village"),
    "safety": N_("Emergency, safety and traffic"),
    "programme": N_("Programme operation"),
    "developers": N_("Developer portal"),
    "t": N_("Trace pages"),
    "open": N_("Open data portal"),
    "3": N_("Open data portal"),
    "action": N_("Open data portal"),
    "catalog.ttl": N_("Open data portal"),
    "catalog.jsonld": N_("Open data portal"),
    "sta": N_("SensorThings API"),
    "ioc": N_("Operations view"),
    "geo": N_("Spatial data"),
    "alerts": N_("Urgent notices"),
    "usage": N_("Platform usage"),
    "users": N_("Users"),
    "departments": N_("Departments"),
    "roles": N_("Roles and permissions"),
    "tokens": N_("API tokens"),
    "audit": N_("Audit log"),
    "me": N_("My account"),
}


@router.get("/usage")
def usage_page(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("usage.read"))],
    since: str | None = None,
    until: str | None = None,
) -> Response:
    error = None
    try:
        s, u = period(_day(since), _day(until))
    except CountyError as exc:
        error = exc.message
        s, u = period(None, None)
    r = usage.report(session, since=s, until=u)
    role_names = {ro.code: ro.display_name(request.state.locale) for ro in roles.list_roles(session)}
    chart = {
        "days": [d.isoformat() for d in r.days],
        "series": [
            {"name": translate(request, MODULE_LABELS.get(m, m)), "data": r.by_module_day[m]} for m in r.modules
        ],
    }
    return templates(request).render(
        request,
        "ioc/usage.html",
        {
            "report": r,
            "since": s,
            "until": u,
            "error": error,
            "role_names": role_names,
            "module_labels": MODULE_LABELS,
            "chart_json": json.dumps(chart, ensure_ascii=False),
        },
    )
