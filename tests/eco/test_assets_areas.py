"""Land-use areas in the equal-area projection agree with a reference computation within 0.1 %: pyproj's
geodesic area of the same polygons (vectors in lon/lat and in a projected CRS), the ellipsoid's cell
areas (a lon/lat GeoTIFF), a projected GeoTIFF's pixels taken to lon/lat; zones split the areas; the
mappings: unmapped classes reported, not guessed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.eco.models.assets import FileKind
from countyos.eco.service import landuse_read as lr
from tests.eco.test_assets_support import box, geodesic_ha, geojson, geotiff, projected_ha

REL = 0.001  # 0.1 %

FOREST = box(119.00, 28.40, 119.12, 28.50)
PADDY = box(119.12, 28.40, 119.20, 28.45)
WATER = shapely.Polygon([(119.12, 28.45), (119.20, 28.45), (119.16, 28.50)])


def test_vector_areas_in_lonlat_agree_with_the_geodesic_area() -> None:
    data = geojson([(FOREST, {"class": "阔叶"}), (PADDY, {"class": "水田"}), (WATER, {"class": "water"})])
    m = lr.measure(data)
    assert m.kind == FileKind.GEOJSON and m.crs == "EPSG:4326" and m.field == "class"
    areas = m.areas[""]
    assert areas["broadleaf"] == pytest.approx(geodesic_ha(FOREST), rel=REL)
    assert areas["paddy"] == pytest.approx(geodesic_ha(PADDY), rel=REL)
    assert areas["water"] == pytest.approx(geodesic_ha(WATER), rel=REL)
    # far tighter in fact: the projection is equal-area
    assert areas["broadleaf"] == pytest.approx(geodesic_ha(FOREST), rel=1e-5)
    assert not m.unmapped


def test_vector_areas_in_a_projected_crs() -> None:
    """CGCS2000 3-degree Gauss-Krüger CM 120E (EPSG:4549): a 3 km × 2 km rectangle."""
    rect = box(400_000, 3_150_000, 403_000, 3_152_000)
    data = geojson([(rect, {"class": "conifer"})], crs="EPSG:4549")
    m = lr.measure(data)
    assert m.crs == "EPSG:4549"
    assert m.areas[""]["conifer"] == pytest.approx(projected_ha(rect, "EPSG:4549"), rel=REL)
    assert m.areas[""]["conifer"] != pytest.approx(600.0, rel=1e-6)  # not the planar area of the projection


def test_raster_areas_in_lonlat_per_row_on_the_ellipsoid() -> None:
    """A 0.001° grid over 0.2° × 0.3°: each row's pixels have their own area."""
    arr = np.full((300, 200), 2, dtype="uint8")  # CLCD 2 forest
    arr[:100] = 1  # cropland, the northern third
    arr[250:, 150:] = 5  # water
    arr[0, 0] = 255  # no data
    tif = geotiff(arr, "EPSG:4326", from_origin(119.0, 28.7, 0.001, 0.001), nodata=255)
    m = lr.measure(tif, mapping=lr.builtin_mappings()["clcd"])
    assert m.kind == FileKind.GEOTIFF and m.crs == "EPSG:4326"
    crop = geodesic_ha(box(119.0, 28.6, 119.2, 28.7)) - geodesic_ha(box(119.0, 28.699, 119.001, 28.7))
    water = geodesic_ha(box(119.15, 28.4, 119.2, 28.45))
    whole = geodesic_ha(box(119.0, 28.4, 119.2, 28.7)) - geodesic_ha(box(119.0, 28.699, 119.001, 28.7))
    assert m.areas[""]["dryland"] == pytest.approx(crop, rel=REL)
    assert m.areas[""]["water"] == pytest.approx(water, rel=REL)
    assert sum(m.areas[""].values()) == pytest.approx(whole, rel=REL)
    assert m.pixels == 300 * 200 - 1
    # pixels further north are smaller
    n = lr.cell_area_m2(28.699, 28.7, 0.001)
    s = lr.cell_area_m2(28.4, 28.401, 0.001)
    assert n < s


def test_raster_areas_in_a_projected_crs() -> None:
    """UTM 50N (EPSG:32650), 30 m pixels: 100 × 120 pixels, their true area differs from 900 m² each."""
    arr = np.full((100, 120), 20, dtype="uint8")  # GlobeLand30 forest
    arr[:, :40] = 10  # cultivated
    tr = from_origin(700_000, 3_160_000, 30, 30)
    tif = geotiff(arr, "EPSG:32650", tr)
    m = lr.measure(tif, mapping=lr.builtin_mappings()["globeland30"])
    forest = box(700_000 + 40 * 30, 3_160_000 - 100 * 30, 700_000 + 120 * 30, 3_160_000)
    crop = box(700_000, 3_160_000 - 100 * 30, 700_000 + 40 * 30, 3_160_000)
    assert m.areas[""]["mixed_forest"] == pytest.approx(projected_ha(forest, "EPSG:32650"), rel=REL)
    assert m.areas[""]["dryland"] == pytest.approx(projected_ha(crop, "EPSG:32650"), rel=REL)


