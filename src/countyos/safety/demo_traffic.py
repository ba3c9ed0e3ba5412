"""The demo county's traffic (路段, 停车场, 道路事件) part of the safety domain.

- A road network between the township seats: a minimum spanning tree of the seats (national, provincial,
  expressway and county roads) plus a few shortcuts to each seat's nearest neighbours (township roads), each
  link cut into a few segments along a gently bent line; the segments meet at shared end points, so the
  network is connected (the resources part routes along it).
- 3 parking lots counted by the sensing demo's parking-01..03 and 5 without sensors.
- 6 road incidents: a construction closure and a congestion published now, 4 ended in the past weeks.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
from shapely.geometry import LineString
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.geo.models import Division, DivisionKind, DivisionLevel
from countyos.geo.service import divisions
from countyos.safety.models.traffic import IncidentKind, IncidentSeverity, ParkingKind, RoadClass, RoadSegment
from countyos.safety.schemas.traffic import IncidentIn, ParkingLotIn
from countyos.safety.service import traffic, traffic_incidents, traffic_parking
from countyos.sensing.service import devices, streams

# township seats of 遂昌县 (approximate, WGS 84) when the database holds no divisions
FALLBACK_SEATS = [
    ("妙高街道", 119.276, 28.592),
    ("云峰街道", 119.305, 28.612),
    ("北界镇", 119.392, 28.672),
    ("金竹镇", 119.165, 28.636),
    ("大柘镇", 119.335, 28.497),
    ("石练镇", 119.178, 28.468),
    ("王村口镇", 119.070, 28.398),
    ("黄沙腰镇", 119.012, 28.505),
    ("新路湾镇", 119.278, 28.690),
    ("湖山乡", 119.180, 28.740),
    ("焦滩乡", 119.360, 28.560),
    ("应村乡", 119.060, 28.640),
]
TARGET_SEGMENTS = 90


def _seats(session: Session) -> list[tuple[str, float, float]]:
    county = divisions.the_county(session)
    if county is None:
        return FALLBACK_SEATS
    towns = list(
        session.scalars(
            select(Division)
            .where(Division.level == DivisionLevel.TOWNSHIP, Division.parent_code == county.code)
            .order_by(Division.code)
        )
    )
    villages = list(
        session.scalars(
            select(Division).where(Division.level == DivisionLevel.VILLAGE, Division.kind == DivisionKind.COMMUNITY)
        )
    )
    out = []
    for t in towns:
        community = next((v for v in villages if v.parent_code == t.code), None)
        p = (community or t).geom.representative_point()
        out.append((t.name, round(p.x, 6), round(p.y, 6)))
    return out if len(out) >= 3 else FALLBACK_SEATS


def _links(xy: np.ndarray[Any, Any]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The minimum spanning tree of the seats (Prim) and shortcuts to each seat's second-nearest seat."""
    n = len(xy)
    inside, tree = {0}, []
    while len(inside) < n:
        best: tuple[float, int, int] | None = None
        for i in inside:
            d = np.hypot(*(xy - xy[i]).T)
            for j in np.argsort(d):
                if int(j) not in inside:
                    if best is None or d[j] < best[0]:
                        best = (float(d[j]), i, int(j))
                    break
        assert best is not None
        inside.add(best[2])
        tree.append((best[1], best[2]))
    have = {frozenset(e) for e in tree}
    extra = []
    for i in range(n):
        d = np.hypot(*(xy - xy[i]).T)
        for j in [int(k) for k in np.argsort(d)[1:3]]:
            if frozenset((i, j)) not in have:
                have.add(frozenset((i, j)))
                extra.append((i, j))
    return tree, extra


def _bent(a: tuple[float, float], b: tuple[float, float], pieces: int, rng: np.random.Generator) -> list[LineString]:
    """The link from A to B as PIECES segments along a gently bent line (shared end points)."""
    (x0, y0), (x1, y1) = a, b
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length else (0.0, 0.0)
    bend = float(rng.uniform(-0.12, 0.12)) * length
    knots = []
    for k in range(pieces * 3 + 1):
        t = k / (pieces * 3)
        off = bend * math.sin(math.pi * t)
        knots.append((round(x0 + (x1 - x0) * t + nx * off, 6), round(y0 + (y1 - y0) * t + ny * off, 6)))
    return [LineString(knots[k * 3 : k * 3 + 4]) for k in range(pieces)]


