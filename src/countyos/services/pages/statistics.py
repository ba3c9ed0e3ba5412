"""Leader statistics of applications (``services.statistics.read``).

``/services/statistics``: 办件量, 即办率, 按期办结率, 网办率, 平均跑动次数 by department or township for a
month, quarter, year or chosen dates (county days), the 12-month trend (ECharts), every number a link to
``/services/statistics/records`` — the applications behind it, from the same measure. A wrong period
comes back as the page with the message beside the field.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.org.models import Department
from countyos.org.service import departments
from countyos.services import lifecycle
from countyos.services.pages.common import SERVICES
from countyos.services.service import ioc_queries as q
from countyos.services.service import ratings
from countyos.services.service import statistics as st
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.nav import NavItem
from countyos.web.templating import templates, translate

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(st.READ))]
RECORDS_PAGE = 50
MAX_OFFSET = q.MAX_IDS

NAV = [NavItem(SERVICES, N_("Service statistics"), "/services/statistics", st.READ, order=130)]

COLUMNS: list[tuple[str, str]] = [
    ("submitted", N_("Applications")),
    ("immediate_rate", N_("Concluded on the spot")),
    ("on_time_rate", N_("Concluded on time")),
    ("online_rate", N_("Submitted online")),
    ("visits", N_("Average visits in person")),
    ("rejected", N_("Not accepted")),
    ("overdue", N_("Overdue now")),
]
HINTS: dict[str, str] = {
    "submitted": N_("Submitted in the period (drafts not counted)"),
    "immediate_rate": N_("Concluded at the moment of acceptance ÷ accepted"),
    "on_time_rate": N_("Concluded by the promised time ÷ concluded (granted or not)"),
    "online_rate": N_("Submitted online (computer or phone) ÷ submitted"),
    "visits": N_("Visits in person the matters ask for ÷ applications"),
    "rejected": N_("Submitted in the period and not accepted"),
    "overdue": N_("Being processed and past the promised time, of those submitted by the period's end"),
}


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _period(period: str, on: str, since: str, until: str) -> tuple[st.Period, dict[str, str]]:
    """The chosen period, or this month and the messages of each wrong field."""
    try:
        return st.period(period or "month", on=on or None, since=since or None, until=until or None), {}
    except ValidationFailed as exc:
        errors = {e["field"]: e["message"] for e in exc.errors} if exc.errors else {"period": exc.message}
        return st.period("month"), errors


def _chart(stats: st.Statistics) -> dict[str, Any]:
    return {
        "months": [m for m, _f in stats.trend],
        "submitted": [f.count("submitted") for _m, f in stats.trend],
        "immediate_rate": [f.rate("immediate_rate") for _m, f in stats.trend],
        "on_time_rate": [f.rate("on_time_rate") for _m, f in stats.trend],
        "online_rate": [f.rate("online_rate") for _m, f in stats.trend],
    }


def records_url(p: st.Period, measure: str, *, department: int | None = None, township: int | None = None,
                centre: bool = False) -> str:  # fmt: skip
    params: dict[str, Any] = {"measure": measure, **p.params()}
    if department is not None:
        params["department"] = department
    if township is not None:
        params["township"] = township
    if centre:
        params["centre"] = 1
    return "/services/statistics/records?" + urlencode(params)


@router.get("/services/statistics")
def statistics_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    period: Annotated[str, Query(max_length=10)] = "month",
    on: Annotated[str, Query(max_length=10)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    by: Annotated[str, Query(max_length=12)] = "department",
) -> Response:
    """The leader's statistics: figures by department or township, the period's total and the trend."""
    p, errors = _period(period, on, since, until)
    group = by if by in st.GROUPS else "department"
    stats = st.compute(session, p=p, group=group, now=utcnow())
    labels = {k: translate(request, v) for k, v in COLUMNS}
    labels["title"] = translate(request, N_("Applications per month"))
    return templates(request).render(
        request,
        "services/statistics/page.html",
        {
            "stats": stats,
            "p": p,
            "errors": errors,
            "typed": {"period": period, "on": on, "since": since, "until": until},
            "group": group,
            "groups": st.GROUPS,
            "kinds": st.PERIOD_KINDS,
            "columns": COLUMNS,
            "hints": HINTS,
            "rate_columns": set(st.RATES) | {"visits"},
            "chart": json.dumps(_chart(stats)),
            "chart_labels": json.dumps(labels, ensure_ascii=False),
            "records_url": records_url,
            "measures_of": st.measures_of,
            "ratings": _ratings(session, a, p, group, stats),
        },
    )


def _ratings(session: Any, a: Auth, p: st.Period, group: str, stats: Any) -> dict[str, Any]:
    """好评率 and 差评整改率 of the ratings given in the period, per row of the table (keyed like its rows)
    and in total, with the links to the ratings behind them."""
    rows, total = ratings.statistics(session, actor=a.actor, start=p.start, end=p.end, group=group)
    by_key = {r.key: r for r in rows}
    if group == "township":  # the table's townships are departments; the ratings' are division codes
        codes = dict(session.execute(select(Department.id, Department.division_code)).all())
        found = {r.key: by_key.get(codes.get(r.key) or "") for r in stats.rows if r.key is not None}
    else:
        found = {r.key: by_key.get(str(r.key) if r.key is not None else "") for r in stats.rows}
    period = {"start": p.since.isoformat(), "end": (p.until + timedelta(days=1)).isoformat()}

    def url(key: Any, **extra: str) -> str:
        dep = {"department_id": str(key)} if group == "department" and key is not None else {}
        return "/services/ratings?" + urlencode({**period, **dep, **extra})

    return {"rows": found, "total": total, "url": url}


@router.get("/services/statistics/records")
def statistics_records(
    request: Request,
    session: ReadSession,
    a: Reader,
    measure: Annotated[str, Query(max_length=20)] = "submitted",
    period: Annotated[str, Query(max_length=10)] = "month",
    on: Annotated[str, Query(max_length=10)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    department: Annotated[str, Query(max_length=10)] = "",
    township: Annotated[str, Query(max_length=10)] = "",
    centre: Annotated[str, Query(max_length=1)] = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    """The applications behind one number of the statistics (the same measure and slice)."""
    if measure not in q.MEASURES:
        raise ValidationFailed(N_("Unknown list %(source)s.%(measure)s"), source="services", measure=measure[:20])
    p, errors = _period(period, on, since, until)
    if errors:
        raise ValidationFailed(N_("Give a date as YYYY-MM-DD"))
    dep, town = _int(department), _int(township)
    s = st.slice_of(session, p=p, department_id=dep, township_id=town, centre=centre == "1")
    now = utcnow()
    total = q.count(session, measure=measure, s=s, now=now)
    rows = q.rows(session, measure=measure, s=s, now=now, limit=RECORDS_PAGE, offset=offset)
    deps = {d.id: d.name for d in departments.all_active(session)}
    towns = q.townships(session)
    query = {"measure": measure, **p.params(), "department": department, "township": township, "centre": centre}
    supervision = {"since": p.since.isoformat(), "until": p.until.isoformat()}
    if dep is not None:
        supervision["department"] = str(dep)
    if town is not None:
        supervision["township"] = str(town)
    return templates(request).render(
        request,
        "services/statistics/records.html",
        {
            "title": q.LABELS[measure],
            "p": p,
            "rows": rows,
            "total": total,
            "limit": RECORDS_PAGE,
            "offset": offset,
            "deps": deps,
            "department_name": deps.get(dep) if dep is not None else None,
            "township_name": towns[town][0] if town in towns else None,
            "centre": centre == "1",
            "matters": q.matter_names(session, {r.matter_version_id for r in rows}),
            "state_labels": lifecycle.LABELS,
            "decision_labels": lifecycle.DECISION_LABELS,
            "now": now,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "supervision_url": "/services/applications?" + urlencode(supervision),
        },
    )
