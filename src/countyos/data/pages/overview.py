"""数据沉淀 (``/data/overview``): what the county keeps of its own data, per department and per month; each
figure links to the records behind it (the catalogue filtered by department, by state, by staleness)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.data.pages.common import DATA, PAGE_LABELS
from countyos.data.service import overview
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates

READ = "data.overview.read"
router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(READ))]
NAV = [NavItem(DATA, N_("Data kept by the county"), "/data/overview", READ, order=142)]


@router.get("/data/overview")
def overview_page(request: Request, session: ReadSession, a: Reader) -> Response:
    now = utcnow()
    departments = overview.by_department(session, now=now)
    return templates(request).render(
        request,
        "data/overview.html",
        {
            "departments": departments,
            "months": overview.by_month(session, now=now),
            "totals": overview.totals(session, now=now),
            "sum": {
                k: sum(getattr(d, k) for d in departments)
                for k in ("resources", "published", "rows", "loads", "failed_loads", "stale", "calls_served")
            },
            **PAGE_LABELS,
        },
    )