def load_roads(session: Session) -> list[RoadSegment]:
    seats = _seats(session)
    xy = np.array([[x, y] for _, x, y in seats])
    tree, extra = _links(xy)
    rng = np.random.default_rng(331123)
    pieces = max(2, math.ceil(TARGET_SEGMENTS / max(len(tree) + len(extra), 1)))
    segments: list[RoadSegment] = []
    # the first two links grown from the county seat carry the national road, the longest other two links of
    # the tree the expressway and the provincial road
    by_length = sorted(range(2, len(tree)), key=lambda e: -float(np.hypot(*(xy[tree[e][0]] - xy[tree[e][1]]))))
    trunk = {0: ("G235", RoadClass.NATIONAL), 1: ("G235", RoadClass.NATIONAL)}
    for e, named in zip(by_length, (("S50", RoadClass.EXPRESSWAY), ("S222", RoadClass.PROVINCIAL)), strict=False):
        trunk[e] = named
    x_number, y_number = 501, 1
    for e, (i, j) in enumerate([*tree, *extra]):
        in_tree = e < len(tree)
        if e in trunk:
            code, road_class = trunk[e]
        elif in_tree:
            code, road_class, x_number = f"X{x_number}", RoadClass.COUNTY, x_number + 1
        else:
            code, road_class, y_number = f"Y{y_number:03d}", RoadClass.TOWNSHIP, y_number + 1
        name = f"{seats[i][0]}—{seats[j][0]}"
        for k, line in enumerate(_bent((xy[i][0], xy[i][1]), (xy[j][0], xy[j][1]), pieces, rng), start=1):
            segments.append(
                traffic.segment_of(line, code=code, name=f"{name}（{k}）", road_class=road_class, oneway=False)
            )
    session.add_all(segments)
    session.flush()
    return segments


LOTS: list[tuple[str, ParkingKind, str | None, int, int, str, str, tuple[float, float]]] = [
    # name, kind, sensor, spaces, charging, fee, hours, offset from the county seat (degrees) when no sensor
    (
        "县城中心停车场",
        ParkingKind.PUBLIC,
        "parking-01",
        200,
        20,
        "首30分钟免费，之后每小时2元",
        "全天",
        (0.002, 0.001),
    ),
    ("神龙谷景区停车场", ParkingKind.SCENIC, "parking-02", 200, 10, "小车10元/次", "07:30-18:00", (-0.06, 0.11)),
    (
        "县人民医院停车场",
        ParkingKind.HOSPITAL,
        "parking-03",
        200,
        8,
        "首1小时免费，之后每小时3元",
        "全天",
        (0.006, -0.004),
    ),
    ("北街路内泊位", ParkingKind.STREET, None, 48, 0, "每小时2元，夜间免费", "08:00-20:00", (0.001, 0.004)),
    ("农贸市场停车场", ParkingKind.MARKET, None, 80, 4, "首1小时免费", "05:30-19:00", (-0.004, 0.002)),
    ("汤显祖纪念馆停车场", ParkingKind.SCENIC, None, 60, 6, "免费", "08:30-17:00", (0.003, 0.006)),
    ("高铁站P1停车场", ParkingKind.PUBLIC, None, 300, 30, "每小时3元，24小时封顶30元", "全天", (0.03, 0.02)),
    ("云峰街道社区停车场", ParkingKind.OTHER, None, 40, 2, "居民免费", "全天", (0.03, 0.02)),
]


def load_lots(session: Session, actor: Actor, seat: tuple[str, float, float]) -> int:
    _, sx, sy = seat
    n = 0
    for name, kind, key, spaces, charging, fee, hours, (dx, dy) in LOTS:
        lon, lat = sx + dx, sy + dy
        attach = key if key is not None and streams.by_key(session, key, "occupied") is not None else None
        if attach is not None:
            thing = devices.get_by_key(session, device_key=attach)
            if thing is not None and thing.lon is not None and thing.lat is not None:
                lon, lat = thing.lon, thing.lat
        traffic_parking.create_lot(
            session,
            actor=actor,
            data=ParkingLotIn(
                name=name,
                kind=kind,
                lon=round(lon, 6),
                lat=round(lat, 6),
                address=f"{seat[0]}{name.removesuffix('停车场')}",
                township=seat[0],
                capacity=spaces,
                charging=charging,
                fee=fee,
                hours=hours,
                device_key=attach,
                metric="occupied" if attach else None,
                public=kind != ParkingKind.OTHER,
            ),
        )
        n += 1
    return n


