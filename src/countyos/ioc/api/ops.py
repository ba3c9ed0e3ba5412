"""JSON data of the operations view: indicators, records, trends, rankings, map layers.

Every request takes the same scope parameters (``period`` or ``since``/``until``, ``township``,
``category``); the page calls them in parallel and again when the live feed reports a change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.core.i18n import gettext
from countyos.core.paging import Paged
from countyos.ioc.service import indicators as ind
from countyos.ioc.service import mapdata, records, trends
from countyos.ioc.service.scope import Narrow, Scope, narrow_from, resolve
from countyos.web.deps import Auth, ReadSession, require

router = APIRouter(tags=["ioc"])

View = Annotated[Auth, Depends(require("ioc.view"))]


def scope_of(
    period: Annotated[str | None, Query(max_length=10)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    township: Annotated[str | None, Query(max_length=9)] = None,
    category: Annotated[str | None, Query(max_length=12)] = None,
) -> Scope:
    return resolve(period=period, since=since, until=until, township=township, category=category)


def narrow_of(
    department: Annotated[str | None, Query(max_length=12)] = None,
    grid: Annotated[str | None, Query(max_length=15)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
    hour: Annotated[str | None, Query(max_length=2)] = None,
    thing: Annotated[str | None, Query(max_length=12)] = None,
) -> Narrow:
    return narrow_from(department=department, grid=grid, day=day, hour=hour, thing=thing)


_NUM = r"-?\d{1,3}(\.\d{1,17})?"


def bbox_of(
    bbox: Annotated[str | None, Query(max_length=120, pattern=rf"^{_NUM}(,{_NUM}){{3}}$")] = None,
) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees (the map's visible bounds), or None for the whole scope."""
    if bbox is None:
        return None
    w, s, e, n = (float(v) for v in bbox.split(","))
    return min(w, e), min(s, n), max(w, e), max(s, n)


ScopeQ = Annotated[Scope, Depends(scope_of)]
BBoxQ = Annotated[tuple[float, float, float, float] | None, Depends(bbox_of)]
NarrowQ = Annotated[Narrow, Depends(narrow_of)]


class ScopeOut(BaseModel):
    period: str
    since: str
    until: str
    township: str | None
    category: int | None


def scope_out(s: Scope) -> ScopeOut:
    return ScopeOut(
        period=s.period,
        since=s.since.isoformat(),
        until=s.until.isoformat(),
        township=s.township_code,
        category=s.category_id,
    )


class TileOut(BaseModel):
    code: str
    label: str
    source: str
    measure: str
    count: int
    whole: int | None
    rate: float | None
    negative: bool
    hint: str
    url: str
    whole_url: str
    api_url: str


class IndicatorsOut(BaseModel):
    scope: ScopeOut
    at: str
    tiles: list[TileOut]


@router.get("/ioc/indicators", response_model=IndicatorsOut)
def indicators(request: Request, session: ReadSession, a: View, scope: ScopeQ) -> IndicatorsOut:
    """Every indicator of the view for the scope; ``url`` lists the records it counts."""
    now = utcnow()
    values = ind.all_values(session, actor=a.actor, scope=scope, now=now)
    with i18n.use_locale(request.state.locale):
        tiles = [tile_out(v) for v in values]
    return IndicatorsOut(scope=scope_out(scope), at=now.isoformat(), tiles=tiles)


def tile_out(v: ind.Value) -> TileOut:
    i = v.indicator
    return TileOut(
        code=i.code,
        label=gettext(i.label),
        source=i.source,
        measure=i.measure,
        count=v.count,
        whole=v.whole,
        rate=v.rate,
        negative=i.negative,
        hint=gettext(i.hint) if i.hint else "",
        url=v.url,
        whole_url=v.whole_url,
        api_url=v.url.replace("/ioc/list", "/api/v1/ioc/records", 1),
    )


class RecordOut(BaseModel):
    source: str
    id: int
    ref: str
    title: str
    place: str
    kind: str
    status: str
    level: str
    at: str | None
    deadline: str | None
    owner: str
    url: str
    related_url: str


def record_out(r: records.Record) -> RecordOut:
    return RecordOut(
        source=r.source,
        id=r.id,
        ref=r.ref,
        title=r.title,
        place=r.place,
        kind=gettext(r.kind) if r.kind else "",
        status=gettext(r.status) if r.status else "",
        level=r.level,
        at=r.at.isoformat() if r.at else None,
        deadline=r.deadline.isoformat() if r.deadline else None,
        owner=r.owner,
        url=r.url,
        related_url=r.related_url,
    )


