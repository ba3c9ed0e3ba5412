import io
import json
from datetime import date

import pytest
from openpyxl import Workbook
from shapely.geometry import LineString, Point
from sqlalchemy import select

from countyos.core.errors import Conflict, ValidationFailed
from countyos.geo import flows
from countyos.geo.models import Component, ComponentStatus, Grid
from countyos.geo.service import components, from_wgs84, grids
from countyos.geo.service.components import ComponentFilter, ComponentIn
from countyos.org.models import AuditEvent
from tests.geo.conftest import ACTOR


def _inside_points(db, n=3):
    with db.reading() as s:
        gs = list(s.scalars(select(Grid).where(Grid.township_code == "331123001").order_by(Grid.code)))[:n]
        return [(g.code, g.geom.representative_point()) for g in gs]


def test_create_assigns_code_grid_and_divisions(db, county):
    (gcode, p), (_gcode2, p2) = _inside_points(db, 2)
    with db.unit_of_work() as s:
        c1 = components.create(s, actor=ACTOR, item=ComponentIn(class_code="01037", geom=p))
        c2 = components.create(s, actor=ACTOR, item=ComponentIn(class_code="01037", geom=p2, name="北街路灯"))
        line = LineString([(p.x, p.y), (p2.x, p2.y)])
        c3 = components.create(s, actor=ACTOR, item=ComponentIn(class_code="01002", geom=line))
        codes = (c1.code, c2.code, c3.code)
    assert codes[0] == "33112301037000001" and codes[1] == "33112301037000002"
    assert codes[2] == "33112301002000001"
    with db.reading() as s:
        c = components.get_by_code(s, code=codes[0])
        assert c.grid_code == gcode and c.township_code == "331123001" and c.township_name == "妙高街道"
        assert c.village_code == gcode[:12] and c.name == "路灯" and c.status == ComponentStatus.INTACT
        assert components.get_by_code(s, code=codes[1]).name == "北街路灯"
        assert components.get_by_code(s, code=codes[2]).grid_code is not None  # located at the line's middle
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "geo.component.create")).all()


def test_create_refuses_bad_input(db, county):
    ((_, p),) = _inside_points(db, 1)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        components.create(s, actor=ACTOR, item=ComponentIn(class_code="99999", geom=p))
    assert err.value.errors[0]["field"] == "class_code"
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        components.create(s, actor=ACTOR, item=ComponentIn(class_code="01037", geom=p, code="11010101037000001"))
    assert err.value.errors[0]["field"] == "code"
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        components.create(s, actor=ACTOR, item=ComponentIn(class_code="01037", geom=Point(116.4, 39.9)))
    with db.unit_of_work() as s:
        components.create(s, actor=ACTOR, item=ComponentIn(class_code="01037", geom=p, code="33112301037000123"))
    with db.unit_of_work() as s, pytest.raises(Conflict):
        components.create(s, actor=ACTOR, item=ComponentIn(class_code="01037", geom=p, code="33112301037000123"))


def _csv(rows: list[dict[str, object]]) -> bytes:
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(str(r.get(k, "")) for k in keys) for r in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def test_csv_import_with_chinese_headers_and_gcj02(db, county):
    pts = _inside_points(db, 3)
    rows = []
    for i, (_, p) in enumerate(pts):
        x, y = from_wgs84(p.x, p.y, "gcj02")
        rows.append(
            {
                "类别代码": "03005",
                "名称": f"垃圾箱{i}",
                "经度": f"{x:.8f}",
                "纬度": f"{y:.8f}",
                "GLBJZT": "破损" if i else "完好",
                "CSRQ": "20240501",
                "ZGBMMC": "县综合行政执法局",
                "SJLY": "实测",
            }
        )
    with db.unit_of_work() as s:
        report = flows.import_file(s, actor=ACTOR, kind="components", data=_csv(rows), filename="bins.csv", crs="gcj02")
    assert report.imported == 3 and report.errors == []
    with db.reading() as s:
        got = list(s.scalars(select(Component).order_by(Component.code)))
        assert [c.grid_code for c in got] == [g for g, _ in pts]
        assert got[0].initial_date == date(2024, 5, 1) and got[1].status == ComponentStatus.DAMAGED
        assert got[0].owner_dept_name == "县综合行政执法局"


