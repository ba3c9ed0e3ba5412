"""数据沉淀 (``/data/overview``): what the county keeps of its own data, per department and per month; each
figure links to the records behind it (the catalogue filtered by department, by state, by staleness; the
downloads by department or month at ``/data/downloads``, a list with filters and pages of at most
``MAX_LIMIT``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.data.models import Resource
from countyos.data.pages.common import DATA, PAGE_LABELS
from countyos.data.schemas import MAX_ID
from countyos.data.service import downloads, overview
from countyos.org.models import Department
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates

READ = "data.overview.read"
router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(READ))]
NAV = [NavItem(DATA, N_("Data kept by the county"), "/data/overview", READ, order=142)]
PAGE = 50
MAX_LIMIT = 200
FORMATS = tuple(downloads.EXTENSIONS.values())  # CSV, XLSX, JSON, GeoJSON


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
                for k in (
                    "resources",
                    "published",
                    "rows",
                    "loads",
                    "failed_loads",
                    "stale",
                    "calls_served",
                    "downloads",
                )
            },
            **PAGE_LABELS,
        },
    )


@router.get("/data/downloads")
def download_list(
    request: Request,
    session: ReadSession,
    a: Reader,
    provider_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    resource_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    fmt: Annotated[str, Query(alias="format", max_length=10)] = "",
    month: Annotated[str, Query(max_length=7)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = PAGE,
) -> Response:
    """The downloads behind a figure of 数据沉淀: by department, resource, format and month, newest first."""
    chosen = downloads.Filter(
        provider_id=provider_id,
        resource_id=resource_id,
        format=fmt if fmt in FORMATS else "",
        month=month if downloads.MONTH.match(month) else "",
    )
    query = {
        "provider_id": str(provider_id or ""),
        "resource_id": str(resource_id or ""),
        "format": chosen.format,
        "month": chosen.month,
    }
    resource = session.get(Resource, resource_id) if resource_id is not None else None
    return templates(request).render(
        request,
        "data/downloads.html",
        {
            "rows": downloads.listing(session, chosen, limit=limit, offset=offset),
            "total": downloads.count(session, chosen),
            "limit": limit,
            "offset": offset,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "query": query,
            "formats": FORMATS,
            "deps": session.execute(
                select(Department.id, Department.name)
                .where(Department.id.in_(select(Resource.provider_id)))
                .order_by(Department.name)
            ).all(),
            "resource": resource,
        },
    )