def test_zones_split_a_polygon_and_a_raster() -> None:
    west, east = box(118.9, 28.3, 119.1, 28.6), box(119.1, 28.3, 119.3, 28.6)
    zones = [lr.Zone("331123", box(118.9, 28.3, 119.3, 28.6)), lr.Zone("331123001", west), lr.Zone("331123002", east)]
    m = lr.measure(geojson([(FOREST, {"class": "broadleaf"})]), zones=zones)
    assert m.areas["331123001"]["broadleaf"] == pytest.approx(geodesic_ha(box(119.0, 28.4, 119.1, 28.5)), rel=REL)
    assert m.areas["331123002"]["broadleaf"] == pytest.approx(geodesic_ha(box(119.1, 28.4, 119.12, 28.5)), rel=REL)
    assert m.areas["331123"]["broadleaf"] == pytest.approx(m.areas[""]["broadleaf"], rel=1e-9)
    arr = np.full((100, 100), 30, dtype="uint8")  # ESA grassland
    tif = geotiff(arr, "EPSG:4326", from_origin(119.05, 28.5, 0.001, 0.001))
    r = lr.measure(tif, mapping=lr.builtin_mappings()["esa_worldcover"], zones=zones)
    assert r.areas["331123001"]["steppe"] == pytest.approx(geodesic_ha(box(119.05, 28.4, 119.1, 28.5)), rel=REL)
    assert r.areas["331123002"]["steppe"] == pytest.approx(geodesic_ha(box(119.1, 28.4, 119.15, 28.5)), rel=REL)


def test_unmapped_classes_are_reported_not_guessed() -> None:
    data = geojson([(FOREST, {"DLMC": "乔木林地"}), (PADDY, {"DLMC": "水田"}), (WATER, {"DLMC": "养殖场"})])
    m = lr.measure(data, mapping=lr.builtin_mappings()["gbt21010"])
    assert m.field == "DLMC"
    assert set(m.areas[""]) == {"mixed_forest", "paddy"}
    assert list(m.unmapped) == ["养殖场"] and m.unmapped["养殖场"] == pytest.approx(geodesic_ha(WATER), rel=REL)
    # the default mapping knows the codes and Chinese names of the accounting classes only
    d = lr.measure(data)
    assert set(d.unmapped) == {"乔木林地", "养殖场"} and set(d.areas[""]) == {"paddy"}
    # a target of "-" leaves a class out on purpose
    mine = lr.mapping_from({"field": "DLMC", "classes": {"乔木林地": "conifer", "水田": "paddy", "养殖场": "-"}})
    e = lr.measure(data, mapping=mine)
    assert not e.unmapped and set(e.excluded) == {"养殖场"} and "conifer" in e.areas[""]


def test_mappings_are_checked() -> None:
    with pytest.raises(ValidationFailed):
        lr.mapping_from({"a": "forest"})
    with pytest.raises(ValidationFailed):
        lr.mapping_from(b"not json")
    with pytest.raises(ValidationFailed):  # a field the file does not have
        lr.measure(geojson([(FOREST, {"class": "阔叶"})]), mapping=lr.mapping_from({"field": "DLBM", "classes": {}}))
    for name, m in lr.builtin_mappings().items():
        assert m.classes, name
        assert set(m.classes.values()) <= {*lr.classes(), lr.EXCLUDED}
    assert lr.builtin_mappings()["gbt21010"].classes["0101"] == "paddy"


def test_files_past_their_bounds_are_refused() -> None:
    data = geojson([(FOREST, {"class": "阔叶"}), (PADDY, {"class": "水田"})])
    with pytest.raises(PayloadTooLarge):
        lr.measure(data, limits=lr.Limits(max_features=1))
    with pytest.raises(PayloadTooLarge):
        lr.measure(data, limits=lr.Limits(max_bytes=100))
    with pytest.raises(PayloadTooLarge):
        lr.measure(data, limits=lr.Limits(max_vertices=6))
    tif = geotiff(np.ones((50, 50), dtype="uint8"), "EPSG:4326", from_origin(119, 28.5, 0.001, 0.001))
    with pytest.raises(PayloadTooLarge):
        lr.measure(tif, limits=lr.Limits(max_pixels=2_000))
    with pytest.raises(ValidationFailed):
        lr.measure(b"hello, world")


def test_the_preview_is_bounded() -> None:
    items = [(box(119 + i * 0.001, 28.4, 119 + (i + 1) * 0.001, 28.5).buffer(0.0004, 64), {"class": "阔叶"})
             for i in range(0, 400, 2)]  # fmt: skip
    m = lr.measure(geojson(items), preview=True)
    points = sum(int(shapely.get_num_coordinates(shapely.from_geojson(json.dumps(p["g"])))) for p in m.preview)
    assert 0 < points <= lr.PREVIEW_POINTS


def test_the_class_field_is_the_one_the_mapping_knows() -> None:
    data = geojson([(FOREST, {"name": "东山", "lc": "2"}), (PADDY, {"name": "西田", "lc": "1"})])
    m = lr.measure(data, mapping=lr.builtin_mappings()["clcd"])
    assert m.field == "lc" and set(m.areas[""]) == {"mixed_forest", "dryland"}
    named = lr.measure(data, mapping=lr.mapping_from({"field": "name", "classes": {"东山": "conifer"}}))
    assert named.field == "name" and list(named.unmapped) == ["西田"]
