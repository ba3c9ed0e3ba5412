import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from countyos.core.errors import ValidationFailed
from countyos.geo.service import crs
from countyos.geo.service.crs import distance_m, from_wgs84, to_wgs84


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return distance_m(lon1, lat1, lon2, lat2)


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(73.7, 134.9), lat=st.floats(18.2, 53.4), name=st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_inside_china_is_under_a_metre(lon, lat, name):
    x, y = from_wgs84(lon, lat, name)
    assert metres(lon, lat, x, y) > 1  # the offset really is applied (tens to hundreds of metres)
    bx, by = to_wgs84(x, y, name)
    assert metres(lon, lat, bx, by) < 1.0
    # and the other way round, starting from a GCJ-02/BD-09 coordinate (what phones send)
    wx, wy = to_wgs84(lon, lat, name)
    gx, gy = from_wgs84(wx, wy, name)
    assert metres(lon, lat, gx, gy) < 1.0


@pytest.mark.parametrize("lon,lat", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9), (139.7, 56.5)])
def test_outside_china_gcj02_is_the_identity(lon, lat):
    assert from_wgs84(lon, lat, "gcj02") == pytest.approx((lon, lat), abs=1e-12)
    assert to_wgs84(lon, lat, "gcj02") == pytest.approx((lon, lat), abs=1e-12)


def test_known_offsets_match_the_published_algorithm():
    # 遂昌县城 (WGS-84) → GCJ-02 and BD-09, values of the standard formulas (x_pi = π·3000/180)
    gx, gy = from_wgs84(119.27, 28.59, "gcj02")
    assert (gx, gy) == pytest.approx((119.274965705, 28.586817886), abs=1e-8)
    bx, by = from_wgs84(119.27, 28.59, "bd09")
    assert (bx, by) == pytest.approx((119.281402086, 28.593167948), abs=1e-8)
    assert 400 < metres(119.27, 28.59, gx, gy) < 700


def test_arrays_convert_like_scalars():
    lons = np.array([119.1, 119.2, 2.35])
    lats = np.array([28.4, 28.6, 48.85])
    x, y = from_wgs84(lons, lats, "bd09")
    for i in range(3):
        assert (x[i], y[i]) == pytest.approx(from_wgs84(float(lons[i]), float(lats[i]), "bd09"))


@pytest.mark.parametrize(
    "spelling,name",
    [
        ("EPSG:4326", "wgs84"),
        ("epsg:4490", "cgcs2000"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        (None, "wgs84"),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "wgs84"),
    ],
)
def test_crs_spellings(spelling, name):
    assert crs.normalize_crs(spelling) == name


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(ValidationFailed) as err:
        crs.normalize_crs("EPSG:3857")
    assert "EPSG:3857" in str(err.value)


@pytest.mark.parametrize("lon,epsg", [(119.27, 4549), (117.0, 4548), (75.2, 4534), (135.0, 4554), (121.6, 4550)])
def test_gauss_kruger_zone_from_longitude(lon, epsg):
    assert crs.gauss_kruger_epsg(lon) == epsg


def test_area_and_distance_in_metres():
    lat = 28.6
    dx = 1000 / (111_320 * math.cos(math.radians(lat)))
    dy = 1000 / 110_574
    square = box(119.2, lat, 119.2 + dx, lat + dy)
    assert crs.area_m2(square) == pytest.approx(1_000_000, rel=0.01)
    assert crs.distance_m(119.2, lat, 119.2 + dx, lat) == pytest.approx(1000, rel=0.01)


def test_transform_geometry_round_trip():
    g = box(119.2, 28.5, 119.3, 28.6)
    there = crs.transform_geometry(g, to="gcj02")
    assert not there.equals_exact(g, 1e-6)
    back = crs.transform_geometry(there, to="wgs84", source="gcj02")
    assert back.equals_exact(g, 1e-8)
