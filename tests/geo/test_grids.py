import itertools

import pytest
import shapely
from sqlalchemy import select

from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.geo.models import AreaClass, Division, DivisionLevel, Grid
from countyos.geo.service import grid_for_code, grids, grids_of_department, grids_of_worker, validate
from countyos.org.models import AuditEvent
from tests.factories import department, person
from tests.geo.conftest import ACTOR


def test_generated_grids_have_15_digit_codes_inside_their_villages(db, county):
    with db.reading() as s:
        rows = list(s.scalars(select(Grid).order_by(Grid.code)))
        villages = {d.code: d for d in s.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE))}
        assert len(rows) == county.grids > 200
        for g in rows:
            assert len(g.code) == 15 and g.code.isdigit() and g.code[:12] == g.village_code
            assert g.township_code == g.code[:9] and g.county_code == "331123"
            assert 1 <= int(g.code[12:]) <= 999
            assert g.approximate  # cut from approximate villages
            assert g.geom.difference(villages[g.village_code].geom).area < 1e-12
        # every village is fully covered, grids do not overlap, codes are unique
        report = validate.validate(s)
    assert report.by_kind().get("overlap", 0) == 0 and report.by_kind().get("gap", 0) == 0


def test_sequence_runs_west_to_east_then_north_to_south(db, county):
    with db.reading() as s:
        by_village: dict[str, list[Grid]] = {}
        for g in s.scalars(select(Grid).order_by(Grid.code)):
            by_village.setdefault(g.village_code, []).append(g)
        s.expunge_all()
    checked = 0
    for gs in by_village.values():
        if len(gs) < 4:
            continue
        for a, b in itertools.pairwise(gs):
            pa, pb = a.geom.centroid, b.geom.centroid
            # the next grid is further east in the same row, or in a row further south
            assert pb.x > pa.x - 1e-9 or pb.y < pa.y + 1e-9, (a.code, b.code)
        first = gs[0].geom.bounds
        assert first[3] >= max(g.geom.bounds[3] for g in gs) - 0.02  # the first grid is in the top row
        checked += 1
    assert checked > 10


def test_area_classes_follow_the_kind_of_place(db, county):
    with db.reading() as s:
        street_community = s.scalars(
            select(Grid).where(Grid.township_code == "331123001").where(Grid.village_code.like("3311230010%"))
        ).first()
        village = s.scalars(select(Grid).where(Grid.village_code.like("3311232__2%"))).first()
        assert street_community.area_class == AreaClass.A
        assert village.area_class == AreaClass.C


def test_generate_twice_needs_replace_and_validates_its_input(db, county):
    with db.unit_of_work() as s, pytest.raises(Conflict):
        grids.generate(s, actor=ACTOR, cell_m=1000)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        grids.generate(s, actor=ACTOR, cell_m=10, replace=True)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        grids.generate(s, actor=ACTOR, replace=True)
    with db.unit_of_work() as s:
        r = grids.generate(s, actor=ACTOR, cell_m=4000, replace=True)
    assert r.grids < county.grids
    with db.reading() as s:
        assert grids.count(s) == r.grids


def test_generate_by_households(db, bare_county):
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        grids.generate(s, actor=ACTOR, households_per_grid=300)
    assert "household" in str(err.value) and "户数" in err.value.message
    with db.unit_of_work() as s:
        for i, v in enumerate(s.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE))):
            v.households = 250 + (i % 5) * 200  # 250 … 1050
        r = grids.generate(s, actor=ACTOR, households_per_grid=300)
    with db.reading() as s:
        per_village: dict[str, int] = {}
        for g in s.scalars(select(Grid)):
            per_village[g.village_code] = per_village.get(g.village_code, 0) + 1
        for v in s.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE)):
            assert per_village[v.code] == -(-v.households // 300)
    assert r.grids == sum(per_village.values())


def test_responsibility_department_and_workers(db, county):
    dep = department(db, "妙高街道办事处")
    w1, w2 = person(db, ["inspector"]), person(db, ["inspector"])
    with db.reading() as s:
        codes = list(s.scalars(select(Grid.code).where(Grid.township_code == "331123001").order_by(Grid.code)))[:3]
    with db.unit_of_work() as s:
        info = grids.update(
            s,
            actor=ACTOR,
            code=codes[0],
            department_id=dep,
            worker_ids=[w2.id, w1.id],
            area_class=AreaClass.B,
            name="北街网格",
        )
        grids.update(s, actor=ACTOR, code=codes[1], worker_ids=[w1.id])
    assert info.worker_ids == tuple(sorted([w1.id, w2.id])) and info.department_id == dep
    with db.reading() as s:
        got = grid_for_code(s, codes[0])
        assert got.area_class == "B" and got.name == "北街网格" and got.department_id == dep
        assert [g.code for g in grids_of_worker(s, w1.id)] == codes[:2]
        assert [g.code for g in grids_of_worker(s, w2.id)] == codes[:1]
        assert [g.code for g in grids_of_department(s, dep)] == codes[:1]
        ev = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "geo.grid.update").where(AuditEvent.target_id == codes[0])
        ).one()
        assert set(ev.detail) == {"area_class", "name", "department_id", "worker_ids"}
    with db.unit_of_work() as s:
        grids.update(s, actor=ACTOR, code=codes[0], clear_department=True, worker_ids=[])
    with db.reading() as s:
        assert grid_for_code(s, codes[0]).department_id is None and grids_of_worker(s, w2.id) == []
    with db.unit_of_work() as s, pytest.raises(NotFound):
        grids.update(s, actor=ACTOR, code=codes[0], worker_ids=[999_999])
    with db.reading() as s, pytest.raises(NotFound):
        grid_for_code(s, "331123999999999")


def test_grids_are_only_polygons_with_area(db, county):
    with db.reading() as s:
        geoms = list(s.scalars(select(Grid.geom)))
    assert all(g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0 and g.is_valid for g in geoms)
    assert shapely.union_all(geoms).area > 0