def test_a_bad_csv_is_rejected_with_a_report_per_row(db, county):
    ((_, p),) = _inside_points(db, 1)
    good = {"class_code": "01037", "lon": p.x, "lat": p.y, "status": "完好", "initial_date": "2024-05-01", "code": ""}
    rows = [
        good,
        {**good, "class_code": "77777"},  # unknown class
        {**good, "lon": 116.4, "lat": 39.9},  # outside the county
        {**good, "status": "坏了"},  # unknown status
        {**good, "initial_date": "2024-13-45"},  # bad date
        {**good, "lon": "", "lat": ""},  # no location
        {**good, "code": "33112301002000001"},  # class digits do not match
        good,
    ]
    data = _csv(rows)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed) as err:
        flows.import_file(s, actor=ACTOR, kind="components", data=data, filename="bad.csv")
    by_row = {e["row"]: e for e in err.value.errors}
    assert set(by_row) == {2, 3, 4, 5, 6, 7}
    assert by_row[2]["field"] == "class_code" and by_row[3]["field"] == "geometry"
    assert by_row[4]["field"] == "status" and by_row[5]["field"] == "initial_date"
    assert "6 of 8 rows" in str(err.value) and "8 行中有 6 行无效" in err.value.message
    with db.reading() as s:
        assert s.scalars(select(Component)).first() is None  # nothing imported
    with db.unit_of_work() as s:
        report = flows.import_file(s, actor=ACTOR, kind="components", data=data, filename="bad.csv", skip_bad_rows=True)
    assert report.imported == 2 and report.skipped == 6
    with db.reading() as s:
        assert len(s.scalars(select(Component)).all()) == 2


def test_excel_and_geojson_imports(db, county):
    (_, p), (_, q) = _inside_points(db, 2)
    wb = Workbook()
    ws = wb.active
    ws.append(["GLBJBSM", "GLBJMC", "JD", "WD", "CSRQ", "GLBJZT"])
    ws.append(["33112304001000007", "银杏", p.x, p.y, date(2020, 3, 1), "完好"])
    buf = io.BytesIO()
    wb.save(buf)
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"class_code": "03001", "name": "北街公厕"},
                "geometry": {"type": "Point", "coordinates": [q.x, q.y]},
            }
        ],
    }
    with db.unit_of_work() as s:
        r1 = flows.import_file(s, actor=ACTOR, kind="components", data=buf.getvalue(), filename="trees.xlsx")
        r2 = flows.import_file(
            s, actor=ACTOR, kind="components", data=json.dumps(fc).encode(), filename="toilets.geojson"
        )
    assert r1.imported == 1 and r2.imported == 1
    with db.reading() as s:
        tree = components.get_by_code(s, code="33112304001000007")
        assert tree.class_code == "04001" and tree.initial_date == date(2020, 3, 1) and tree.name == "银杏"
        (rows,) = [list(s.scalars(components.query(ComponentFilter(class_code="03001"))))]
        assert [c.name for c in rows] == ["北街公厕"]


def test_update_search_and_relocation_after_new_grids(db, county):
    ((gcode, p),) = _inside_points(db, 1)
    with db.unit_of_work() as s:
        code = components.create(s, actor=ACTOR, item=ComponentIn(class_code="01013", geom=p)).code
        components.update_component(s, actor=ACTOR, code=code, changes={"status": "破损", "note": "漏水"})
    with db.reading() as s:
        c = components.get_by_code(s, code=code)
        assert c.status == ComponentStatus.DAMAGED and c.change_date is not None and c.note == "漏水"
        assert [x.code for x in s.scalars(components.query(ComponentFilter(status=ComponentStatus.DAMAGED)))] == [code]
        assert [x.code for x in s.scalars(components.query(ComponentFilter(grid_code=gcode)))] == [code]
        assert [x.code for x in s.scalars(components.query(ComponentFilter(q=code[:11])))] == [code]
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        components.update_component(s, actor=ACTOR, code=code, changes={"class_code": "01001"})
    with db.unit_of_work() as s:
        r = grids.generate(s, actor=ACTOR, cell_m=6000, replace=True)
    with db.reading() as s:
        c = components.get_by_code(s, code=code)
        assert c.grid_code is not None and c.grid_code in {g for g in s.scalars(select(Grid.code))}
    assert r.grids > 0
