"""Stored land-use layers: import through the API within 遂昌县's divisions (county, townships, villages),
the GEP part's interface (``class_areas``, ``current_layer``), ESV of a layer, bounds on uploads, the
pages, the demo layer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.eco.models.assets import EsvResult, LandUseLayer
from countyos.eco.service import esv, landuse
from countyos.org.models import AuditEvent
from tests.eco.test_assets_support import County, county_geom, geodesic_ha, geojson, geotiff, suichang
from tests.factories import login, person

API = "/api/v1/eco/assets"
REL = 0.001


@pytest.fixture
def county(db: Database) -> County:
    return suichang(db)


@pytest.fixture
def api(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def logged_in(api: TestClient, db: Database, roles: list[str]) -> str:
    return login(api, person(db, roles))


def layer_file(db: Database) -> tuple[bytes, dict[str, float]]:
    """Two classes covering the whole county polygon: its western part forest, the rest paddy."""
    g = county_geom(db)
    x0, y0, x1, y1 = g.bounds
    mid = x0 + (x1 - x0) * 0.6
    import shapely

    west = g.intersection(shapely.box(x0 - 1, y0 - 1, mid, y1 + 1))
    east = g.intersection(shapely.box(mid, y0 - 1, x1 + 1, y1 + 1))
    return geojson([(west, {"地类": "阔叶"}), (east, {"地类": "水田"})]), {
        "broadleaf": geodesic_ha(west, 0.002),
        "paddy": geodesic_ha(east, 0.002),
    }


def upload(api: TestClient, csrf: str, data: bytes, name: str = "土地利用2022", filename: str = "lu.geojson",
           **fields: Any) -> Any:  # fmt: skip
    form = {"name": name, "year": "2022", "source": "测试", **fields}
    return api.post(f"{API}/layers", data=form, files={"file": (filename, data, "application/octet-stream")},
                    headers={"X-CSRF-Token": csrf})  # fmt: skip


def test_import_measures_the_county_townships_and_villages(api: TestClient, db: Database, county: County) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    data, expected = layer_file(db)
    r = upload(api, csrf, data)
    assert r.status_code == 201, r.text
    layer = r.json()
    assert layer["version"] == 1 and layer["class_field"] == "地类" and layer["crs"] == "EPSG:4326"
    assert layer["created_by"] and layer["created_by"].startswith("测试")
    r = api.get(f"{API}/layers/{layer['id']}/areas")
    assert r.status_code == 200, r.text
    areas = r.json()
    assert areas["division"] == county.code
    for cls, ha in expected.items():
        assert areas["areas_ha"][cls] == pytest.approx(ha, rel=REL)
    assert {c["division_code"] for c in areas["children"]} == set(county.townships)
    townships_total = sum(c["total_ha"] for c in areas["children"])
    assert townships_total == pytest.approx(areas["total_ha"], rel=0.01)  # townships partition the county
    r = api.get(f"{API}/layers/{layer['id']}/areas", params={"division": county.township})
    town = r.json()
    assert {c["division_code"] for c in town["children"]} == set(county.villages)
    villages_total = sum(c["total_ha"] for c in town["children"])
    assert 0.95 * town["total_ha"] < villages_total < 1.001 * town["total_ha"]  # approximate village polygons
    # the GEP part's interface
    with db.unit_of_work() as s:
        assert landuse.current_layer(s).id == layer["id"]  # type: ignore[union-attr]
        assert landuse.current_layer(s, year=2025).id == layer["id"]  # type: ignore[union-attr]
        assert landuse.current_layer(s, year=2020) is None
        got = landuse.class_areas(s, layer_id=layer["id"])
        assert got["broadleaf"] == pytest.approx(expected["broadleaf"], rel=REL)
        v = landuse.class_areas(s, layer_id=layer["id"], division_code=county.villages[0])
        assert v and set(v) <= {"broadleaf", "paddy"}
        assert s.scalar(select(AuditEvent.seq).where(AuditEvent.action == "eco.landuse.import")) is not None
    # a second import of the same name and year is version 2
    r = upload(api, csrf, data)
    assert r.json()["version"] == 2
    assert len(api.get(f"{API}/layers").json()) == 2


def test_esv_of_a_layer(api: TestClient, db: Database, county: County) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    data, expected = layer_file(db)
    layer = upload(api, csrf, data).json()
    r = api.get(f"{API}/esv", params={"layer_id": layer["id"], "year": 2010, "method": "standard"})
    assert r.status_code == 200, r.text
    body = r.json()
    want = (expected["broadleaf"] * 22.95 + expected["paddy"] * 3.89) * 3406.5
    assert body["total_yuan"] == pytest.approx(want, rel=REL)
    assert body["esv_by_class"]["paddy"] == pytest.approx(expected["paddy"] * 3.89 * 3406.5, rel=REL)
    assert not body["stored"]
    r = api.get(f"{API}/esv", params={"layer_id": layer["id"], "division": county.township})
    assert r.status_code == 200 and r.json()["unit_value"]["method"] == "cpi" and r.json()["unit_value"]["year"] == 2022
    with db.unit_of_work() as s:
        row = esv.compute(s, actor=Actor(id=None, name="t"), layer_id=layer["id"], year=2020, method="grain")
        assert row.unit_value == pytest.approx(5734.0 * 2.36 / 7)
        assert set(row.by_division) >= {county.code, county.township, *county.townships}
        town_sum = sum(row.by_division[t]["total"] for t in county.townships)
        assert town_sum == pytest.approx(row.total_yuan, rel=0.01)
    r = api.get(f"{API}/esv", params={"layer_id": layer["id"], "year": 2020, "method": "grain"})
    assert r.json()["stored"] is True
    assert api.get(f"{API}/esv", params={"layer_id": 999999}).status_code == 404
    assert api.get(f"{API}/esv", params={"layer_id": layer["id"], "year": 2099}).status_code == 422


def test_unmapped_classes_refuse_the_import_unless_left_out(api: TestClient, db: Database, county: County) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    g = county_geom(db)
    data = geojson([(g, {"class": "养殖坑塘"})])
    r = upload(api, csrf, data)
    assert r.status_code == 422
    assert r.json()["code"] == "unmapped_classes" and list(r.json()["unmapped"]) == ["养殖坑塘"]
    r = upload(api, csrf, data, exclude_unmapped="true")
    assert r.status_code == 422  # nothing at all would be counted
    r = upload(api, csrf, data, mapping=json.dumps({"养殖坑塘": "water"}))
    assert r.status_code == 201, r.text
    assert r.json()["mapping"]["classes"] == {"养殖坑塘": "water"}
    # the mapping kept with that layer, chosen at the next import
    r = upload(api, csrf, data, name="第二版", from_layer=str(r.json()["id"]))
    assert r.status_code == 201, r.text
    assert r.json()["mapping"]["classes"] == {"养殖坑塘": "water"}
    assert upload(api, csrf, data, name="第三版", from_layer="999999").status_code == 404


def test_a_geotiff_layer_with_a_builtin_mapping(api: TestClient, db: Database, county: County) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    x0, y0, x1, y1 = county_geom(db).bounds
    step = 0.005
    w, h = int((x1 - x0) / step) + 1, int((y1 - y0) / step) + 1
    arr = np.full((h, w), 20, dtype="uint8")
    arr[:, : w // 3] = 10
    r = upload(api, csrf, geotiff(arr, "EPSG:4326", from_origin(x0, y1, step, step)), filename="g.tif",
               builtin="globeland30")  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["file_kind"] == "geotiff"
    areas = api.get(f"{API}/layers/{r.json()['id']}/areas").json()
    assert areas["total_ha"] == pytest.approx(geodesic_ha(county_geom(db), 0.002), rel=0.01)  # pixels by centre
    assert set(areas["areas_ha"]) == {"dryland", "mixed_forest"}


def test_uploads_past_their_bounds_are_refused(
    api: TestClient, db: Database, county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    data, _ = layer_file(db)
    monkeypatch.setattr("countyos.eco.api.assets.MAX_FILE_BYTES", 1000)
    assert upload(api, csrf, data).status_code == 413
    monkeypatch.setattr("countyos.eco.api.assets.MAX_FILE_BYTES", 10_000_000)
    from countyos.eco.service import landuse_read

    monkeypatch.setattr(landuse, "LIMITS", landuse_read.Limits(max_features=1))
    assert upload(api, csrf, data).status_code == 413
    assert upload(api, csrf, b"not a land-use file").status_code == 422
    r = upload(api, csrf, data, name="x", year="1900")
    assert r.status_code == 422


def test_permissions(api: TestClient, db: Database, county: County) -> None:
    assert api.get(f"{API}/layers").status_code == 401
    csrf = logged_in(api, db, ["leader"])
    assert api.get(f"{API}/layers").status_code == 200
    data, _ = layer_file(db)
    assert upload(api, csrf, data).status_code == 403
    assert api.get("/eco/assets/import").status_code == 403
    assert api.get("/eco/assets").status_code == 200


def test_pages_render(api: TestClient, db: Database, county: County) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    r = api.get("/eco/assets")
    assert r.status_code == 200 and "assets-empty" in r.text
    r = api.get("/eco/assets/import")
    assert r.status_code == 200 and "import-form" in r.text
    data, _ = layer_file(db)
    files = {"file": ("lu.geojson", data, "application/geo+json")}
    r = api.post("/eco/assets/import", data={"csrf_token": csrf, "name": "土地利用", "year": "2022"}, files=files,
                 follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    layer_id = int(r.headers["location"].split("=")[-1])
    r = api.get(r.headers["location"])
    assert r.status_code == 200 and "assets-map" in r.text and "<path" in r.text and "阔叶" in r.text
    r = api.get("/eco/assets", params={"layer": layer_id, "division": county.township})
    assert r.status_code == 200 and "assets-area-table" in r.text
    r = api.get("/eco/assets/esv", params={"layer": layer_id})
    assert r.status_code == 200 and "esv-table" in r.text and "esv-chart" in r.text and "esv-divisions" in r.text
    assert "esv-results" in r.text  # the import kept the layer year's account
    r = api.get("/eco/assets/esv/export", params={"layer": layer_id})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = api.post("/eco/assets/esv", data={"csrf_token": csrf, "layer_id": str(layer_id), "year": "2021",
                                          "method": "cpi"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with db.unit_of_work() as s:
        assert s.scalar(select(EsvResult.id).where(EsvResult.layer_id == layer_id, EsvResult.year == 2021))
    r = api.get("/eco/assets/esv", params={"layer": layer_id, "year": 2099})
    assert r.status_code == 422 and "esv-error" in r.text


def test_the_import_form_shows_unmapped_classes_and_errors(api: TestClient, db: Database, county: County) -> None:
    csrf = logged_in(api, db, ["eco_accountant"])
    data = geojson([(county_geom(db), {"class": "养殖坑塘"})])
    files = {"file": ("lu.geojson", data, "application/geo+json")}
    r = api.post("/eco/assets/import", data={"csrf_token": csrf, "name": "土地利用", "year": "2022"}, files=files)
    assert r.status_code == 422 and "import-unmapped" in r.text and "养殖坑塘" in r.text
    assert 'value="土地利用"' in r.text
    r = api.post("/eco/assets/import", data={"csrf_token": csrf, "name": "土地利用", "year": "2022",
                                             "map:养殖坑塘": "water"}, files=files, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    r = api.post("/eco/assets/import", data={"csrf_token": csrf, "name": "x", "year": "1800"}, files=files)
    assert r.status_code == 422 and "error-year" in r.text and "error-name" in r.text


def test_the_demo_layer(db: Database, county: County) -> None:
    from countyos.eco import demo_assets

    class Ctx:
        def __init__(self) -> None:
            self.user_ids: dict[str, int] = {}
            self.notes: list[str] = []
            self.public_url = ""

    with db.unit_of_work() as s:
        demo_assets.load(s, Ctx())
        layer = s.scalar(select(LandUseLayer).where(LandUseLayer.name == demo_assets.NAME))
        assert layer is not None and layer.year == demo_assets.YEAR
        areas = landuse.class_areas(s, layer_id=layer.id)
        total = sum(areas.values())
        forest = sum(areas.get(c, 0) for c in ("conifer", "mixed_forest", "broadleaf", "shrub"))
        assert 0.74 < forest / total < 0.86
        assert 0.04 < areas["paddy"] / total < 0.10
        assert 0.01 < areas["water"] / total < 0.04
        assert 0.01 < areas["built"] / total < 0.04
        assert total == pytest.approx(geodesic_ha(county_geom(db), 0.002), rel=REL)
        row = esv.stored(s, layer_id=layer.id, year=demo_assets.YEAR, method="cpi")
        assert row is not None and 1e9 < row.total_yuan < 1e11
        demo_assets.load(s, Ctx())  # once only
        assert s.scalar(select(LandUseLayer.version).where(LandUseLayer.name == demo_assets.NAME)) == 1
