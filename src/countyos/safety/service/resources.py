"""Nearest-first lists of the emergency resources (warehouses, teams, shelters, experts with a position)
from any point.

- ``by="straight"``: great-circle distance (``geo.service.crs.distance_m``, haversine).
- ``by="road"``: along the imported road segments (``safety_road``): a directed graph whose nodes are the
  segments' ends rounded to about a metre (1e-5°), an edge per segment weighted by its length (both ways
  unless one-way); the point and each resource are snapped to their nearest node (straight line) and the
  distance is the snap from the point + the shortest path (Dijkstra from the point's node) + the snap to
  the resource. A resource not connected to the point's node falls back to the straight line and says so
  (``by="straight"`` on its row). The graph is built once per process and built again when the road table
  changes (its count, largest id and latest creation time).

The registry (writes, imports, masked phones) is ``service.resources_registry``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import networkx as nx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.geo.service.crs import distance_m
from countyos.safety.models.resources import Expert, Shelter, StockLine, Team, Warehouse
from countyos.safety.models.traffic import RoadSegment
from countyos.safety.service import resources_registry as registry

ResourceKind = Literal["warehouse", "team", "shelter", "expert"]
KINDS: tuple[str, ...] = ("warehouse", "team", "shelter", "expert")
MAX_LIMIT = 50
ROUND = 5  # decimal places of a node's coordinates: 1e-5° ≈ 1.1 m
MAX_ROADS = 200_000


@dataclass(frozen=True)
class NearestResource:
    kind: str  # one of ResourceKind
    id: int
    name: str
    lon: float
    lat: float
    distance_m: float
    by: str  # "straight" or "road"
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. capacity, stock summary, members, phone (masked)


# --- the road graph -----------------------------------------------------------------------------------


@dataclass
class RoadGraph:
    key: tuple[Any, ...]
    graph: nx.DiGraph[tuple[float, float]]
    nodes: list[tuple[float, float]]  # (lon, lat) of every node, for snapping

    def nearest_node(self, lon: float, lat: float) -> tuple[tuple[float, float], float] | None:
        if not self.nodes:
            return None
        scale = math.cos(math.radians(lat))
        best = min(self.nodes, key=lambda n: ((n[0] - lon) * scale) ** 2 + (n[1] - lat) ** 2)
        return best, distance_m(lon, lat, best[0], best[1])


_lock = threading.Lock()
_graph: RoadGraph | None = None


def _node(lon: float, lat: float) -> tuple[float, float]:
    return (round(lon, ROUND), round(lat, ROUND))


def _road_key(session: Session) -> tuple[Any, ...]:
    row = session.execute(
        select(func.count(), func.max(RoadSegment.id), func.max(RoadSegment.created_at)).select_from(RoadSegment)
    ).one()
    return (row[0], row[1], str(row[2]))


def road_graph(session: Session) -> RoadGraph:
    """The road network as a graph, cached per process until the road table changes."""
    global _graph
    key = _road_key(session)
    with _lock:
        if _graph is not None and _graph.key == key:
            return _graph
    g: nx.DiGraph[tuple[float, float]] = nx.DiGraph()
    rows = session.execute(
        select(
            RoadSegment.start_lon,
            RoadSegment.start_lat,
            RoadSegment.end_lon,
            RoadSegment.end_lat,
            RoadSegment.length_m,
            RoadSegment.oneway,
        ).limit(MAX_ROADS)
    ).all()
    for slon, slat, elon, elat, length, oneway in rows:
        a, b = _node(slon, slat), _node(elon, elat)
        if a == b:
            continue
        w = float(length)
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=w)
        if not oneway and (not g.has_edge(b, a) or g[b][a]["weight"] > w):
            g.add_edge(b, a, weight=w)
    built = RoadGraph(key, g, list(g.nodes))
    with _lock:
        _graph = built
    return built


def forget_graph() -> None:
    global _graph
    with _lock:
        _graph = None


# --- the resources ------------------------------------------------------------------------------------


def _candidates(session: Session, kinds: list[str]) -> list[NearestResource]:
    """Every resource of KINDS with a position, distance not yet known."""
    out: list[NearestResource] = []
    if "warehouse" in kinds:
        grouped = session.execute(select(StockLine.warehouse_id, func.count()).group_by(StockLine.warehouse_id))
        lines: dict[int, int] = {w: n for w, n in grouped}
        for w in session.scalars(select(Warehouse).limit(registry.MAX_LIST)):
            detail = {"address": w.address, "stock_lines": lines.get(w.id, 0), "phone": registry.masked(w.phone_enc)}
            out.append(NearestResource("warehouse", w.id, w.name, w.lon, w.lat, 0.0, "straight", detail))
    if "team" in kinds:
        for t in session.scalars(select(Team).limit(registry.MAX_LIST)):
            detail = {
                "kind": str(t.kind),
                "members": t.members_count,
                "leader": t.leader,
                "phone": registry.masked(t.phone_enc),
            }
            out.append(NearestResource("team", t.id, t.name, t.lon, t.lat, 0.0, "straight", detail))
    if "shelter" in kinds:
        for s in session.scalars(select(Shelter).limit(registry.MAX_LIST)):
            detail = {"capacity": s.capacity, "address": s.address, "township": s.township}
            out.append(NearestResource("shelter", s.id, s.name, s.lon, s.lat, 0.0, "straight", detail))
    if "expert" in kinds:
        for e in session.scalars(
            select(Expert).where(Expert.lon.is_not(None), Expert.lat.is_not(None)).limit(registry.MAX_LIST)
        ):
            detail = {"field": e.field, "unit": e.unit, "phone": registry.masked(e.phone_enc)}
            assert e.lon is not None and e.lat is not None
            out.append(NearestResource("expert", e.id, e.name, e.lon, e.lat, 0.0, "straight", detail))
    return out


def _with(r: NearestResource, distance: float, by: str) -> NearestResource:
    return NearestResource(r.kind, r.id, r.name, r.lon, r.lat, round(distance, 1), by, r.detail)


def nearest(
    session: Session,
    *,
    lon: float,
    lat: float,
    kinds: list[str] | None = None,
    limit: int = 10,
    by: str = "straight",
) -> list[NearestResource]:
    """Resources of KINDS (all when None) nearest first from (LON, LAT) WGS 84: by straight-line distance, or
    along the imported roads when BY is "road" and a road network exists (else straight-line, said in ``by``)."""
    wanted = [k for k in (kinds or KINDS) if k in KINDS]
    limit = max(1, min(limit, MAX_LIMIT))
    found = _candidates(session, wanted)
    ranked: list[NearestResource] = []
    graph = road_graph(session) if by == "road" else None
    start = graph.nearest_node(lon, lat) if graph is not None else None
    if graph is None or start is None:
        ranked = [_with(r, distance_m(lon, lat, r.lon, r.lat), "straight") for r in found]
    else:
        origin, snap_from = start
        lengths: dict[Any, float] = nx.single_source_dijkstra_path_length(graph.graph, origin, weight="weight")
        for r in found:
            end = graph.nearest_node(r.lon, r.lat)
            along = lengths.get(end[0]) if end is not None else None
            if end is None or along is None:
                ranked.append(_with(r, distance_m(lon, lat, r.lon, r.lat), "straight"))
            else:
                ranked.append(_with(r, snap_from + along + end[1], "road"))
    ranked.sort(key=lambda r: (r.distance_m, r.kind, r.id))
    return ranked[:limit]
