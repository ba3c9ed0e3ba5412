import numpy as np
import pytest
import shapely
from sqlalchemy import select

from countyos.core.errors import NotFound, ValidationFailed
from countyos.geo.models import Division, DivisionLevel, Grid
from countyos.geo.service import OutsideCounty, Place, from_wgs84, grids, locate, locate_many
from countyos.geo.service.lookup import index, outside_error
from tests.conftest import IS_POSTGRES
from tests.geo.conftest import ACTOR


def _shared_corner(s):
    """A lattice corner shared by four grids of one village (exactly the same floats in all four)."""
    rows = list(s.scalars(select(Grid).order_by(Grid.code)))
    seen: dict[tuple[float, float], list[str]] = {}
    for g in rows:
        for part in shapely.get_parts(g.geom):
            for xy in part.exterior.coords[:-1]:
                seen.setdefault(xy, []).append(g.code)
    for xy, codes in seen.items():
        if len(set(codes)) >= 4:
            return xy, sorted(set(codes))
    raise AssertionError("no 4-way corner")


def test_locate_a_point_returns_its_place(db, county):
    with db.reading() as s:
        g = s.scalars(select(Grid).where(Grid.code.like("331123001%")).order_by(Grid.code)).first()
        p = g.geom.representative_point()
        place = locate(s, lon=p.x, lat=p.y)
        assert isinstance(place, Place)
        assert place.grid_code == g.code and place.village_code == g.village_code
        assert place.township_code == "331123001" and place.township_name == "妙高街道"
        assert place.county_code == "331123" and place.area_class == str(g.area_class)
        assert place.village_name == s.scalars(select(Division.name).where(Division.code == g.village_code)).one()
        assert (place.lon, place.lat) == (p.x, p.y)


def test_points_on_shared_edges_go_to_the_lowest_code_every_time(db, county):
    with db.reading() as s:
        (x, y), codes = _shared_corner(s)
        answers = {locate(s, lon=x, lat=y).grid_code for _ in range(3)}
        batch = locate_many(s, np.array([x, x]), np.array([y, y]))
        assert answers == {codes[0]}
        assert list(batch.grid_codes) == [codes[0], codes[0]]


def test_outside_the_county_is_a_clear_error(db, county):
    with db.reading() as s:
        with pytest.raises(OutsideCounty) as err:
            locate(s, lon=116.397, lat=39.909)  # Beijing
        assert err.value.code == "outside_county" and err.value.status == 422
        assert isinstance(err.value, ValidationFailed)
        assert "116.397000, 39.909000" in str(err.value) and "swapped" in str(err.value)
        assert "经纬度是否写反" in err.value.message  # the zh_CN text people see
        with pytest.raises(ValidationFailed) as err:
            locate(s, lon=28.59, lat=119.27)  # swapped: latitude out of range
        assert "latitude" in str(err.value)
        with pytest.raises(ValidationFailed):
            locate(s, lon=float("nan"), lat=28.5)


def test_gcj02_and_bd09_input_is_converted(db, county):
    with db.reading() as s:
        g = s.scalars(select(Grid).order_by(Grid.code)).first()
        p = g.geom.representative_point()
        for name in ("gcj02", "bd09"):
            x, y = from_wgs84(p.x, p.y, name)
            place = locate(s, lon=x, lat=y, crs=name)
            assert place.grid_code == g.code
            assert (place.lon, place.lat) == pytest.approx((p.x, p.y), abs=1e-7)


def test_batch_matches_exact_lookup_and_single_calls(db, county):
    rng = np.random.default_rng(7)
    with db.reading() as s:
        ix = index(s)
        x0, y0, x1, y1 = ix.county_geom.bounds
        lons, lats = rng.uniform(x0, x1, 50_000), rng.uniform(y0, y1, 50_000)
        batch = locate_many(s, lons, lats)
        exact = ix.lookup_exact(lons, lats)
        for fast, slow in zip((batch.grid, batch.village, batch.township, batch.inside), exact, strict=True):
            assert (fast == slow).all()
        assert 0.2 < batch.inside.mean() < 0.9
        # against the geometry itself
        county = s.scalars(select(Division).where(Division.level == DivisionLevel.COUNTY)).one().geom
        assert (batch.inside == shapely.intersects_xy(county, lons, lats)).all()
        for i in range(0, 50_000, 2_500):
            p = batch[i]
            if p is None:
                with pytest.raises(OutsideCounty):
                    locate(s, lon=lons[i], lat=lats[i])
            else:
                assert locate(s, lon=lons[i], lat=lats[i]) == p


def test_index_follows_geometry_changes(db, county):
    with db.reading() as s:
        first = s.scalars(select(Grid).order_by(Grid.code.desc())).first()
        code, p = first.code, first.geom.representative_point()
        before = index(s)
        assert index(s) is before  # cached while nothing changes
        assert locate_many(s, [p.x], [p.y])[0].grid_code == code
        n_before = len(before.grid_codes)
    with db.unit_of_work() as s:
        grids.generate(s, actor=ACTOR, cell_m=5000, replace=True)
    with db.reading() as s:
        after = index(s)
        assert after is not before and len(after.grid_codes) == grids.count(s) < n_before
        assert locate_many(s, [p.x], [p.y])[0].grid_code in set(after.grid_codes)


def test_without_grids_the_village_is_still_found(db, bare_county):
    with db.reading() as s:
        v = s.scalars(
            select(Division).where(Division.code.like("331123102%")).where(Division.level == DivisionLevel.VILLAGE)
        ).first()
        p = v.geom.representative_point()
        place = locate(s, lon=p.x, lat=p.y)
        assert place.grid_code is None and place.area_class is None
        assert place.village_code == v.code and place.township_code == "331123102"


def test_no_county_yet(db):
    with db.reading() as s, pytest.raises(NotFound) as err:
        locate(s, lon=119.2, lat=28.5)
    assert "bootstrap" in str(err.value)


def test_outside_error_message_is_actionable():
    assert "WGS-84" in outside_error(1.0, 2.0).message and "1.000000, 2.000000" in outside_error(1.0, 2.0).message


@pytest.mark.postgres_only
def test_postgis_and_the_in_memory_index_agree(db, county):
    assert IS_POSTGRES
    rng = np.random.default_rng(11)
    with db.reading() as s:
        ix = index(s)
        (cx, cy), _codes = _shared_corner(s)
        x0, y0, x1, y1 = ix.county_geom.bounds
        lons = np.concatenate([[cx], rng.uniform(x0, x1, 300)])
        lats = np.concatenate([[cy], rng.uniform(y0, y1, 300)])
        batch = locate_many(s, lons, lats)
        for i in range(len(lons)):
            expected = batch[i]
            if expected is None:
                with pytest.raises(OutsideCounty):
                    locate(s, lon=lons[i], lat=lats[i])  # PostGIS ST_Intersects on PostgreSQL
            else:
                assert locate(s, lon=lons[i], lat=lats[i]) == expected