@router.get("/ioc/records", response_model=Paged[RecordOut])
def record_list(
    request: Request,
    session: ReadSession,
    a: View,
    scope: ScopeQ,
    narrow: NarrowQ,
    source: Annotated[str, Query(max_length=12)],
    measure: Annotated[str, Query(max_length=30)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Paged[RecordOut]:
    """The records an indicator counts (``total`` is the indicator's number), most urgent first."""
    now = utcnow()
    kw: dict[str, Any] = dict(actor=a.actor, source=source, measure=measure, scope=scope, narrow=narrow, now=now)
    total = ind.count(session, **kw)
    rows = ind.records(session, **kw, limit=limit, offset=offset)
    with i18n.use_locale(request.state.locale):
        items = [record_out(r) for r in records.to_records(session, source, rows, now)]
    return Paged[RecordOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/ioc/trends")
def trend_data(request: Request, session: ReadSession, a: View, scope: ScopeQ) -> dict[str, Any]:
    """Cases reported per day and category; alarms raised per hour (per day beyond a month)."""
    now = utcnow()
    ct = trends.cases_by_day(session, actor=a.actor, scope=scope, now=now)
    at = trends.alarms_by_hour(session, scope=scope, now=now)
    return {
        "scope": scope_out(scope).model_dump(),
        "cases": {
            "days": [d.isoformat() for d in ct.days],
            "total": ct.total,
            "series": [
                {"key": s.key, "name": i18n_name(request, s.name), "data": s.data, "urls": s.urls} for s in ct.series
            ],
        },
        "alarms": {"labels": at.labels, "hourly": at.hourly, "data": at.data, "urls": at.urls, "total": at.total},
    }


def i18n_name(request: Request, name: str) -> str:
    with i18n.use_locale(request.state.locale):
        return gettext(name)


@router.get("/ioc/rankings")
def ranking_data(session: ReadSession, a: View, scope: ScopeQ) -> dict[str, Any]:
    """Departments and townships by the cases evaluation's composite score and grade."""
    now = utcnow()
    return {
        "scope": scope_out(scope).model_dump(),
        **{
            subject: [r.__dict__ for r in trends.ranking(session, actor=a.actor, subject=subject, scope=scope, now=now)]
            for subject in ("department", "township")
        },
    }


# The map layers answer thousands of plain features: they are sent as they are (JSONResponse), without
# FastAPI's validation and encoding of every one of them against the ``dict[str, Any]`` they are.


@router.get("/ioc/map/grids", response_class=JSONResponse)
def map_grids(session: ReadSession, a: View, scope: ScopeQ) -> JSONResponse:
    """grid code → open and overdue cases (join with /api/v1/geo/collections/grids)."""
    return JSONResponse({"grids": mapdata.grid_counts(session, actor=a.actor, scope=scope, now=utcnow())})


@router.get("/ioc/map/cases", response_class=JSONResponse)
def map_cases(session: ReadSession, a: View, scope: ScopeQ, bbox: BBoxQ) -> Response:
    """Open cases as GeoJSON points (step, priority, clock level), most urgent first; with
    ``bbox=west,south,east,north`` only those in the box. The database builds the JSON; it is sent as
    it comes."""
    body = mapdata.case_points(session, actor=a.actor, scope=scope, now=utcnow(), bbox=bbox)
    return Response(body, media_type="application/json")


@router.get("/ioc/map/devices", response_class=JSONResponse)
def map_devices(session: ReadSession, a: View, scope: ScopeQ) -> JSONResponse:
    """Devices as GeoJSON points with health and the most severe active alarm."""
    return JSONResponse(mapdata.device_points(session, scope=scope))


@router.get("/ioc/map/components", response_class=JSONResponse)
def map_components(session: ReadSession, a: View, scope: ScopeQ) -> JSONResponse:
    """The scope's components as GeoJSON points with their status, and the count and list per status."""
    now = utcnow()
    return JSONResponse(
        {
            **mapdata.component_points(session, scope=scope),
            "status": mapdata.component_status(session, scope=scope, now=now, actor=a.actor),
        }
    )
