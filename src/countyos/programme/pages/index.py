"""Pages of the 盆景 index (programme.index: the leader, the operating company, the programme office).

- ``/programme/index?since=YYYY-MM&until=YYYY-MM&project=``: per module and per project, spend against use
  (active users a week, actions, page views, API calls, records created, data produced and shared); flagged
  rows marked 盆景风险 with the numbers that tripped the rule; the monthly trend chart. Each number opens its
  records: active users → ``/programme/index/users``, actions and views → the module's breakdown
  ``/programme/index/{module}``, a project's spend → its page ``/programme/projects/{id}``.
- ``/programme/index/users?module=&week=|month=&role=``: who was active (name, department, roles, days).
- ``/programme/index/{module}``: one module's use per month × role × kind and its records per action.
- ``/programme/index.xlsx``: the index as a workbook.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import XLSX_MEDIA_TYPE
from countyos.org.service import audit, roles
from countyos.programme.api.index import segments_of_app
from countyos.programme.models.projects import Project
from countyos.programme.permissions import INDEX
from countyos.programme.schemas.index import IndexQuery, UsersQuery
from countyos.programme.service import index, index_export
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates, translate

router = APIRouter(include_in_schema=False)
SECTION = N_("Programme")
NAV = [NavItem(SECTION, N_("Spend against use (盆景 index)"), "/programme/index", INDEX, order=940)]
Reader = Annotated[Auth, Depends(require(INDEX))]
Code = Annotated[str, Path(min_length=2, max_length=20, pattern=r"^[a-z]+$")]
MonthParam = Annotated[str | None, Query(max_length=7)]
M = TypeVar("M", bound=BaseModel)


def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals and thousands separators."""
    return f"{(fen or 0) / 100:,.2f}"


def number(value: float | int) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def month_label(key: str) -> str:
    y, m = key.split("-")
    return i18n.gettext(N_("%(year)s/%(month)s"), year=y, month=int(m))


def day(d: date) -> str:
    return i18n.gettext(N_("%(year)s/%(month)s/%(day)s"), year=d.year, month=d.month, day=d.day)


def _role_names(request: Request, session: Session) -> dict[str, str]:
    return {ro.code: ro.display_name(request.state.locale) for ro in roles.list_roles(session)}


def _projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.code)))


def _chart(request: Request, r: index.IndexReport) -> str:
    with i18n.use_locale(request.state.locale):
        months = [month_label(m) for m in r.months]
        spend = [round(sum(row.months[i].spend_fen for row in r.modules) / 100, 2) for i in range(len(r.months))]
        series = [
            {"name": i18n.gettext(row.label), "data": [f.active_weekly for f in row.months]}
            for row in r.modules
            if row.total.active_weekly > 0
        ]
        return json.dumps(
            {
                "months": months,
                "spend": spend,
                "spend_name": i18n.gettext(N_("Spend (yuan)")),
                "users_name": i18n.gettext(N_("Active users a week")),
                "series": series,
            },
            ensure_ascii=False,
        )


def _parse(model: type[M], values: dict[str, str]) -> M:
    """The query as the API's model; a query the model refuses is a 422 naming the fields."""
    try:
        return forms.parse(model, values)
    except PydanticValidationError as exc:
        fields = [{"field": str(e["loc"][0]) if e["loc"] else "", "message": N_("The input is not valid")}
                  for e in exc.errors()]  # fmt: skip
        raise ValidationFailed(errors=fields) from None


def _query(since: str | None, until: str | None, project: str | None) -> IndexQuery:
    return _parse(IndexQuery, {"since": since or "", "until": until or "", "project": project or ""})


@router.get("/programme/index")
def index_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    since: MonthParam = None,
    until: MonthParam = None,
    project: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    error: str | None = None
    try:
        q = _query(since, until, project)
        r = index.report(session, segments=segments_of_app(request), since=q.since, until=q.until,
                         project_id=q.project)  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        errors = forms.field_errors(request, exc)
        error = next(iter(errors.values()), translate(request, N_("The input is not valid")))
        q = IndexQuery()
        r = index.report(session, segments=segments_of_app(request))
    flagged = [row for row in r.modules if row.flag is not None]
    return templates(request).render(
        request,
        "programme/index/index.html",
        {
            "report": r,
            "q": q,
            "error": error,
            "flagged": flagged,
            "projects": _projects(session),
            "role_names": _role_names(request, session),
            "chart_json": _chart(request, r),
            "yuan": yuan,
            "number": number,
            "month_label": month_label,
            "module_labels": index.MODULE_LABELS,
            "since_value": r.months[0],
            "until_value": r.months[-1],
        },
    )


@router.get("/programme/index.xlsx")
def index_xlsx(
    request: Request,
    session: ReadSession,
    a: Reader,
    since: MonthParam = None,
    until: MonthParam = None,
    project: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    q = _query(since, until, project)
    r = index.report(session, segments=segments_of_app(request), since=q.since, until=q.until, project_id=q.project)
    with i18n.use_locale(request.state.locale):
        body = index_export.workbook(r)
    name = f"programme-index-{r.months[0]}-{r.months[-1]}.xlsx"
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/programme/index/users")
def users_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    module: Annotated[str, Query(max_length=20)] = "",
    week: Annotated[str | None, Query(max_length=10)] = None,
    month: MonthParam = None,
    role: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    q = _parse(UsersQuery, {"module": module, "week": week or "", "month": month or "", "role": role or ""})
    since, until = index.users_period(week=q.week, month=q.month)
    n, people = index.active_users(
        session, segments=segments_of_app(request), module=q.module, since=since, until=until, role=q.role
    )
    return templates(request).render(
        request,
        "programme/index/users.html",
        {
            "module": q.module,
            "module_label": index.MODULE_LABELS[q.module],
            "since": since,
            "until": until,
            "role": q.role,
            "count": n,
            "people": people,
            "role_names": _role_names(request, session),
            "day": day,
        },
    )


def _action_name(code: str, module_label: str) -> str:
    if code in audit.ACTION_NAMES:
        return i18n.gettext(audit.ACTION_NAMES[code])
    return i18n.gettext(N_("Other records of %(module)s"), module=i18n.gettext(module_label))


@router.get("/programme/index/{module}")
def module_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    module: Code,
    since: MonthParam = None,
    until: MonthParam = None,
) -> Response:
    q = _query(since, until, None)
    b = index.breakdown(session, segments=segments_of_app(request), module=module, since=q.since, until=q.until)
    label = index.MODULE_LABELS[module]
    with i18n.use_locale(request.state.locale):
        grouped: dict[tuple[str, str], int] = {}
        for mk, code, n in b.records:
            key = (mk, _action_name(code, label))
            grouped[key] = grouped.get(key, 0) + n
    records = [(mk, name, n) for (mk, name), n in sorted(grouped.items())]
    last = b.months[-1]
    first_day = date.fromisoformat(b.months[0] + "-01")
    last_day = index.next_month(date.fromisoformat(last + "-01"))
    return templates(request).render(
        request,
        "programme/index/module.html",
        {
            "module": module,
            "module_label": label,
            "b": b,
            "records": records,
            "role_names": _role_names(request, session),
            "month_label": month_label,
            "number": number,
            "since_value": b.months[0],
            "until_value": last,
            "first_day": first_day,
            "last_day": date.fromordinal(last_day.toordinal() - 1),
        },
    )
