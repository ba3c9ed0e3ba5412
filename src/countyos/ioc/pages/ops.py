"""HTML of the operations view: the desktop and wall view, the drill-down list (with exports), the
leader's phone view, and read-only alarm and device pages."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from countyos.cases.service import ioc_queries as cases_q
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from countyos.ioc.api.ops import NarrowQ, narrow_of, scope_of
from countyos.ioc.service import indicators as ind
from countyos.ioc.service import places, records
from countyos.ioc.service.scope import PERIODS, Narrow, Scope, resolve
from countyos.org.service import audit
from countyos.sensing.service import ioc_queries as sensing_q
from countyos.sensing.service.labels import ALARM_ACTION_LABELS, alarm_title, device_class_label
from countyos.web.deps import Auth, ReadSession, require
from countyos.web.templating import templates, translate

router = APIRouter(include_in_schema=False)
View = Annotated[Auth, Depends(require("ioc.view"))]

LIVE_LABELS = {
    "case_reported": N_("New case"),
    "case_dispatched": N_("Dispatched"),
    "case_closed": N_("Closed"),
    "case_rework": N_("Sent back for rework"),
    "case_supervised": N_("Supervised"),
    "alarm_raised": N_("Alarm"),
    "alarm_acknowledged": N_("Alarm acknowledged"),
    "alarm_cleared": N_("Alarm cleared"),
}
JS_LABELS = {
    **LIVE_LABELS,
    "connected": N_("Live"),
    "reconnecting": N_("Reconnecting…"),
    "open": N_("Open"),
    "overdue": N_("Overdue"),
    "none": N_("No records"),
    "list": N_("List the records"),
    "cases": N_("Cases"),
    "alarms": N_("Alarms raised"),
    "shown_of": N_("%(shown)s of %(total)s shown"),
    "grade": N_("Grade"),
    "score": N_("Score"),
    "reported": N_("Reported"),
    "closure": N_("Closure rate"),
    "on_time": N_("On-time closure rate"),
    "satisfaction": N_("Satisfaction"),
    "health": N_("Health"),
    "alarm": N_("Active alarm"),
    "status": N_("Status"),
    "device": N_("Device"),
    "component": N_("Component"),
    "grid": N_("Grid"),
    "step": N_("Step"),
    "priority": N_("Priority"),
    "online": N_("Online"),
    "offline": N_("Offline"),
    "unknown": N_("Not yet reporting"),
    "critical": N_("Critical"),
    "major": N_("Major"),
    "minor": N_("Minor"),
    "warning": N_("Warning"),
    "normal": N_("Normal"),
    "urgent": N_("Urgent"),
    "intact": N_("Intact"),
    "damaged": N_("Damaged"),
    "lost": N_("Lost"),
    "abandoned": N_("Abandoned"),
    "removed": N_("Removed"),
    "same_status": N_("Components with this status"),
    "active_alarms": N_("Active alarms of this device"),
    "open_cases": N_("Open cases in this grid"),
    "overdue_cases": N_("Overdue cases in this grid"),
    "no_data": N_("No data in this period."),
}
LAYERS = [
    ("grids", N_("Grids by open and overdue cases")),
    ("cases", N_("Cases by step and urgency")),
    ("devices", N_("Devices by state and active alarm")),
    ("components", N_("Components by status")),
]


def _scope_or_error(request: Request, **params: Any) -> tuple[Scope, str | None]:
    try:
        return resolve(**params), None
    except CountyError as exc:
        return resolve(), translate(request, exc.message_id, **exc.params)


def _filters(session: Any, scope: Scope) -> dict[str, Any]:
    cats = cases_q.category_choices(session)
    return {
        "periods": PERIODS,
        "townships": places.townships(session),
        "categories": cats,
        "scope": scope,
        "scope_query": urlencode(scope.params()),
    }


def _labels(request: Request) -> str:
    return json.dumps({k: translate(request, v) for k, v in JS_LABELS.items()}, ensure_ascii=False)


def _view(request: Request, session: Any, a: Auth, *, wall: bool, params: dict[str, Any]) -> Response:
    scope, error = _scope_or_error(request, **params)
    now = utcnow()
    values = ind.all_values(session, actor=a.actor, scope=scope, now=now)
    return templates(request).render(
        request,
        "ioc/view.html",
        {
            **_filters(session, scope),
            "values": values,
            "error": error,
            "wall": wall,
            "layers": LAYERS,
            "labels_json": _labels(request),
            "now": now,
            "tz": get_settings().timezone,
            "can_report": a.actor.can("ioc.report"),
        },
    )


@router.get("/ioc")
def view(
    request: Request,
    session: ReadSession,
    a: View,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    township: str | None = None,
    category: str | None = None,
) -> Response:
    """The operations view: live map, indicator tiles, trends, rankings and the live feed."""
    params = dict(period=period, since=since, until=until, township=township, category=category)
    return _view(request, session, a, wall=False, params=params)


@router.get("/ioc/wall")
def wall(
    request: Request,
    session: ReadSession,
    a: View,
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    township: str | None = None,
    category: str | None = None,
) -> Response:
    """The same view laid out for a 1920×1080 wall screen (no menus, dark)."""
    params = dict(period=period, since=since, until=until, township=township, category=category)
    return _view(request, session, a, wall=True, params=params)


def _list_context(
    request: Request,
    session: Any,
    a: Auth,
    source: str,
    measure: str,
    scope: Scope,
    narrow: Narrow,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    now = utcnow()
    kw: dict[str, Any] = dict(actor=a.actor, source=source, measure=measure, scope=scope, narrow=narrow, now=now)
    total = ind.count(session, **kw)
    rows = ind.records(session, **kw, limit=limit, offset=offset)
    narrowing = []
    if narrow.department_id is not None:
        narrowing.append(("department", str(narrow.department_id)))
    if narrow.grid_code:
        narrowing.append(("grid", narrow.grid_code))
    if narrow.day:
        narrowing.append(
            ("day", narrow.day.isoformat() + (f" {narrow.hour:02d}:00" if narrow.hour is not None else ""))
        )
    if narrow.thing_id is not None:
        narrowing.append(("device", sensing_q.thing_names(session, {narrow.thing_id}).get(narrow.thing_id, "")))
    return {
        **_filters(session, scope),
        "source": source,
        "measure": measure,
        "title": ind.MEASURE_LABELS.get(f"{source}.{measure}", measure),
        "rows": records.to_records(session, source, rows, now),
        "total": total,
        "limit": limit,
        "offset": offset,
        "narrow": narrow,
        "narrowing": narrowing,
        "township_name": places.township_name(session, scope.township_code),
        "category_name": cases_q.category_names(session, {scope.category_id}).get(scope.category_id)
        if scope.category_id is not None
        else None,
        "query": urlencode({"source": source, "measure": measure, **scope.params(), **narrow.params()}),
    }


@router.get("/ioc/list")
def record_list(
    request: Request,
    session: ReadSession,
    a: View,
    narrow: NarrowQ,
    source: Annotated[str, Query(max_length=12)] = "cases",
    measure: Annotated[str, Query(max_length=30)] = "open",
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    township: str | None = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The records an indicator, chart point, ranking row or map feature counts; each opens the record."""
    scope = scope_of(period, since, until, township, category)
    ctx = _list_context(request, session, a, source, measure, scope, narrow, limit, offset)
    return templates(request).render(request, "ioc/list.html", ctx)


