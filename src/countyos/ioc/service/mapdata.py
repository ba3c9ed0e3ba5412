"""Map layers of the operations view. Geometry of grids and components comes from geo's collections
(the page fetches it once); these are the numbers and points laid over it, each with its drill."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from countyos.cases.service import ioc_queries as cases_q
from countyos.core.actor import Actor
from countyos.geo.models import ComponentStatus
from countyos.geo.service import components as geo_components
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import Narrow, Scope, tz
from countyos.sensing.service import ioc_queries as sensing_q

MAX_CASE_POINTS = 3000
MAX_COMPONENT_POINTS = 20000


def grid_counts(session: Session, *, actor: Actor, scope: Scope, now: datetime) -> dict[str, dict[str, Any]]:
    """grid code → open and overdue cases (the same measures as the tiles), with their lists."""
    s = ind.case_slice(session, scope, Narrow())
    out: dict[str, dict[str, Any]] = {}
    for measure in ("open", "overdue"):
        counts = cases_q.count_by(session, actor=actor, measure=measure, s=s, now=now, by=("grid",), tz=tz())
        for (grid,), n in counts.items():
            if not grid:
                continue
            slot = out.setdefault(grid, {"open": 0, "overdue": 0})
            slot[measure] = n
    for grid, slot in out.items():
        slot["url"] = ind.list_url("cases", "open", scope, Narrow(grid_code=grid))
        slot["overdue_url"] = ind.list_url("cases", "overdue", scope, Narrow(grid_code=grid))
    return out


def case_points(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    now: datetime,
    bbox: tuple[float, float, float, float] | None = None,
) -> bytes:
    """Open cases as a GeoJSON FeatureCollection (the encoded body): points with step, priority and
    clock level, most urgent first, at most ``MAX_CASE_POINTS`` (only those inside ``bbox`` = west,
    south, east, north when given). ``total`` is the open cases of the scope — the tile's number and
    its list — whatever the box; ``shown`` the features sent. The features are built and encoded by
    the database (``cases_q.map_features_json``) and passed on as they come."""
    s = ind.case_slice(session, scope, Narrow())
    shown, features = cases_q.map_features_json(
        session, actor=actor, measure="open", s=s, now=now, limit=MAX_CASE_POINTS, bbox=bbox
    )
    total = cases_q.count(session, actor=actor, measure="open", s=s, now=now)
    head = f'{{"type":"FeatureCollection","total":{total},"shown":{shown},"features":'
    return head.encode() + features.encode() + b"}"


def device_points(session: Session, *, scope: Scope) -> dict[str, Any]:
    """Devices with their health and the most severe active alarm; each opens its active alarms."""
    ss = ind.sensing_slice(session, scope, Narrow(), devices=True)
    features = []
    for d in sensing_q.device_points(session, s=ss):
        features.append(
            {
                "type": "Feature",
                "id": d["id"],
                "geometry": {"type": "Point", "coordinates": [d["lon"], d["lat"]]},
                "properties": {
                    **d,
                    "alarm": d["alarm"] or "",
                    "url": ind.list_url("alarms", "active", scope, Narrow(thing_id=d["id"])),
                    "device_url": f"/ioc/devices/{d['id']}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def component_status(session: Session, *, scope: Scope, now: datetime, actor: Actor) -> dict[str, dict[str, Any]]:
    """Components per status in the scope (township; category: its component class), with the lists
    (the map colours by status)."""
    out = {}
    for m in ind.MEASURES["components"]:
        if m == "components":
            continue
        n = ind.count(session, actor=actor, source="components", measure=m, scope=scope, now=now)
        out[m.removeprefix("status_")] = {"count": n, "url": ind.list_url("components", m, scope)}
    return out


_lock = threading.Lock()
_components: dict[str, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}


def component_points(session: Session, *, scope: Scope) -> dict[str, Any]:
    """The scope's components (the records of ``components.components``) as GeoJSON points at their
    representative point, with their status (the map colours by it).

    An inventory changes seldom and is large, so the features of a filter are kept per process and
    rebuilt when its components change (their number, newest id, latest ``updated_at`` or number per
    status)."""
    f = ind.component_filter(session, scope, "components")
    features: list[dict[str, Any]] = []
    total = 0
    if f is not None:
        q = geo_components.query(f).subquery()
        per_status = [func.sum(case((q.c.status == st.value, 1), else_=0)) for st in ComponentStatus]
        stamp = tuple(
            session.execute(select(func.count(), func.max(q.c.id), func.max(q.c.updated_at), *per_status)).one()
        )
        total = int(stamp[0] or 0)
        key = f"{session.get_bind().engine.url}|{f!r}"
        with _lock:
            hit = _components.get(key)
        if hit is not None and hit[0] == stamp:
            features = hit[1]
        else:
            cols = select(q.c.id, q.c.code, q.c.name, q.c.status, q.c.lon, q.c.lat)
            features = [
                {
                    "type": "Feature",
                    "id": r.id,
                    "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                    "properties": {"id": r.id, "code": r.code, "name": r.name, "status": str(r.status)},
                }
                for r in session.execute(cols.order_by(q.c.code).limit(MAX_COMPONENT_POINTS))
            ]
            with _lock:
                _components[key] = (stamp, features)
    return {"type": "FeatureCollection", "features": features, "total": total, "shown": len(features)}
