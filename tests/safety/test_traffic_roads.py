"""Road segments imported from GeoJSON and a zipped Shapefile: one segment per line, lengths geodesic (within
0.5 % of the known length), ends filled, classes by the route code's prefix; all or nothing on a bad row;
replace and append; the list and the GeoJSON with a box."""

from __future__ import annotations

import itertools

import shapely
from pyproj import CRS, Geod, Transformer
from sqlalchemy import func, select

from countyos.safety.models.traffic import RoadClass, RoadSegment
from countyos.safety.service import traffic
from tests.safety.traffic_helpers import API, geojson_bytes, keeper, line_feature, reader, zipped_shapefile

GEOD = Geod(ellps="WGS84")
A, B, C = (119.10, 28.50), (119.20, 28.60), (119.30, 28.62)


def known(*points: tuple[float, float]) -> float:
    return sum(GEOD.inv(*p, *q)[2] for p, q in itertools.pairwise(points))


def upload(client, headers, data: bytes, name: str, mode: str = "append"):
    return client.post(f"{API}/roads/import", files={"file": (name, data)}, data={"mode": mode}, headers=headers)


def test_geojson_import_lengths_ends_classes(client, db):
    h = keeper(db)
    data = geojson_bytes(
        [
            line_feature([A, B], 路线编码="G235", name="大柘至城区"),
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": [[B, C], [C, (119.35, 28.70)]]},
                "properties": {"路线编码": "x501", "name": "城区至北界", "oneway": "是"},
            },
            line_feature([C, (119.31, 28.63)], 路线编码="S50", name="高速连接线"),
            line_feature([(119.31, 28.63), (119.32, 28.64)], name="城市道路", **{"等级": "城市道路"}),
        ]
    )
    r = upload(client, h, data, "roads.geojson")
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 5 and r.json()["crs"] == "EPSG:4326"
    body = client.get(f"{API}/roads", params={"limit": 50}, headers=reader(db)).json()
    assert body["total"] == 5
    by_name = {}
    for row in body["items"]:
        by_name.setdefault(row["name"], []).append(row)
    g235 = by_name["大柘至城区"][0]
    assert g235["code"] == "G235" and g235["road_class"] == "national" and g235["oneway"] is False
    assert abs(g235["length_m"] - known(A, B)) / known(A, B) < 0.005
    assert (g235["start_lon"], g235["start_lat"], g235["end_lon"], g235["end_lat"]) == (*A, *B)
    parts = by_name["城区至北界"]
    assert len(parts) == 2 and {p["code"] for p in parts} == {"X501"}
    assert all(p["road_class"] == "county" and p["oneway"] for p in parts)
    assert by_name["高速连接线"][0]["road_class"] == "expressway"
    assert by_name["城市道路"][0]["road_class"] == "urban"
    # search and class filter
    found = client.get(f"{API}/roads", params={"q": "x501"}, headers=reader(db)).json()
    assert found["total"] == 2
    assert client.get(f"{API}/roads", params={"road_class": "national"}, headers=reader(db)).json()["total"] == 1
    # GeoJSON within a box, bounded
    fc = client.get(f"{API}/roads/geojson", params={"bbox": "119.05,28.45,119.15,28.55"}, headers=reader(db)).json()
    assert [f["properties"]["code"] for f in fc["features"]] == ["G235"]
    few = client.get(f"{API}/roads/geojson", params={"limit": 2}, headers=reader(db)).json()
    assert len(few["features"]) == 2 and few["truncated"] is True
    assert client.get(f"{API}/roads/geojson", params={"bbox": "1,2,3"}, headers=reader(db)).status_code == 422
    for box in ("nan,0,1,1", "-inf,0,inf,1", "2,0,1,1"):
        assert client.get(f"{API}/roads/geojson", params={"bbox": box}, headers=reader(db)).status_code == 422
    assert client.get(f"{API}/roads/geojson", params={"limit": 100000}, headers=reader(db)).status_code == 422


def test_zipped_shapefile_in_a_projected_crs(client, db):
    to_utm = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_epsg(32650), always_xy=True)
    ends = [A, B]
    xy = [to_utm.transform(*p) for p in ends]
    line = shapely.LineString(xy)
    data = zipped_shapefile([line], {"LXBM": ["Y012"], "LXMC": ["石练至淤头"]}, 32650)
    r = upload(client, keeper(db), data, "roads.zip")
    assert r.status_code == 201, r.text
    assert r.json()["crs"] == "EPSG:32650"
    with db.reading() as s:
        seg = s.scalars(select(RoadSegment)).one()
        assert seg.code == "Y012" and seg.name == "石练至淤头" and seg.road_class == RoadClass.TOWNSHIP
        assert abs(seg.length_m - known(A, B)) / known(A, B) < 0.005
        assert abs(seg.start_lon - A[0]) < 1e-6 and abs(seg.end_lat - B[1]) < 1e-6


def test_a_bad_row_refuses_the_whole_file_and_replace_mode(client, db):
    h = keeper(db)
    assert upload(client, h, geojson_bytes([line_feature([A, B], code="G235")]), "a.geojson").status_code == 201
    bad = geojson_bytes(
        [
            line_feature([B, C], code="X501"),
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(C)}, "properties": {}},
            {"type": "Feature", "geometry": None, "properties": {"code": "X502"}},
            line_feature([C, (119.4, 28.7)], code="X503", **{"class": "高架"}),
        ]
    )
    r = upload(client, h, bad, "bad.geojson", mode="replace")
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "geometry"), (3, "geometry"), (4, "class")]
    with db.reading() as s:  # nothing changed: the first file's segment is still the only one
        assert [x.code for x in s.scalars(select(RoadSegment))] == ["G235"]
    # not a geo file at all
    assert upload(client, h, b"hello", "x.txt").status_code == 422
    # replace: the old segment goes
    r = upload(client, h, geojson_bytes([line_feature([B, C], code="X501")]), "b.geojson", mode="replace")
    assert r.status_code == 201 and r.json()["removed"] == 1
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(RoadSegment)) == 1
    # only the bureau imports
    assert upload(client, reader(db), geojson_bytes([line_feature([A, B])]), "c.geojson").status_code == 403


def test_class_of_code():
    assert traffic.class_of_code("G235") == RoadClass.NATIONAL
    assert traffic.class_of_code("G1514") == RoadClass.EXPRESSWAY
    assert traffic.class_of_code("S222") == RoadClass.PROVINCIAL
    assert traffic.class_of_code("S50") == RoadClass.EXPRESSWAY
    assert traffic.class_of_code("C101") == RoadClass.VILLAGE
    assert traffic.class_of_code("abc") is None
