"""JSON API of the ioc domain."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from countyos.core.clock import to_local, utcnow
from countyos.core.errors import ValidationFailed
from countyos.ioc.service import usage
from countyos.web.deps import Auth, ReadSession, require

router = APIRouter(tags=["ioc"])

MAX_DAYS = 400


class UsageRow(BaseModel):
    module: str
    role: str
    views: int
    api_calls: int
    actions: int


class UsageOut(BaseModel):
    since: date
    until: date
    total: int
    days: list[date]
    by_module_day: dict[str, list[int]]
    by_module_role: list[UsageRow]


def period(since: date | None, until: date | None, default_days: int = 30) -> tuple[date, date]:
    today = to_local(utcnow()).date()
    until = until or today
    since = since or until - timedelta(days=default_days - 1)
    if since > until:
        raise ValidationFailed("The start date is after the end date")
    if (until - since).days >= MAX_DAYS:
        raise ValidationFailed("Choose at most %(n)s days", n=MAX_DAYS)
    return since, until


@router.get("/usage", response_model=UsageOut)
def usage_report(
    session: ReadSession,
    _: Annotated[Auth, Depends(require("usage.read"))],
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
) -> UsageOut:
    """Page views, API calls and actions per module and role and per day."""
    s, u = period(since, until)
    r = usage.report(session, since=s, until=u)
    return UsageOut(
        since=s,
        until=u,
        total=r.total,
        days=r.days,
        by_module_day=r.by_module_day,
        by_module_role=[
            UsageRow(module=m, role=ro, views=a, api_calls=b, actions=c) for m, ro, a, b, c in r.by_module_role
        ],
    )
