"""The demo county's 河长制/林长制: 遂昌's rivers, their sections per township, 湖山水库, two forest
areas, chiefs at three levels bound to the demo people, and a year of patrols.

Rivers are drawn through the townships they flow past (a deterministic wiggle between the townships'
inner points, cut to the county's boundary); each river's part inside a township is its section
there. Chiefs: the 分管副县长 赵敏 is county chief (河长 and 林长) of every river, the reservoir and the
forests; 周卫东 township river chief of 大柘镇's sections, and a township chief made (through org's service, login
``hz_<township>``) for every other township with a section; 叶建新 village river chief of 松阴溪大柘段;
吴光明 township forest chief of 北界镇's forest. A year of patrols follows the duties (weekly, per 旬,
monthly) with a few missed and a few flagged (no track), each track walking along the water or the
forest's edge; about one patrol in ten finds a problem, which opens a case; most of the older ones
have been closed (自处理结案 by the duty shift leader).
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.lifecycle import Action
from countyos.cases.schemas import ActionIn
from countyos.cases.service import transitions
from countyos.core.actor import Actor
from countyos.core.demo import DEMO_PASSWORD
from countyos.core.errors import CountyError
from countyos.eco.models.rivers import AreaKind, ChiefLevel, ChiefRole, RiverArea, RiverChief
from countyos.eco.schemas.rivers import AreaIn, ChiefIn, PointIn, ProblemIn
from countyos.eco.service import rivers, rivers_patrols, rivers_stats
from countyos.geo.models import Division, DivisionLevel
from countyos.geo.service import crs as geo_crs
from countyos.geo.service import divisions
from countyos.org.service import users

ACTOR = Actor(id=None, name="demo")
SEED = 1919
# code, name, the townships it flows past (in order)
RIVERS: list[tuple[str, str, list[str]]] = [
    ("WXJ", "乌溪江", ["王村口镇", "黄沙腰镇", "湖山乡"]),
    ("SYX", "松阴溪", ["云峰街道", "妙高街道", "大柘镇", "石练镇"]),
    ("ZGY", "周公源", ["金竹镇", "北界镇", "妙高街道"]),
    ("GCX", "关川溪", ["焦滩乡", "应村乡"]),
    ("TYX", "桃源溪", ["柘岱口乡", "垵口乡"]),
]
FORESTS = [("LQ-BJ", "北界镇白马山林区", "北界镇", 3500.0), ("LQ-WCK", "王村口镇天堂山林区", "王村口镇", 3000.0)]
RIVER_KINDS = ["garbage", "garbage", "outfall", "encroach", "sand", "fishing", "other"]
FOREST_KINDS = ["pest", "logging", "fire", "landuse", "other"]


def _townships(session: Session) -> dict[str, Division]:
    rows = session.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP))
    return {d.name: d for d in rows}


def _wiggle(points: list[tuple[float, float]], rng: np.random.Generator) -> LineString:
    """A river-like line through POINTS: each leg bent by two smooth sine waves."""
    out: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = 40
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1e-9
        nx, ny = -dy / length, dx / length
        a1, a2 = rng.uniform(0.03, 0.08) * length, rng.uniform(0.01, 0.03) * length
        p1, p2 = rng.uniform(0, math.pi), rng.uniform(0, math.pi)
        for i in range(n):
            t = i / n
            off = a1 * math.sin(math.pi * t) * math.sin(2 * math.pi * t + p1) + a2 * math.sin(6 * math.pi * t + p2)
            out.append((x0 + dx * t + nx * off, y0 + dy * t + ny * off))
    out.append(points[-1])
    return LineString(out)


def _longest_line(g: BaseGeometry) -> LineString | None:
    if isinstance(g, LineString):
        return g if not g.is_empty else None
    parts = [p for p in getattr(g, "geoms", []) if isinstance(p, LineString)]
    if not parts:
        lines = [p for p in getattr(g, "geoms", []) if isinstance(p, MultiLineString)]
        parts = [q for m in lines for q in m.geoms]
    return max(parts, key=lambda p: p.length) if parts else None


def _ellipse(lon: float, lat: float, a_m: float, b_m: float, angle: float) -> BaseGeometry:
    epsg = geo_crs.gauss_kruger_epsg(lon)
    c = geo_crs.to_metres(Point(lon, lat), epsg)
    ring = [
        (
            c.x + a_m * math.cos(t) * math.cos(angle) - b_m * math.sin(t) * math.sin(angle),
            c.y + a_m * math.cos(t) * math.sin(angle) + b_m * math.sin(t) * math.cos(angle),
        )
        for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)
    ]
    return geo_crs.from_metres(shapely.Polygon(ring), epsg)


def _disc(lon: float, lat: float, r_m: float) -> BaseGeometry:
    epsg = geo_crs.gauss_kruger_epsg(lon)
    return geo_crs.from_metres(geo_crs.to_metres(Point(lon, lat), epsg).buffer(r_m, quad_segs=12), epsg)


def _make(
    session: Session,
    kind: AreaKind,
    code: str,
    name: str,
    geom: BaseGeometry,
    parent: str | None = None,
    note: str | None = None,
) -> RiverArea:
    geom = shapely.set_precision(geom, 1e-7)
    body = AreaIn(kind=kind, code=code, name=name, parent_code=parent, geometry=dict(mapping(geom)), note=note)
    return rivers.create_area(session, actor=ACTOR, body=body, source="demo")


def _areas(session: Session, rng: np.random.Generator) -> dict[str, Any]:
    county = divisions.require_county(session)
    towns = _townships(session)
    made: dict[str, Any] = {"rivers": {}, "sections": {}, "forests": {}, "reservoir": None}
    for code, name, path in RIVERS:
        pts = [towns[t].geom.representative_point() for t in path if t in towns]
        if len(pts) < 2:
            continue
        line = _longest_line(_wiggle([(p.x, p.y) for p in pts], rng).intersection(county.geom))
        if line is None:
            continue
        river = _make(session, AreaKind.RIVER, f"331123-{code}", name, line, note="示意走向（演示数据）")
        made["rivers"][code] = river
        for t in path:
            d = towns.get(t)
            if d is None:
                continue
            part = _longest_line(line.intersection(d.geom))
            if part is None or geo_crs.to_metres(part).length < 800:
                continue
            sec = _make(
                session, AreaKind.SECTION, f"331123-{code}-{d.code[-3:]}", f"{name}{t}段", part, parent=river.code
            )
            made["sections"][(code, t)] = sec
    hushan = towns.get("湖山乡")
    if hushan is not None:
        p = hushan.geom.representative_point()
        res = _ellipse(p.x, p.y, 1800, 600, 0.6).intersection(hushan.geom)
        made["reservoir"] = _make(session, AreaKind.RESERVOIR, "331123-HSSK", "湖山水库", res)
    for code, name, town, radius in FORESTS:
        d = towns.get(town)
        if d is None:
            continue
        p = d.geom.representative_point()
        g = _disc(p.x, p.y, radius).intersection(d.geom)
        if g.geom_type == "GeometryCollection" or g.is_empty:
            continue
        made["forests"][town] = _make(session, AreaKind.FOREST, f"331123-{code}", name, g)
    return made


def _assign(
    session: Session, user_id: int | None, area: RiverArea | None, level: ChiefLevel, role: ChiefRole, starts: date
) -> RiverChief | None:
    if user_id is None or area is None:
        return None
    body = ChiefIn(user_id=user_id, area_id=area.id, level=level, role=role, starts_on=starts)
    return rivers.assign(session, actor=ACTOR, body=body)


def _track(area: RiverArea, rng: np.random.Generator, metres: float) -> list[tuple[float, float]]:
    """Points every ~80 m along a stretch of the water (or the forest's edge), a few metres off it."""
    base = area.geom if area.kind in (AreaKind.RIVER, AreaKind.SECTION) else area.geom.boundary
    line = _longest_line(base)
    if line is None:
        return []
    epsg = geo_crs.gauss_kruger_epsg(line.centroid.x)
    m = geo_crs.to_metres(line, epsg)
    total = float(m.length)
    span = min(metres, total)
    start = float(rng.uniform(0, max(0.0, total - span)))
    part = substring(m, start, start + span)
    n = max(2, int(part.length // 80))
    pts = [part.interpolate(i / (n - 1), normalized=True) for i in range(n)]
    walked = shapely.LineString([(p.x + rng.normal(0, 4), p.y + rng.normal(0, 4)) for p in pts])
    back = geo_crs.from_metres(walked, epsg)
    return [(round(x, 7), round(y, 7)) for x, y in back.coords]


def _patrol(
    session: Session,
    c: RiverChief,
    area: RiverArea,
    day: date,
    rng: np.random.Generator,
    flagged: bool,
    shift: Actor | None,
    today: date,
) -> int:
    """One patrol on DAY (its track, maybe a problem and its case); the cases made."""
    actor = Actor(id=c.user_id, name=f"demo-chief-{c.user_id}", permissions=frozenset({"eco.rivers.patrol"}))
    hour = float(rng.uniform(8.0, 16.5))
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 8)  # local 08:00–16:30
    p = rivers_patrols.start(session, actor=actor, chief_id=c.id, at=start)
    coords = [] if flagged else _track(area, rng, float(rng.uniform(1500, 4000)))
    if flagged:
        coords = [(area.geom.representative_point().x, area.geom.representative_point().y)]
    pace = float(rng.uniform(0.9, 1.3))  # metres a second
    points = []
    t = start
    for i, (x, y) in enumerate(coords):
        if i:
            t += timedelta(seconds=geo_crs.distance_m(coords[i - 1][0], coords[i - 1][1], x, y) / pace)
        points.append(PointIn(seq=i, at=t, lon=x, lat=y, accuracy_m=round(float(rng.uniform(3, 15)), 1)))
    for k in range(0, len(points), 400):
        rivers_patrols.add_points(session, actor=actor, patrol_id=p.id, points=points[k : k + 400])
    made = 0
    if not flagged and coords and rng.random() < 0.11:
        kinds = FOREST_KINDS if area.kind == AreaKind.FOREST else RIVER_KINDS
        kind = kinds[int(rng.integers(0, len(kinds)))]
        x, y = coords[int(rng.integers(0, len(coords)))]
        found = start + (t - start) / 2
        try:
            with session.begin_nested():
                prob = rivers_patrols.report_problem(
                    session,
                    actor=actor,
                    patrol_id=p.id,
                    body=ProblemIn(kind=kind, lon=x, lat=y, note=rivers_patrols.problem_kinds()[kind]["zh"]),
                    at=found,
                )
            made = 1
            if shift is not None and prob.case_id is not None and (today - day).days > 14 and rng.random() < 0.8:
                closed_at = found + timedelta(days=float(rng.uniform(0.5, 10)))
                with session.begin_nested():
                    transitions.apply(
                        session,
                        actor=shift,
                        case_id=prob.case_id,
                        now=closed_at,
                        data=ActionIn(action=Action.SELF_CLOSE, comment="河长巡查发现，已督促属地当场整改"),
                    )
        except CountyError:
            pass
    rivers_patrols.finish(session, actor=actor, patrol_id=p.id, at=t + timedelta(minutes=2))
    return made


TOWNSHIP_CHIEFS = [
    "李建平",
    "王志华",
    "毛国庆",
    "华丽君",
    "蓝卫平",
    "潘金生",
    "周丽娟",
    "吴新民",
    "程海涛",
    "雷小燕",
    "郑文斌",
    "钟立新",
    "朱建华",
    "徐建明",
    "叶晓东",
]


def _township_chief(session: Session, town: Division, k: int) -> int:
    """A township river chief for a township the demo people do not cover (made once, audited)."""
    username = f"hz_{town.code[-3:]}"
    user = users.get_by_username(session, username=username)
    if user is None:
        user = users.create(
            session,
            actor=ACTOR,
            username=username,
            password=DEMO_PASSWORD,
            display_name=f"{town.name} 乡级河长 {TOWNSHIP_CHIEFS[k % len(TOWNSHIP_CHIEFS)]}",
            must_change_password=False,
        )
        users.set_roles(session, actor=ACTOR, user_id=user.id, role_codes=["river_chief"])
    return user.id


def load(session: Session, ctx: Any) -> None:
    if divisions.the_county(session) is None or session.scalar(select(RiverArea.id).limit(1)) is not None:
        return
    rng = np.random.default_rng(SEED)
    made = _areas(session, rng)
    today = rivers_stats.local_today()
    since = date(today.year - 1, today.month, 1)
    people = ctx.user_ids
    chiefs: list[RiverChief | None] = []
    for river in made["rivers"].values():
        chiefs.append(_assign(session, people.get("leader"), river, ChiefLevel.COUNTY, ChiefRole.RIVER, since))
    chiefs.append(_assign(session, people.get("leader"), made["reservoir"], ChiefLevel.COUNTY, ChiefRole.RIVER, since))
    for forest in made["forests"].values():
        chiefs.append(_assign(session, people.get("leader"), forest, ChiefLevel.COUNTY, ChiefRole.FOREST, since))
    towns = _townships(session)
    for k, ((_code, town), sec) in enumerate(made["sections"].items()):
        who = people.get("hz_dz") if town == "大柘镇" else _township_chief(session, towns[town], k)
        chiefs.append(_assign(session, who, sec, ChiefLevel.TOWNSHIP, ChiefRole.RIVER, since))
    chiefs.append(
        _assign(
            session,
            people.get("hz_dt"),
            made["sections"].get(("SYX", "大柘镇")),
            ChiefLevel.VILLAGE,
            ChiefRole.RIVER,
            since + timedelta(days=45),
        )
    )
    chiefs.append(
        _assign(
            session, people.get("lz_bj"), made["forests"].get("北界镇"), ChiefLevel.TOWNSHIP, ChiefRole.FOREST, since
        )
    )
    shift_id = people.get("shift")
    shift = Actor(id=shift_id, name="shift", permissions=frozenset({"case.shift", "case.intake"})) if shift_id else None
    patrols = cases = 0
    for c in [x for x in chiefs if x is not None]:
        area = session.get(RiverArea, c.area_id)
        assert area is not None
        unit, count = rivers_stats.duty(c)
        # the leader, busy, misses more; the village chief is diligent
        miss = {ChiefLevel.COUNTY: 0.14, ChiefLevel.TOWNSHIP: 0.08, ChiefLevel.VILLAGE: 0.04}[c.level]
        u = rivers_stats.unit_of(unit, c.starts_on)
        while u[0] < today:
            days = [
                d for d in (u[0] + timedelta(days=i) for i in range((u[1] - u[0]).days + 1)) if c.starts_on <= d < today
            ]
            r = rng.random()
            n = 0 if r < miss else (2 if r > 0.95 else count)
            if u[1] >= today and rng.random() < 0.5:
                n = 0  # the running unit: not everyone has been out yet
            for _ in range(min(n, len(days))):
                day = days[int(rng.integers(0, len(days)))]
                cases += _patrol(session, c, area, day, rng, flagged=rng.random() < 0.02, shift=shift, today=today)
                patrols += 1
            u = rivers_stats.unit_of(unit, u[1] + timedelta(days=1))
    ctx.notes.append(
        f"河长制/林长制: {len(made['rivers'])} rivers, {len(made['sections'])} sections, "
        f"{len(made['forests'])} forest areas, {sum(1 for c in chiefs if c)} chief assignments, {patrols} patrols "
        f"and {cases} problems (each a case) at /eco/rivers; chiefs patrol at /eco/patrol (hz_dz, hz_dt, lz_bj)."
    )
