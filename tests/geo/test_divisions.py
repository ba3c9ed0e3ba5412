import json

import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import select

from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.geo import flows
from countyos.geo.models import Division, DivisionKind, DivisionLevel
from countyos.geo.service import divisions, packaged
from countyos.org.models import AuditEvent
from tests.geo.conftest import ACTOR, make_county


@pytest.mark.parametrize("code", ["110101", "440305", "650102", "540102", "230103", "441900"])
def test_bootstrap_any_province(db, code):
    info = packaged.county(code)
    c = make_county(db, code, cell_m=None)
    with db.reading() as s:
        rows = list(s.scalars(select(Division)))
        county = divisions.require_county(s)
        towns = [d for d in rows if d.level == DivisionLevel.TOWNSHIP]
        villages = [d for d in rows if d.level == DivisionLevel.VILLAGE]
        assert c.name == info.name and county.code == code and not county.approximate
        assert len(towns) == len(info.townships) and len(villages) == len(info.villages)
        assert all(d.approximate for d in towns + villages)
        # the approximate townships are an exact partition of the county
        union = shapely.union_all([t.geom for t in towns])
        assert union.symmetric_difference(county.geom).area < 1e-9 * county.geom.area
        for t in towns:  # and each township's villages partition it
            vs = [v.geom for v in villages if v.parent_code == t.code]
            if vs:
                assert shapely.union_all(vs).symmetric_difference(t.geom).area < 1e-8 * county.geom.area
        assert county.area_m2 > 1e6


def test_bootstrap_suichang_kinds_and_audit(db, bare_county):
    with db.reading() as s:
        miaogao = divisions.get_by_code(s, code="331123001")
        assert miaogao.name == "妙高街道" and miaogao.kind == DivisionKind.STREET
        assert divisions.get_by_code(s, code="331123102").kind == DivisionKind.TOWN  # 新路湾镇
        assert divisions.get_by_code(s, code="331123200").kind == DivisionKind.TOWNSHIP  # 三仁畲族乡
        kinds = {d.kind for d in divisions.children(s, parent_code="331123001")}
        assert DivisionKind.COMMUNITY in kinds
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "geo.bootstrap")).one()
        assert ev.target_id == "331123" and ev.detail["villages"] == 214


def test_second_bootstrap_is_refused(db, bare_county):
    with db.unit_of_work() as s, pytest.raises(Conflict):
        divisions.bootstrap(s, actor=ACTOR, county_code="331123")
    with db.unit_of_work() as s, pytest.raises(Conflict) as err:
        divisions.bootstrap(s, actor=ACTOR, county_code="110101")
    assert "遂昌县" in err.value.message


def test_unknown_county_code(db):
    with db.unit_of_work() as s, pytest.raises(NotFound) as err:
        divisions.bootstrap(s, actor=ACTOR, county_code="999999")
    assert "999999" in err.value.message
    with db.reading() as s:
        assert divisions.the_county(s) is None


def test_a_development_zone_needs_its_boundary(db):
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        divisions.bootstrap(s, actor=ACTOR, county_code="130171")
    assert "--boundary" in err.value.message
    with db.unit_of_work() as s:
        r = divisions.bootstrap(
            s, actor=ACTOR, county_code="130171", boundary=box(114.5, 38.0, 114.7, 38.1), boundary_source="zone.geojson"
        )
        assert r.townships > 0


def _fc(features):
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": p, "geometry": mapping(g) if g is not None else None}
                for p, g in features
            ],
        }
    ).encode()


def test_surveyed_township_replaces_the_approximate_one_and_keeps_codes(db, bare_county):
    with db.reading() as s:
        old = divisions.get_by_code(s, code="331123001").geom
        county = divisions.require_county(s).geom
    surveyed = county.intersection(box(119.2, 28.5, 119.35, 28.65))  # the real 妙高街道 is around here
    with db.unit_of_work() as s:
        report = flows.import_file(
            s,
            actor=ACTOR,
            kind="divisions",
            filename="miaogao.geojson",
            data=_fc([({"XZQDM": "331123001", "XZQMC": "妙高街道"}, surveyed)]),
        )
    assert report.imported == 1 and report.errors == []
    with db.reading() as s:
        t = divisions.get_by_code(s, code="331123001")
        assert not t.approximate and t.source == "miaogao.geojson" and t.geom.equals_exact(surveyed, 1e-9)
        assert not t.geom.equals(old)
        others = [
            d
            for d in s.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP))
            if d.code != "331123001"
        ]
        assert all(d.approximate for d in others)
        # the approximate townships now share what the surveyed one leaves free: no overlap
        assert sum(d.geom.intersection(surveyed).area for d in others) < 1e-9
        # its villages were re-cut inside the surveyed boundary, with the same codes
        vs = divisions.children(s, parent_code="331123001")
        expected = [c for c, _ in packaged.county("331123").villages if c.startswith("331123001")]
        assert [v.code for v in vs] == expected and all(v.approximate for v in vs)
        assert shapely.union_all([v.geom for v in vs]).symmetric_difference(surveyed).area < 1e-9


def test_a_bad_boundary_file_is_rejected_row_by_row_and_nothing_changes(db, bare_county):
    bowtie = shapely.Polygon([(119.1, 28.4), (119.2, 28.5), (119.2, 28.4), (119.1, 28.5)])
    data = _fc(
        [
            ({"code": "331123002", "name": "云峰街道"}, box(119.3, 28.6, 119.32, 28.62)),  # good
            ({"code": "110101001", "name": "东华门街道"}, box(119.3, 28.6, 119.32, 28.62)),  # another county
            ({"code": "3311230", "name": "x"}, box(119.3, 28.6, 119.32, 28.62)),  # bad length
            ({"code": "331123003"}, box(119.3, 28.6, 119.32, 28.62)),  # new code without a name
            ({"code": "331123102", "name": "新路湾镇"}, bowtie),  # invalid polygon
            ({"code": "331123103", "name": "北界镇"}, box(2.0, 48.0, 2.1, 48.1)),  # wrong place (CRS)
            ({"code": "331123104", "name": "金竹镇"}, None),  # no geometry
        ]
    )
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        flows.import_file(s, actor=ACTOR, kind="divisions", data=data, filename="bad.geojson")
    rows = {e["row"] for e in err.value.errors}
    assert rows == {2, 3, 4, 5, 6, 7}
    assert any("Self-intersection" in e["message"] for e in err.value.errors if e["row"] == 5)
    with db.reading() as s:
        assert divisions.get_by_code(s, code="331123002").approximate  # nothing was written
    with db.unit_of_work() as s:
        report = flows.import_file(
            s, actor=ACTOR, kind="divisions", data=data, filename="bad.geojson", skip_bad_rows=True
        )
    assert report.imported == 1 and report.skipped == 6 and len({e.row for e in report.errors}) == 6
    with db.reading() as s:
        assert not divisions.get_by_code(s, code="331123002").approximate
