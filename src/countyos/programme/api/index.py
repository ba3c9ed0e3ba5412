"""API of the 盆景 index, under /api/v1/programme (programme.index: the leader, the operating company, the
programme office).

- ``GET /index?since=YYYY-MM&until=YYYY-MM&project=`` — per module and per project: spend, budget, active
  users per week (and by role), actions, pages viewed, API calls, records created, data produced and shared,
  each month and in total, and the 盆景 flag with the numbers that tripped it (at most 24 months).
- ``GET /index/users?module=&week=|month=&role=`` — who was active in a module: name, department, roles,
  days active.

Money in fen; module labels in the reader's language.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from countyos.core.i18n import gettext
from countyos.programme.permissions import INDEX
from countyos.programme.schemas.index import (
    ActiveUserOut,
    ActiveUsersOut,
    FiguresOut,
    FlagOut,
    IndexOut,
    IndexQuery,
    MonthOut,
    RowOut,
    RulesOut,
    TrippedOut,
    UsersQuery,
)
from countyos.programme.service import index, index_modules
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.routes import api_routes

router = APIRouter(tags=["programme"])
Reader = Annotated[Auth, Depends(require(INDEX))]


def segments_of_app(request: Request) -> dict[str, str]:
    """Path segment → module, from this application's routes."""
    app = request.app
    return index_modules.for_app(
        id(app), lambda: [(r.path, getattr(r.route.endpoint, "__module__", "")) for r in api_routes(app)]
    )


def _figures(f: index.Figures) -> dict[str, Any]:
    return asdict(f)


def row_out(row: index.Row, months: list[str], *, translate: bool) -> RowOut:
    flag = row.flag
    return RowOut(
        key=row.key,
        label=gettext(row.label) if translate else row.label,
        project_id=row.project_id,
        modules=row.modules,
        total=FiguresOut(**_figures(row.total)),
        months=[MonthOut(month=m, **_figures(f)) for m, f in zip(months, row.months, strict=True)],
        flag=None
        if flag is None
        else FlagOut(
            window=flag.window,
            spend_fen=flag.spend_fen,
            weekly_active_users=flag.weekly_active_users,
            actions_per_user_week=flag.actions_per_user_week,
            tripped=[
                TrippedOut(measure=t.measure, label=gettext(t.label), value=t.value, limit=t.limit)
                for t in flag.tripped
            ],
        ),
    )


def report_out(r: index.IndexReport) -> IndexOut:
    return IndexOut(
        months=r.months,
        since=r.since,
        until=r.until,
        weeks=r.weeks,
        project_id=r.project_id,
        rules=RulesOut(**asdict(r.rules)),
        modules=[row_out(x, r.months, translate=True) for x in r.modules],
        projects=[row_out(x, r.months, translate=False) for x in r.projects],
    )


@router.get("/index", response_model=IndexOut)
def get_index(request: Request, session: ReadSession, _: Reader, q: Annotated[IndexQuery, Query()]) -> IndexOut:
    r = index.report(session, segments=segments_of_app(request), since=q.since, until=q.until, project_id=q.project)
    return report_out(r)


@router.get("/index/users", response_model=ActiveUsersOut)
def get_active_users(
    request: Request, session: ReadSession, _: Reader, q: Annotated[UsersQuery, Query()]
) -> ActiveUsersOut:
    since, until = index.users_period(week=q.week, month=q.month)
    n, people = index.active_users(
        session, segments=segments_of_app(request), module=q.module, since=since, until=until, role=q.role
    )
    return ActiveUsersOut(
        module=q.module,
        since=since,
        until=until,
        count=n,
        users=[
            ActiveUserOut(
                user_id=p.user_id,
                display_name=p.display_name,
                department=p.department,
                roles=list(p.roles),
                days=p.days,
                last_day=p.last_day,
            )
            for p in people
        ],
    )
