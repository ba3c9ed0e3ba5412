"""The geo part of the demonstration county 遂昌县 (331123): bootstrapped offline from packaged data,
cut into 1 km unit grids, with a few thousand management components placed plausibly — dense in the
township seats and along the roads between them (a minimum spanning tree of the seats), old trees in
the villages — and grid responsibility for the demo's township departments and grid worker."""

from __future__ import annotations

import math
from datetime import date
from typing import Protocol

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.settings import get_settings
from countyos.geo.models import Division, DivisionKind, DivisionLevel
from countyos.geo.service import basemap, components, divisions, grids, tilerender
from countyos.geo.service.importing import FeatureRow
from countyos.org.service import departments


class DemoContext(Protocol):
    """What this loader uses of org's demo context (org.demo is not imported: other domains reach org
    only through its services)."""

    county_code: str
    department_ids: dict[str, int]
    user_ids: dict[str, int]
    notes: list[str]


GRID_CELL_M = 1000.0
DEMO_MAX_ZOOM = 14  # ≈ 920 tiles, 1.5 MB, 3 s of CPU (`countyos geo basemap` goes to 15 and beyond)
SEED = 331123

# (class code, how many, owning department, where): "core" = around township seats, "road" = along roads,
# "village" = anywhere in villages
PLAN: list[tuple[str, int, str, str]] = [
    ("01002", 700, "县住房和城乡建设局", "core"),  # 污水井盖
    ("01003", 600, "县住房和城乡建设局", "core"),  # 雨水井盖
    ("01001", 400, "县水利局", "core"),  # 供水井盖
    ("01037", 900, "县住房和城乡建设局", "road"),  # 路灯
    ("03005", 500, "县综合行政执法局", "core"),  # 垃圾箱
    ("01013", 250, "县应急管理局", "core"),  # 消防设施 (消防栓)
    ("03001", 70, "县综合行政执法局", "core"),  # 公共厕所
    ("04001", 110, "县自然资源和规划局", "village"),  # 古树名木
]
CORE_KM = {DivisionKind.STREET: 1.6, DivisionKind.TOWN: 0.7, DivisionKind.TOWNSHIP: 0.35}
CORE_WEIGHT = {DivisionKind.STREET: 6.0, DivisionKind.TOWN: 2.0, DivisionKind.TOWNSHIP: 1.0}
STATUSES = (["完好"] * 92) + (["破损"] * 5) + (["丢失"] * 2) + ["废弃"]


def _seats(session: Session) -> list[tuple[Division, Point]]:
    """Each township's seat: the representative point of its first community, else of the township."""
    towns = list(
        session.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP).order_by(Division.code))
    )
    villages = list(
        session.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE).order_by(Division.code))
    )
    out = []
    for t in towns:
        community = next((v for v in villages if v.parent_code == t.code and v.kind == DivisionKind.COMMUNITY), None)
        out.append((t, (community or t).geom.representative_point()))
    return out


def _roads(seats: list[Point]) -> list[LineString]:
    """A minimum spanning tree over the seats (Prim), standing in for the county's road network."""
    if len(seats) < 2:
        return []
    xy = np.array([[p.x, p.y] for p in seats])
    inside, edges = {0}, []
    while len(inside) < len(seats):
        best = None
        for i in inside:
            d = np.hypot(*(xy - xy[i]).T)
            for j in np.argsort(d):
                if int(j) not in inside:
                    if best is None or d[j] < best[0]:
                        best = (float(d[j]), i, int(j))
                    break
        assert best is not None
        _, i, j = best
        inside.add(j)
        edges.append(LineString([seats[i], seats[j]]))
    return edges


def _km(lat: float) -> tuple[float, float]:
    return 1 / (111.32 * math.cos(math.radians(lat))), 1 / 110.574