def load_incidents(session: Session, actor: Actor, segments: list[RoadSegment]) -> int:
    now = utcnow().replace(second=0, microsecond=0)
    by_code: dict[str, list[RoadSegment]] = {}
    for s in segments:
        by_code.setdefault(s.code or "", []).append(s)
    x_road = next((v for k, v in by_code.items() if k.startswith("X")), segments)
    g_road = by_code.get("G235") or segments

    def where(seg: RoadSegment) -> tuple[str, str]:
        a, _, b = seg.name.partition("—")
        return a, b.split("（")[0]

    plans = [
        # kind, severity, title, segment, starts (h from now), ends (h from now), published, detour, description
        (IncidentKind.CONSTRUCTION, IncidentSeverity.SEVERE, f"{x_road[1 % len(x_road)].code}桥梁加固全封闭施工",
         x_road[1 % len(x_road)], -48, 24 * 5, True, "请经G235绕行，大型车辆提前分流",
         "桥梁加固施工，全封闭，行人与非机动车可从便桥通行"),
        (IncidentKind.CONGESTION, IncidentSeverity.MINOR, "城区入口车流量大，通行缓慢", g_road[0], -1, 3, True,
         "可走滨江路进城", "节假日返程车流集中"),
        (IncidentKind.ACCIDENT, IncidentSeverity.MAJOR, "两车追尾，占用一条车道", g_road[-1], -24 * 9, -213,
         False, "", "事故已处理完毕"),
        (IncidentKind.CLOSURE, IncidentSeverity.SEVERE, "山体落石临时封闭", x_road[-1], -24 * 16, -24 * 15, False,
         "经相邻乡道绕行", "落石已清理"),
        (IncidentKind.CONSTRUCTION, IncidentSeverity.MINOR, "路面修补半幅通行", segments[len(segments) // 2],
         -24 * 20, -24 * 18, False, "", "半幅施工"),
        (IncidentKind.CONGESTION, IncidentSeverity.MINOR, "集市日车流集中", segments[len(segments) // 3],
         -24 * 4, -24 * 4 + 4, False, "", "集市散场后恢复"),
    ]  # fmt: skip
    for kind, severity, title, seg, start_h, end_h, published, detour, description in plans:
        a, b = where(seg)
        starts, ends = now + timedelta(hours=start_h), now + timedelta(hours=end_h)
        inc = traffic_incidents.create_incident(
            session,
            actor=actor,
            data=IncidentIn(
                kind=kind,
                severity=severity,
                title=title,
                description=description,
                road_id=seg.id,
                from_words=a,
                to_words=b,
                starts_at=starts,
                ends_at=ends,
                detour=detour,
                note="现场联系人见值班表",
            ),
        )
        inc.created_at = inc.updated_at = starts - timedelta(hours=1)
        traffic_incidents.publish(session, actor=actor, incident_id=inc.id, now=starts - timedelta(minutes=30))
        if not published:
            traffic_incidents.end(session, actor=actor, incident_id=inc.id, now=ends)
    session.flush()
    return len(plans)


def load(session: Session, ctx: Any) -> None:
    uid = ctx.user_ids.get("jtj")
    actor = Actor(id=uid, name="jtj" if uid else "demo")
    segments = load_roads(session)
    seat = _seats(session)[0]
    lots = load_lots(session, actor, seat)
    incidents = load_incidents(session, actor, segments)
    km = round(sum(s.length_m for s in segments) / 1000)
    ctx.notes.append(
        f"Traffic: {len(segments)} road segments ({km} km), {lots} parking lots, {incidents} road incidents "
        "(2 published) — /safety/traffic, public /portal/roads"
    )