EXPORT_LIMIT = 50_000
EXPORT_HEADERS = (
    N_("Reference"),
    N_("Title"),
    N_("Place"),
    N_("Kind"),
    N_("Status"),
    N_("Time"),
    N_("Deadline"),
    N_("Responsible"),
)


@router.get("/ioc/list.{fmt}")
def record_export(
    request: Request,
    session: ReadSession,
    a: View,
    fmt: str,
    source: Annotated[str, Query(max_length=12)] = "cases",
    measure: Annotated[str, Query(max_length=30)] = "open",
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    township: str | None = None,
    category: str | None = None,
    department: str | None = None,
    grid: str | None = None,
    day: str | None = None,
    hour: str | None = None,
    thing: str | None = None,
) -> Response:
    """The same list as CSV or Excel (at most 50 000 rows)."""
    if fmt not in ("csv", "xlsx"):
        raise CountyError(N_("Choose csv or xlsx"))
    scope = scope_of(period, since, until, township, category)
    narrow = narrow_of(department, grid, day, hour, thing)
    ctx = _list_context(request, session, a, source, measure, scope, narrow, EXPORT_LIMIT, 0)
    headers = [
        translate(request, h)
        for h in (
            N_("Reference"),
            N_("Title"),
            N_("Place"),
            N_("Kind"),
            N_("Status"),
            N_("Time"),
            N_("Deadline"),
            N_("Responsible"),
        )
    ]
    rows = [
        (
            r.ref,
            r.title,
            r.place,
            translate(request, r.kind) if r.kind else "",
            translate(request, r.status) if r.status else "",
            r.at,
            r.deadline,
            r.owner,
        )
        for r in ctx["rows"]
    ]
    name = f"ioc-{source}-{measure}-{scope.since.isoformat()}-{scope.until.isoformat()}"
    if fmt == "csv":
        body, media = to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        body, media = to_xlsx(headers, rows, sheet=measure), XLSX_MEDIA_TYPE
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@router.get("/ioc/m")
def phone(
    request: Request,
    session: ReadSession,
    a: View,
    period: str | None = None,
    township: str | None = None,
    category: str | None = None,
) -> Response:
    """The leader's phone view: today's urgent items first, then the indicators and their lists."""
    scope, error = _scope_or_error(request, period=period or "today", township=township, category=category)
    now = utcnow()
    values = {v.indicator.code: v for v in ind.all_values(session, actor=a.actor, scope=scope, now=now)}
    kw: dict[str, Any] = dict(actor=a.actor, scope=scope, now=now)
    urgent = ind.records(session, source="cases", measure="urgent", limit=10, **kw)
    overdue = ind.records(session, source="cases", measure="overdue", limit=10, **kw)
    seen = {c.id for c in urgent}
    first = urgent + [c for c in overdue if c.id not in seen]
    alarms = ind.records(session, source="alarms", measure="active", limit=10, **kw)
    return templates(request).render(
        request,
        "ioc/phone.html",
        {
            **_filters(session, scope),
            "values": values,
            "error": error,
            "urgent": records.to_records(session, "cases", first[:15], now),
            "alarms": records.to_records(session, "alarms", alarms, now),
            "urgent_url": ind.list_url("cases", "urgent", scope),
            "overdue_url": ind.list_url("cases", "overdue", scope),
            "alarms_url": ind.list_url("alarms", "active", scope),
            "labels_json": _labels(request),
            "now": now,
        },
    )


@router.get("/ioc/alarms/{alarm_id:int}")
def alarm_page(request: Request, session: ReadSession, a: View, alarm_id: int) -> Response:
    """One alarm: what, where, since when, its timeline and the case it raised."""
    alarm, events = sensing_q.alarm_with_events(session, alarm_id=alarm_id)
    names = sensing_q.thing_names(session, {alarm.thing_id})
    return templates(request).render(
        request,
        "ioc/alarm.html",
        {
            "alarm": alarm,
            "events": events,
            "thing_name": names.get(alarm.thing_id, ""),
            "labels": records,
            "alarm_title": alarm_title,
            "action_labels": ALARM_ACTION_LABELS,
            "actor_label": audit.actor_label,
        },
    )


@router.get("/ioc/devices/{thing_id:int}")
def device_page(request: Request, session: ReadSession, a: View, thing_id: int) -> Response:
    """One device: health, position, and its alarms (active first)."""
    thing, alarms = sensing_q.device_with_alarms(session, thing_id=thing_id)
    return templates(request).render(
        request,
        "ioc/device.html",
        {
            "thing": thing,
            "alarms": records.to_records(session, "alarms", alarms, utcnow()),
            "labels": records,
            "class_label": device_class_label,
        },
    )
