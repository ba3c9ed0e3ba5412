import json

import pytest
from shapely.geometry import mapping, shape
from sqlalchemy import select

from countyos.geo.models import Grid
from countyos.geo.service import from_wgs84
from tests.factories import department, login, person, token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def reader(db, county):
    p = person(db, ["handler"])
    return {"Authorization": f"Bearer {token_for(db, p, ['geo.read'])}"}


@pytest.fixture
def writer(db, county):
    p = person(db, ["data_admin"])
    return {"Authorization": f"Bearer {token_for(db, p, ['geo.read', 'geo.write'])}"}


def test_collections_list_and_metadata(client, reader):
    r = client.get("/api/v1/geo/collections", headers=reader)
    assert r.status_code == 200
    ids = [c["id"] for c in r.json()["collections"]]
    assert ids == ["counties", "townships", "villages", "grids", "components"]
    c = client.get("/api/v1/geo/collections/grids", headers=reader).json()
    assert c["itemType"] == "feature" and any(link["rel"] == "items" for link in c["links"])
    assert "area_class" in c["filters"]


def test_items_geojson_paging_filters_and_bbox(client, reader, db):
    r = client.get("/api/v1/geo/collections/townships/items?limit=5", headers=reader)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == 20 and body["numberReturned"] == 5
    assert body["features"][0]["id"] == "331123001" and body["features"][0]["properties"]["approximate"] is True
    nxt = next(link for link in body["links"] if link["rel"] == "next")
    page2 = client.get(nxt["href"], headers=reader).json()
    assert page2["features"][0]["id"] == body["features"][-1]["id"][:-1] + "2" or page2["numberReturned"] == 5
    assert {f["id"] for f in page2["features"]}.isdisjoint({f["id"] for f in body["features"]})
    # property filter
    vs = client.get("/api/v1/geo/collections/villages/items?parent_code=331123001&limit=500", headers=reader).json()
    assert vs["numberMatched"] > 5 and all(f["properties"]["parent_code"] == "331123001" for f in vs["features"])
    # bbox: exactly the grids whose geometry intersects it
    with db.reading() as s:
        g = s.scalars(select(Grid).order_by(Grid.code)).first()
        p = g.geom.representative_point()
        all_grids = {x.code: x.geom for x in s.scalars(select(Grid))}
        s.expunge_all()
    b = (p.x - 0.01, p.y - 0.01, p.x + 0.01, p.y + 0.01)
    got = client.get(
        "/api/v1/geo/collections/grids/items", params={"bbox": ",".join(map(str, b)), "limit": 1000}, headers=reader
    ).json()
    from shapely.geometry import box

    expected = sorted(c for c, geom in all_grids.items() if geom.intersects(box(*b)))
    assert [f["id"] for f in got["features"]] == expected and got["numberMatched"] == len(expected)
    one = client.get(f"/api/v1/geo/collections/grids/items/{g.code}", headers=reader).json()
    assert one["id"] == g.code and shape(one["geometry"]).intersects(p)


def test_items_in_other_crs(client, reader):
    wgs = client.get("/api/v1/geo/collections/counties/items", headers=reader)
    gcj = client.get("/api/v1/geo/collections/counties/items?crs=gcj02", headers=reader)
    cgcs = client.get("/api/v1/geo/collections/counties/items?crs=EPSG:4490", headers=reader)
    assert gcj.headers["content-crs"] == "<gcj02>"
    assert cgcs.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    a = shape(wgs.json()["features"][0]["geometry"])
    b = shape(gcj.json()["features"][0]["geometry"])
    x, y = a.exterior.coords[0] if a.geom_type == "Polygon" else a.geoms[0].exterior.coords[0]
    bx, by = b.exterior.coords[0] if b.geom_type == "Polygon" else b.geoms[0].exterior.coords[0]
    assert (bx, by) == pytest.approx(from_wgs84(x, y, "gcj02"), abs=1e-6)
    assert shape(cgcs.json()["features"][0]["geometry"]).equals_exact(a, 1e-9)


@pytest.mark.parametrize(
    "url,status,code",
    [
        ("/api/v1/geo/collections/nope/items", 404, "not_found"),
        ("/api/v1/geo/collections/grids/items?bbox=1,2,3", 422, "validation_failed"),
        ("/api/v1/geo/collections/grids/items?bbox=5,5,1,1", 422, "validation_failed"),
        ("/api/v1/geo/collections/grids/items?colour=red", 422, "validation_failed"),
        ("/api/v1/geo/collections/grids/items?crs=EPSG:3857", 422, "validation_failed"),
        ("/api/v1/geo/collections/grids/items?limit=0", 422, "validation_failed"),
        ("/api/v1/geo/collections/grids/items/331123000000000", 404, "not_found"),
        ("/api/v1/geo/locate?lon=116.4&lat=39.9", 422, "outside_county"),
        ("/api/v1/geo/locate?lon=abc&lat=39.9", 422, "validation_failed"),
    ],
)
def test_errors_are_problem_json(client, reader, url, status, code):
    r = client.get(url, headers=reader)
    assert r.status_code == status and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == code and r.json()["detail"]