def place_components(session: Session, rng: np.random.Generator) -> list[FeatureRow]:
    seats = _seats(session)
    county = divisions.require_county(session)
    shapely.prepare(county.geom)
    dx, dy = _km(county.geom.centroid.y)
    weights = np.array([CORE_WEIGHT.get(t.kind, 1.0) for t, _ in seats])
    weights = weights / weights.sum()
    roads = _roads([p for _, p in seats])
    villages = list(session.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE)))
    rows: list[FeatureRow] = []
    for cls, count, owner, where in PLAN:
        made = 0
        while made < count:
            if where == "core":
                t, p = seats[int(rng.choice(len(seats), p=weights))]
                r = CORE_KM.get(t.kind, 0.5)
                x, y = p.x + rng.normal(0, r) * dx, p.y + rng.normal(0, r) * dy
            elif where == "road" and roads:
                road = roads[int(rng.integers(len(roads)))]
                q = road.interpolate(float(rng.random()), normalized=True)
                x, y = q.x + rng.normal(0, 0.02) * dx, q.y + rng.normal(0, 0.02) * dy
            else:
                v = villages[int(rng.integers(len(villages)))]
                x0, y0, x1, y1 = v.geom.bounds
                x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
                if not shapely.contains_xy(v.geom, x, y):
                    continue
            if not shapely.contains_xy(county.geom, x, y):
                continue
            year = int(rng.integers(2015, 2026))
            rows.append(
                FeatureRow(
                    row=len(rows) + 1,
                    geom=Point(round(x, 7), round(y, 7)),
                    properties={
                        "class_code": cls,
                        "GLBJZT": STATUSES[int(rng.integers(len(STATUSES)))],
                        "ZGBMMC": owner,
                        "CSRQ": date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29))).strftime("%Y%m%d"),
                        "SJLY": "实测",
                    },
                )
            )
            made += 1
    return rows


def load(session: Session, ctx: DemoContext) -> None:
    actor = Actor(id=None, name="demo")
    divisions.bootstrap(session, actor=actor, county_code=ctx.county_code)
    grids.generate(session, actor=actor, cell_m=GRID_CELL_M)
    rng = np.random.default_rng(SEED)
    rows = place_components(session, rng)
    # owner credit codes from the demo departments
    codes = {}
    for name, dep_id in ctx.department_ids.items():
        codes[name] = departments.get(session, department_id=dep_id).uscc
    for r in rows:
        r.properties["ZGBMDM"] = codes.get(r.properties["ZGBMMC"])
    report = components.import_components(session, actor=actor, rows=rows, source="demo")
    # Township departments are responsible for their grids; the demo grid worker patrols the first
    # grids of 妙高街道.
    towns = {d.name: d.code for d in session.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP))}
    for dep_name, dep_id in ctx.department_ids.items():
        for town_name, town_code in towns.items():
            if dep_name.startswith(town_name) and dep_name.endswith(("办事处", "人民政府")):
                grids.assign_department(session, actor=actor, department_id=dep_id, township_code=town_code)
    worker = ctx.user_ids.get("grid")
    if worker is not None:
        for code in _grids_of_township(session, towns.get("妙高街道", ""))[:12]:
            grids.update(session, actor=actor, code=code, worker_ids=[worker])
    # The base layer every map draws, rendered from these records: the demo needs no internet.
    settings = get_settings()
    base = tilerender.render(
        session, actor=actor, path=basemap.local_path(settings), min_zoom=8, max_zoom=DEMO_MAX_ZOOM
    )
    ctx.notes.append(
        f"Base layer: {base.tiles} map tiles (zoom {base.min_zoom}–{base.max_zoom}) drawn from the county's own "
        f"records into {base.path}; every map works without internet (`countyos geo basemap` redraws it)."
    )
    ctx.notes.append(
        f"Map: {report.imported} components on {grids.count(session)} grids of "
        f"{divisions.require_county(session).name} at /geo/map (boundaries below county level are "
        "approximate)."
    )


def _grids_of_township(session: Session, town_code: str) -> list[str]:
    from countyos.geo.models import Grid

    return list(session.scalars(select(Grid.code).where(Grid.township_code == town_code).order_by(Grid.code)))
