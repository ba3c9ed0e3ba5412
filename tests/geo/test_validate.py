from shapely.geometry import box
from sqlalchemy import select

from countyos.geo.models import Grid
from countyos.geo.service import validate
from countyos.geo.service.lookup import geometry_changed


def test_a_clean_county_and_injected_problems_with_locations(db, county):
    with db.reading() as s:
        report = validate.validate(s)
    assert report.by_kind().get("overlap", 0) == 0 and report.by_kind().get("gap", 0) == 0
    with db.unit_of_work() as s:
        a, b, c = list(s.scalars(select(Grid).order_by(Grid.code)))[:3]
        # overlap: grow grid a over its neighbours
        grown = a.geom.buffer(0.003)
        a.set_geometry(grown)
        # gap: carve a hole out of grid c; sliver: shrink b to a thin strip
        hole = box(*c.geom.representative_point().buffer(0.001).bounds)
        c.set_geometry(c.geom.difference(hole))
        bx0, by0, _bx1, by1 = b.geom.bounds
        b.set_geometry(b.geom.intersection(box(bx0, by0, bx0 + 0.0002, by1)))
        geometry_changed(s)
        codes = (a.code, b.code, c.code)
    with db.reading() as s:
        report = validate.validate(s)
    kinds = report.by_kind()
    assert kinds["overlap"] >= 1 and kinds["gap"] >= 1 and kinds["sliver"] >= 1 and kinds["outside_parent"] >= 1
    overlaps = [f for f in report.findings if f.kind == "overlap" and f.layer == "grid"]
    assert all(codes[0] in f.codes for f in overlaps)
    gaps = [f for f in report.findings if f.kind == "gap" and f.layer == "grid"]
    assert any(abs(f.lon - hole.centroid.x) < 0.01 and abs(f.lat - hole.centroid.y) < 0.01 for f in gaps)
    assert any(f.kind == "sliver" and f.codes == (codes[1],) for f in report.findings)
    d = report.as_dict()
    assert d["ok"] is False and d["findings"][0]["lon"] and d["findings"][0]["lat"]