def test_locate_convert_search_and_classes(client, reader, db):
    with db.reading() as s:
        g = s.scalars(select(Grid).order_by(Grid.code)).first()
        p = g.geom.representative_point()
        s.expunge_all()
    bx, by = from_wgs84(p.x, p.y, "bd09")
    r = client.get("/api/v1/geo/locate", params={"lon": bx, "lat": by, "crs": "bd09"}, headers=reader)
    assert r.status_code == 200 and r.json()["grid_code"] == g.code
    batch = client.post("/api/v1/geo/locate", json={"lons": [p.x, 116.4], "lats": [p.y, 39.9]}, headers=reader)
    assert batch.json()["outside"] == 1 and batch.json()["places"][0]["grid_code"] == g.code
    assert batch.json()["places"][1] is None
    conv = client.get(
        "/api/v1/geo/convert", params={"lon": 119.27, "lat": 28.59, "from": "wgs84", "to": "gcj02"}, headers=reader
    ).json()
    assert (conv["lon"], conv["lat"]) == pytest.approx(from_wgs84(119.27, 28.59, "gcj02"), abs=1e-7)
    hits = client.get("/api/v1/geo/search", params={"q": "妙高"}, headers=reader).json()
    assert hits[0]["code"] == "331123001" and hits[0]["kind"] == "township" and hits[0]["approximate"]
    hits = client.get("/api/v1/geo/search", params={"q": g.code}, headers=reader).json()
    assert [h["code"] for h in hits] == [g.code]
    classes = client.get("/api/v1/geo/classes?kind=component", headers=reader).json()
    assert len(classes) == 153
    summary = client.get("/api/v1/geo/summary", headers=reader).json()
    assert summary["county"]["code"] == "331123" and summary["townships"] == 20


def test_permissions(client, db, county, reader):
    assert client.get("/api/v1/geo/collections").status_code == 401
    r = client.patch("/api/v1/geo/grids/331123001001001", json={"area_class": "A"}, headers=reader)
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    auditor = person(db, ["auditadmin"])
    tok = token_for(db, auditor, ["audit.read"])
    assert client.get("/api/v1/geo/collections", headers={"Authorization": f"Bearer {tok}"}).status_code == 403


def test_write_grid_component_and_import(client, writer, db):
    dep = department(db, "县综合行政执法局测试")
    worker = person(db, ["inspector"])
    with db.reading() as s:
        g = s.scalars(select(Grid).order_by(Grid.code)).first()
        code, p = g.code, g.geom.representative_point()
        s.expunge_all()
    r = client.patch(
        f"/api/v1/geo/grids/{code}",
        json={"area_class": "A", "department_id": dep, "worker_ids": [worker.id]},
        headers=writer,
    )
    assert r.status_code == 200 and r.json()["worker_ids"] == [worker.id] and r.json()["area_class"] == "A"
    assert client.get(f"/api/v1/geo/grids/{code}", headers=writer).json()["department_id"] == dep
    gx, gy = from_wgs84(p.x, p.y, "gcj02")
    r = client.post(
        "/api/v1/geo/components",
        json={
            "class_code": "04001",
            "geometry": {"type": "Point", "coordinates": [gx, gy]},
            "crs": "gcj02",
            "name": "千年红豆杉",
            "status": "完好",
        },
        headers=writer,
    )
    assert r.status_code == 201, r.text
    feat = r.json()
    assert feat["properties"]["grid_code"] == code and feat["id"].startswith("33112304001")
    assert shape(feat["geometry"]).distance(p) < 1e-7
    r = client.patch(f"/api/v1/geo/components/{feat['id']}", json={"status": "damaged"}, headers=writer)
    assert r.json()["properties"]["status"] == "damaged"
    bad = "class_code,lon,lat\n04001,116.4,39.9\n01037,abc,28\n"
    r = client.post(
        "/api/v1/geo/import/components", files={"file": ("c.csv", bad.encode(), "text/csv")}, headers=writer
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert [e["row"] for e in r.json()["errors"]] == [1, 2]
    good = f"class_code,lon,lat\n01037,{p.x},{p.y}\n"
    r = client.post(
        "/api/v1/geo/import/components", files={"file": ("c.csv", good.encode(), "text/csv")}, headers=writer
    )
    assert r.status_code == 200 and r.json()["imported"] == 1
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"code": code}, "geometry": mapping(g.geom)}],
    }
    r = client.post("/api/v1/geo/import/grids", files={"file": ("g.geojson", json.dumps(fc).encode())}, headers=writer)
    assert r.status_code == 422 and "替换" in r.json()["errors"][0]["message"]  # answered in Chinese
    r = client.post(
        "/api/v1/geo/import/grids",
        files={"file": ("g.geojson", json.dumps(fc).encode())},
        data={"replace": "true"},
        headers=writer,
    )
    assert r.status_code == 200 and r.json()["imported"] == 1
    v = client.get("/api/v1/geo/validate", headers=writer).json()
    assert v["county_code"] == "331123" and "findings" in v


def test_map_page(client, db, county):
    p = person(db, ["leader"])
    login(client, p)
    r = client.get("/geo/map")
    assert r.status_code == 200 and 'id="geo-map"' in r.text and "/static/js/geo-map.js" in r.text
    assert "<script>" not in r.text.replace('<script type="module"', "")
    assert "331123" in r.text
    assert "天地图" not in r.headers["content-security-policy"]


def test_map_page_keeps_the_tile_server_and_its_key_on_the_server(client, db, county, monkeypatch):
    """Tiles of a configured server are fetched by CountyOS (/api/v1/geo/tiles): the page's
    Content-Security-Policy stays 'self' and neither the host nor the key reaches the browser."""
    from countyos.core.settings import reset_settings

    monkeypatch.setenv("COUNTYOS_MAP_TILE_URL", "https://t0.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}&tk=KEY")
    reset_settings()
    p = person(db, ["leader"])
    login(client, p)
    r = client.get("/geo/map")
    csp = r.headers["content-security-policy"]
    assert "img-src 'self' data: blob:;" in csp and "connect-src 'self';" in csp
    assert "tianditu" not in r.text and "tk=KEY" not in r.text
    cfg = client.get("/api/v1/geo/basemap").json()
    assert cfg["source"] == "remote" and cfg["tiles"] == "/api/v1/geo/tiles/{z}/{x}/{y}.png"
    assert "tianditu" not in r.text + str(cfg)
