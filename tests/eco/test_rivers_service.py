"""河长制/林长制: areas from GeoJSON and zipped Shapefiles measured against pyproj, assignments and their
history, patrols with tracks and problems that become cases, 巡河率 at its edges, closure rate."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyproj import Geod
from shapely.geometry import LineString, Polygon, mapping

from countyos.cases.models import Attachment, Case, CaseEvent
from countyos.cases.service import categories
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import Conflict, PermissionDenied, ValidationFailed
from countyos.eco.models.rivers import (
    AreaKind,
    ChiefLevel,
    ChiefRole,
    PatrolState,
    RiverChief,
    RiverPatrol,
    RiverProblem,
)
from countyos.eco.schemas.rivers import AreaIn, ChiefIn, PointIn, ProblemIn
from countyos.eco.service import rivers, rivers_patrols, rivers_stats
from countyos.geo.service import divisions
from tests import factories
from tests.geo.conftest import make_county
from tests.harness import Baseline, Harness

OFFICE = Actor(id=None, name="river-office", permissions=frozenset({"eco.rivers.manage"}))
GEOD = Geod(ellps="GRS80")


@dataclass
class RiverWorld:
    lon: float  # a point inside the county, away from its edge
    lat: float
    office: factories.Person
    chief: factories.Person
    other: factories.Person


def build(db: Database) -> RiverWorld:
    make_county(db, cell_m=None)
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=factories.FACTORY)
        categories.ensure_default_limits(s)
        county = divisions.require_county(s)
        p = county.geom.representative_point()
        lon, lat = float(p.x), float(p.y)
    return RiverWorld(
        lon=lon,
        lat=lat,
        office=factories.person(db, ["river_office"]),
        chief=factories.person(db, ["river_chief"]),
        other=factories.person(db, ["river_chief"]),
    )


BASELINE = Baseline("eco rivers: 遂昌县 with chiefs", lambda db, _built: build(db))


@pytest.fixture(scope="session")
def rivers_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, rivers_world_baseline: Baseline) -> RiverWorld:
    w: RiverWorld = harness.value(rivers_world_baseline, db=db)
    return w


def river_line(w: RiverWorld, dx: float = 0.0) -> LineString:
    return LineString([(w.lon - 0.02 + dx, w.lat - 0.01), (w.lon + dx, w.lat), (w.lon + 0.02 + dx, w.lat + 0.012)])


def lake(w: RiverWorld) -> Polygon:
    x, y = w.lon + 0.01, w.lat - 0.01
    return Polygon([(x, y), (x + 0.008, y), (x + 0.008, y + 0.006), (x, y + 0.006), (x, y)])


def geod_length(g: LineString) -> float:
    return float(GEOD.geometry_length(g))


def geod_area(g: Polygon) -> float:
    return abs(float(GEOD.geometry_area_perimeter(g)[0]))


def actor(p: factories.Person, *perms: str) -> Actor:
    return Actor(id=p.id, name=p.username, permissions=frozenset(perms or {"eco.rivers.patrol"}))


def make_area(s: Any, w: RiverWorld, code: str = "WX-01", kind: AreaKind = AreaKind.RIVER, geom: Any = None) -> int:
    g = geom if geom is not None else (river_line(w) if kind in (AreaKind.RIVER, AreaKind.SECTION) else lake(w))
    body = AreaIn(kind=kind, code=code, name=f"测试{code}", geometry=mapping(g))
    return rivers.create_area(s, actor=OFFICE, body=body).id


def assign(
    s: Any,
    w: RiverWorld,
    area_id: int,
    p: factories.Person,
    level: ChiefLevel,
    starts: date,
    role: ChiefRole = ChiefRole.RIVER,
) -> RiverChief:
    return rivers.assign(
        s, actor=OFFICE, body=ChiefIn(user_id=p.id, area_id=area_id, level=level, role=role, starts_on=starts)
    )


# --- geometry ------------------------------------------------------------------------------------


def _geojson(w: RiverWorld) -> bytes:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "R1", "name": "乌溪江", "kind": "河流"},
                "geometry": mapping(river_line(w)),
            },
            {
                "type": "Feature",
                "properties": {"code": "L1", "name": "湖山水库", "kind": "水库"},
                "geometry": mapping(lake(w)),
            },
            {
                "type": "Feature",
                "properties": {"code": "S1", "name": "乌溪江某段", "kind": "河段", "parent": "R1"},
                "geometry": mapping(river_line(w, 0.001)),
            },
            {
                "type": "Feature",
                "properties": {"code": "BAD", "name": "错的", "kind": "河流"},
                "geometry": mapping(lake(w)),
            },
            {
                "type": "Feature",
                "properties": {"code": "FAR", "name": "县外", "kind": "河流"},
                "geometry": mapping(LineString([(100.0, 30.0), (100.1, 30.1)])),
            },
        ],
    }
    return json.dumps(fc).encode()


def test_geojson_import_measures_in_metres_and_reports_each_feature(db: Database, world: RiverWorld) -> None:
    with db.unit_of_work() as s:
        r = rivers.import_file(s, actor=OFFICE, data=_geojson(world), filename="rivers.geojson")
        assert (r.total, r.added, r.updated, r.skipped) == (5, 3, 0, 2)
        by_code = {row["code"]: row for row in r.rows}
        assert by_code["BAD"]["result"] == "skipped" and "LineString" in by_code["BAD"]["message"]
        assert by_code["FAR"]["result"] == "skipped"
        river = rivers.get_area_by_code(s, code="R1")
        res = rivers.get_area_by_code(s, code="L1")
        sec = rivers.get_area_by_code(s, code="S1")
        assert river and res and sec
        assert river.kind == AreaKind.RIVER and res.kind == AreaKind.RESERVOIR and sec.parent_id == river.id
        assert river.length_m == pytest.approx(geod_length(river_line(world)), rel=5e-4)
        assert res.area_m2 == pytest.approx(geod_area(lake(world)), rel=1e-3)
        assert river.area_m2 is None and res.length_m is None
        assert river.township_code and river.township_code.startswith("331123")
        # the same file again replaces, never duplicates
        again = rivers.import_file(s, actor=OFFICE, data=_geojson(world), filename="rivers.geojson")
        assert (again.added, again.updated) == (0, 3)


def _shapefile_zip(world: RiverWorld) -> bytes:
    import numpy as np
    from pyogrio.raw import write

    forest = lake(world)
    geoms = np.array([forest.wkb], dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "forest.shp"
        write(
            str(path),
            geometry=geoms,
            field_data=[np.array(["F1"], dtype=object), np.array(["测试林区"], dtype=object)],
            fields=["code", "name"],
            geometry_type="Polygon",
            crs="EPSG:4326",
            driver="ESRI Shapefile",
            encoding="UTF-8",
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for f in Path(tmp).iterdir():
                z.write(f, f.name)
        return buf.getvalue()


def test_zipped_shapefile_import_with_kind_for_the_file(db: Database, world: RiverWorld) -> None:
    data = _shapefile_zip(world)
    with db.unit_of_work() as s:
        r = rivers.import_file(s, actor=OFFICE, data=data, filename="forest.zip", kind=AreaKind.FOREST)
        assert (r.added, r.skipped) == (1, 0), r.rows
        f = rivers.get_area_by_code(s, code="F1")
        assert f and f.kind == AreaKind.FOREST and f.name == "测试林区"
        assert f.area_m2 == pytest.approx(geod_area(lake(world)), rel=1e-3)


def test_drawn_area_refuses_wrong_geometry_and_taken_code(db: Database, world: RiverWorld) -> None:
    with db.unit_of_work() as s:
        make_area(s, world, "WX-01")
        with pytest.raises(Conflict):
            make_area(s, world, "WX-01")
        with pytest.raises(ValidationFailed) as e:
            make_area(s, world, "WX-02", kind=AreaKind.LAKE, geom=river_line(world))
        assert e.value.errors[0]["field"] == "geometry"


# --- chiefs --------------------------------------------------------------------------------------


def test_assignment_history_and_clash(db: Database, world: RiverWorld) -> None:
    with db.unit_of_work() as s:
        area = make_area(s, world)
        c = assign(s, world, area, world.chief, ChiefLevel.VILLAGE, date(2026, 1, 1))
        with pytest.raises(Conflict):
            assign(s, world, area, world.chief, ChiefLevel.VILLAGE, date(2026, 6, 1))
        rivers.end(s, actor=OFFICE, chief_id=c.id, ends_on=date(2026, 5, 31), reason="调任")
        with pytest.raises(Conflict):
            rivers.end(s, actor=OFFICE, chief_id=c.id, ends_on=date(2026, 6, 1))
        c2 = assign(s, world, area, world.other, ChiefLevel.VILLAGE, date(2026, 6, 1))
        assert [x.id for x in rivers.list_chiefs(s, area_id=area)] == [c.id, c2.id]
        assert [x.id for x in rivers.list_chiefs(s, area_id=area, current=True, on=date(2026, 7, 1))] == [c2.id]
        assert [x.id for x in rivers.list_chiefs(s, area_id=area, current=True, on=date(2026, 3, 1))] == [c.id]
        forest = make_area(s, world, "LQ-01", kind=AreaKind.FOREST)
        with pytest.raises(ValidationFailed):
            assign(s, world, forest, world.chief, ChiefLevel.TOWNSHIP, date(2026, 1, 1), role=ChiefRole.RIVER)
        with pytest.raises(ValidationFailed):
            assign(s, world, area, world.chief, ChiefLevel.TOWNSHIP, date(2026, 1, 1), role=ChiefRole.FOREST)


# --- patrols -------------------------------------------------------------------------------------


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_patrol_track_problem_case_with_photo_and_finish(db: Database, world: RiverWorld) -> None:
    me = actor(world.chief)
    with db.unit_of_work() as s:
        area = make_area(s, world)
        c = assign(s, world, area, world.chief, ChiefLevel.VILLAGE, date(2026, 1, 1))
        t0 = datetime.now(UTC) - timedelta(minutes=30)
        p = rivers_patrols.start(s, actor=me, chief_id=c.id, at=t0)
        line = list(river_line(world).coords)
        pts = [PointIn(seq=i, at=t0 + timedelta(minutes=5 * i), lon=x, lat=y) for i, (x, y) in enumerate(line)]
        assert rivers_patrols.add_points(s, actor=me, patrol_id=p.id, points=pts[:2]) == (2, 2)
        assert rivers_patrols.add_points(s, actor=me, patrol_id=p.id, points=pts) == (1, 3)  # a batch sent again
        body = ProblemIn(kind="garbage", lon=world.lon, lat=world.lat, note="岸边堆放生活垃圾", key="k-0001")
        prob = rivers_patrols.report_problem(
            s, actor=me, patrol_id=p.id, body=body, photo=rivers_patrols.Photo(PNG, "a.png")
        )
        assert prob.case_id is not None and prob.case_number
        case = s.get(Case, prob.case_id)
        assert case is not None and case.channel == "grid" and case.lon == pytest.approx(world.lon)
        ev = s.query(CaseEvent).filter_by(case_id=case.id).one()
        assert ev.context["patrol_id"] == p.id and ev.context["problem_id"] == prob.id
        att = s.get(Attachment, prob.attachment_id)
        assert att is not None and att.case_id == case.id
        # the same problem sent again (offline retry) is one problem and one case
        again = rivers_patrols.report_problem(s, actor=me, patrol_id=p.id, body=body)
        assert again.id == prob.id
        done = rivers_patrols.finish(s, actor=me, patrol_id=p.id)
        assert done.state == PatrolState.FINISHED and not done.flagged
        assert done.length_m == pytest.approx(geod_length(river_line(world)), rel=1e-3)
        assert done.duration_s is not None and done.duration_s >= 10 * 60
        with pytest.raises(Conflict):
            rivers_patrols.add_points(s, actor=me, patrol_id=p.id, points=pts)


def test_a_patrol_without_track_is_kept_but_flagged(db: Database, world: RiverWorld) -> None:
    me = actor(world.chief)
    with db.unit_of_work() as s:
        c = assign(s, world, make_area(s, world), world.chief, ChiefLevel.VILLAGE, date(2026, 1, 1))
        p = rivers_patrols.start(s, actor=me, chief_id=c.id)
        rivers_patrols.add_points(
            s, actor=me, patrol_id=p.id, points=[PointIn(seq=0, at=datetime.now(UTC), lon=world.lon, lat=world.lat)]
        )
        done = rivers_patrols.finish(s, actor=me, patrol_id=p.id)
        assert done.flagged and done.points == 1 and done.length_m == 0
        p2 = rivers_patrols.start(s, actor=me, chief_id=c.id)
        now = datetime.now(UTC)
        same = [PointIn(seq=i, at=now, lon=world.lon, lat=world.lat) for i in range(3)]
        rivers_patrols.add_points(s, actor=me, patrol_id=p2.id, points=same)
        assert rivers_patrols.finish(s, actor=me, patrol_id=p2.id).flagged


def test_a_chief_cannot_patrol_others_waters(db: Database, world: RiverWorld) -> None:
    with db.unit_of_work() as s:
        c = assign(s, world, make_area(s, world), world.chief, ChiefLevel.VILLAGE, date(2026, 1, 1))
        with pytest.raises(PermissionDenied):
            rivers_patrols.start(s, actor=actor(world.other), chief_id=c.id)
        p = rivers_patrols.start(s, actor=actor(world.chief), chief_id=c.id)
        with pytest.raises(PermissionDenied):
            rivers_patrols.add_points(
                s,
                actor=actor(world.other),
                patrol_id=p.id,
                points=[PointIn(seq=0, at=datetime.now(UTC), lon=world.lon, lat=world.lat)],
            )
        with pytest.raises(PermissionDenied):
            rivers_patrols.finish(s, actor=actor(world.other), patrol_id=p.id)
        rivers.end(s, actor=OFFICE, chief_id=c.id, ends_on=date(2026, 1, 31))
        with pytest.raises(ValidationFailed):
            rivers_patrols.start(s, actor=actor(world.chief), chief_id=c.id)


# --- figures -------------------------------------------------------------------------------------


def _patrol(s: Any, c: RiverChief, day: date, flagged: bool = False) -> None:
    at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in the county
    s.add(
        RiverPatrol(
            chief_id=c.id,
            area_id=c.area_id,
            user_id=c.user_id,
            state=PatrolState.FINISHED,
            started_at=at,
            finished_at=at + timedelta(hours=1),
            duration_s=3600,
            length_m=1500.0,
            points=40,
            flagged=flagged,
        )
    )
    s.flush()


def test_patrol_rate_due_counts_by_level_and_period(db: Database, world: RiverWorld) -> None:
    nov = rivers_stats.parse_period("2026-11")
    with db.unit_of_work() as s:
        area = make_area(s, world)
        village = assign(s, world, area, world.chief, ChiefLevel.VILLAGE, date(2026, 1, 1))
        town = assign(s, world, area, world.other, ChiefLevel.TOWNSHIP, date(2026, 1, 1))
        county = assign(s, world, area, world.office, ChiefLevel.COUNTY, date(2026, 1, 1))
        # weeks ending in November 2026: Nov 1, 8, 15, 22, 29 (Oct 26–Nov 1 counts: its Sunday is in November)
        for d in (date(2026, 10, 27), date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 17)):
            _patrol(s, village, d)
        _patrol(s, village, date(2026, 11, 24), flagged=True)  # flagged: not counted
        _patrol(s, town, date(2026, 11, 10))  # 上旬 only
        _patrol(s, county, date(2026, 11, 30))
        rows = {r.chief.id: r for r in rivers_stats.rates(s, period=nov, as_of=date(2026, 12, 4))}
        v, t, k = rows[village.id], rows[town.id], rows[county.id]
        assert (v.due, v.done) == (5, 3) and v.rate == 0.6
        assert v.missed == ["2026-11-09~2026-11-15", "2026-11-23~2026-11-29"]
        assert (t.due, t.done) == (3, 1)
        assert (k.due, k.done, k.rate) == (1, 1, 1.0)
        # as of the 15th: only ended units are due
        mid = {r.chief.id: r for r in rivers_stats.rates(s, period=nov, as_of=date(2026, 11, 15))}
        assert (mid[village.id].due, mid[town.id].due, mid[county.id].due) == (2, 1, 0)
        assert mid[county.id].rate is None
        levels = {lr.level: lr for lr in rivers_stats.by_level(list(rows.values()))}
        assert (levels[ChiefLevel.VILLAGE].due, levels[ChiefLevel.VILLAGE].done) == (5, 3)
        # a year's due: 12 months for the county chief as of the next year
        year = {
            r.chief.id: r
            for r in rivers_stats.rates(s, period=rivers_stats.parse_period("2026"), as_of=date(2027, 1, 1))
        }
        assert year[county.id].due == 12 and year[town.id].due == 36
        q4 = {
            r.chief.id: r
            for r in rivers_stats.rates(s, period=rivers_stats.parse_period("2026-Q4"), as_of=date(2027, 1, 1))
        }
        assert q4[county.id].due == 3 and q4[town.id].due == 9


def test_assignment_starting_mid_period_owes_only_whole_units(db: Database, world: RiverWorld) -> None:
    nov = rivers_stats.parse_period("2026-11")
    with db.unit_of_work() as s:
        area = make_area(s, world)
        v = assign(s, world, area, world.chief, ChiefLevel.VILLAGE, date(2026, 11, 11))  # a Wednesday
        k = assign(s, world, area, world.other, ChiefLevel.COUNTY, date(2026, 11, 5))
        t = assign(s, world, area, world.office, ChiefLevel.TOWNSHIP, date(2026, 11, 11))
        rivers.end(s, actor=OFFICE, chief_id=t.id, ends_on=date(2026, 11, 25))
        rows = {r.chief.id: r for r in rivers_stats.rates(s, period=nov, as_of=date(2026, 12, 4))}
        assert rows[v.id].due == 2  # Nov 16–22 and 23–29
        assert rows[k.id].due == 0 and rows[k.id].rate is None
        assert rows[t.id].due == 1  # 中旬 11–20 only: 下旬 was not served to its end


def test_overdue_and_area_status(db: Database, world: RiverWorld) -> None:
    with db.unit_of_work() as s:
        a1 = make_area(s, world, "A1")
        a2 = make_area(s, world, "A2")
        a3 = make_area(s, world, "A3")
        c1 = assign(s, world, a1, world.chief, ChiefLevel.COUNTY, date(2026, 1, 1))
        c2 = assign(s, world, a2, world.other, ChiefLevel.COUNTY, date(2026, 1, 1))
        _patrol(s, c1, date(2026, 11, 20))
        _patrol(s, c1, date(2026, 12, 2))
        _patrol(s, c2, date(2026, 10, 2))
        today = date(2026, 12, 4)
        rows = {r.chief.id: r for r in rivers_stats.rates(s, period=rivers_stats.parse_period("2026-12"), as_of=today)}
        assert not rows[c1.id].overdue and rows[c2.id].overdue
        status = rivers_stats.area_status(s, as_of=today)
        assert status[a1] == "ok" and status[a2] == "overdue" and status[a3] == "none"


def test_closure_rate_after_the_case_is_closed(db: Database, world: RiverWorld) -> None:
    me = actor(world.chief)
    with db.unit_of_work() as s:
        c = assign(s, world, make_area(s, world), world.chief, ChiefLevel.VILLAGE, date(2026, 1, 1))
        p = rivers_patrols.start(s, actor=me, chief_id=c.id)
        probs = [
            rivers_patrols.report_problem(
                s, actor=me, patrol_id=p.id, body=ProblemIn(kind=k, lon=world.lon, lat=world.lat)
            )
            for k in ("garbage", "sand")
        ]
        period = rivers_stats.parse_period(rivers_stats.current_period())
        r = rivers_stats.rates(s, period=period)[0]
        assert (r.problems, r.closed, r.closure_rate) == (2, 0, 0.0)
        case = s.get(Case, probs[0].case_id)
        assert case is not None
        case.closed_at, case.state, case.is_open = datetime.now(UTC), "closed", False
        s.flush()
        r = rivers_stats.rates(s, period=period)[0]
        assert (r.problems, r.closed, r.closure_rate) == (2, 1, 0.5)
        closed, n = rivers_patrols.list_problems(s, f=rivers_patrols.ProblemFilter(chief_id=c.id, closed=True))
        assert n == 1 and closed[0].id == probs[0].id
        open_, n = rivers_patrols.list_problems(s, f=rivers_patrols.ProblemFilter(chief_id=c.id, closed=False))
        assert n == 1 and open_[0].id == probs[1].id
        assert s.query(RiverProblem).count() == 2


def test_period_parsing() -> None:
    assert rivers_stats.parse_period("2026-Q1").end == date(2026, 3, 31)
    assert rivers_stats.parse_period("2024-02").end == date(2024, 2, 29)
    for bad in ("2026-13", "26", "2026-Q5", "x"):
        with pytest.raises(ValidationFailed):
            rivers_stats.parse_period(bad)
    assert rivers_stats.unit_of("xun", date(2026, 2, 25)) == (date(2026, 2, 21), date(2026, 2, 28))
