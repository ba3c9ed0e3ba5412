"""河长制/林长制 over HTTP: the API with its refusals (problem+json), a chief's patrol from the phone's
calls, the figures with their record links, and every page (the phone page too)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import mapping

from countyos.core.db import Database
from tests import factories
from tests.eco.test_rivers_service import (
    BASELINE,
    PNG,
    RiverWorld,
    lake,
    river_line,
)
from tests.harness import Baseline, Harness

API = "/api/v1/eco"


@pytest.fixture(scope="session")
def rivers_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, rivers_world_baseline: Baseline) -> RiverWorld:
    w: RiverWorld = harness.value(rivers_world_baseline, db=db)
    return w


def _login(client: TestClient, p: factories.Person) -> dict[str, str]:
    return {"X-CSRF-Token": factories.login(client, p)}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    return body


def _area(client: TestClient, h: dict[str, str], w: RiverWorld, code: str = "WX-API") -> dict[str, Any]:
    r = client.post(
        f"{API}/rivers/areas",
        headers=h,
        json={"kind": "river", "code": code, "name": "乌溪江测试段", "geometry": mapping(river_line(w))},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_areas_and_chiefs_api_with_refusals(client: TestClient, db: Database, world: RiverWorld) -> None:
    h = _login(client, world.office)
    a = _area(client, h, world)
    assert a["length_m"] > 1000 and a["township_name"]
    assert client.get(f"{API}/rivers/areas", headers=h).json()[0]["code"] == "WX-API"
    one = client.get(f"{API}/rivers/areas/{a['id']}", headers=h).json()
    assert one["geometry"]["type"] == "LineString"
    # a lake needs a polygon: 422 with the field
    bad = client.post(
        f"{API}/rivers/areas",
        headers=h,
        json={"kind": "lake", "code": "L-X", "name": "x", "geometry": mapping(river_line(world))},
    )
    assert any(e["field"] == "geometry" for e in _problem(bad, 422)["errors"])
    _problem(
        client.post(
            f"{API}/rivers/areas",
            headers=h,
            json={"kind": "river", "code": "WX-API", "name": "y", "geometry": mapping(river_line(world))},
        ),
        409,
    )
    put = client.put(
        f"{API}/rivers/areas/{a['id']}",
        headers=h,
        json={"kind": "river", "code": "WX-API", "name": "改名", "geometry": mapping(river_line(world))},
    )
    assert put.status_code == 200 and put.json()["name"] == "改名"
    c = client.post(
        f"{API}/rivers/chiefs",
        headers=h,
        json={"user_id": world.chief.id, "area_id": a["id"], "level": "village", "starts_on": "2026-01-01"},
    )
    assert c.status_code == 201, c.text
    assert c.json()["user_name"].startswith("测试")
    ended = client.post(f"{API}/rivers/chiefs/{c.json()['id']}/end", headers=h, json={"ends_on": "2026-02-01"})
    assert ended.json()["ends_on"] == "2026-02-01"
    _problem(client.post(f"{API}/rivers/chiefs/{c.json()['id']}/end", headers=h, json={"ends_on": "2026-03-01"}), 409)
    fc = client.get(f"{API}/rivers/areas.geojson", headers=h).json()
    assert fc["features"][0]["properties"]["status"] == "none"
    # import a GeoJSON file
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"编码": "HS-1", "名称": "湖山水库"},
                    "geometry": mapping(lake(world)),
                }
            ],
        }
    )
    r = client.post(
        f"{API}/rivers/areas/import?kind=reservoir",
        headers=h,
        files={"file": ("r.geojson", data.encode(), "application/geo+json")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1 and r.json()["rows"][0]["area_m2"] > 0


def test_chiefs_cannot_keep_areas_and_strangers_see_nothing(
    client: TestClient, db: Database, world: RiverWorld
) -> None:
    _problem(client.get(f"{API}/rivers/areas"), 401)
    h = _login(client, world.chief)
    _problem(
        client.post(
            f"{API}/rivers/areas",
            headers=h,
            json={"kind": "river", "code": "Z", "name": "z", "geometry": mapping(river_line(world))},
        ),
        403,
    )
    _problem(
        client.post(
            f"{API}/rivers/chiefs",
            headers=h,
            json={"user_id": world.chief.id, "area_id": 1, "level": "village", "starts_on": "2026-01-01"},
        ),
        403,
    )


def test_patrol_from_the_phone_calls(client: TestClient, db: Database, world: RiverWorld) -> None:
    office = TestClient(client.app, base_url="http://testserver")
    ho = _login(office, world.office)
    a = _area(office, ho, world)
    chief_id = office.post(
        f"{API}/rivers/chiefs",
        headers=ho,
        json={"user_id": world.chief.id, "area_id": a["id"], "level": "village", "starts_on": "2026-01-01"},
    ).json()["id"]
    h = _login(client, world.chief)
    mine = client.get(f"{API}/rivers/mine", headers=h).json()
    assert [m["id"] for m in mine] == [chief_id]
    p = client.post(f"{API}/patrols", headers=h, json={"chief_id": chief_id})
    assert p.status_code == 201, p.text
    pid = p.json()["id"]
    now = datetime.now(UTC)
    pts = [
        {"seq": i, "at": (now + timedelta(seconds=i)).isoformat(), "lon": x, "lat": y}
        for i, (x, y) in enumerate(river_line(world).coords)
    ]
    r = client.post(f"{API}/patrols/{pid}/track", headers=h, json={"points": pts})
    assert r.json() == {"patrol_id": pid, "added": 3, "points": 3}
    too_many = [{"seq": i, "at": now.isoformat(), "lon": world.lon, "lat": world.lat} for i in range(501)]
    _problem(client.post(f"{API}/patrols/{pid}/track", headers=h, json={"points": too_many}), 422)
    q = client.post(
        f"{API}/patrols/{pid}/problems",
        headers=h,
        data={"kind": "outfall", "lon": str(world.lon), "lat": str(world.lat), "note": "暗管排污"},
        files={"photo": ("p.png", PNG, "image/png")},
    )
    assert q.status_code == 201, q.text
    assert q.json()["case_number"] and q.json()["attachment_id"]
    not_a_photo = client.post(
        f"{API}/patrols/{pid}/problems",
        headers=h,
        data={"kind": "garbage", "lon": str(world.lon), "lat": str(world.lat)},
        files={"photo": ("x.png", b"%PDF-1.4 not a photo", "image/png")},
    )
    assert any(e["field"] == "photos" for e in _problem(not_a_photo, 422)["errors"])  # the cases check
    j = client.post(
        f"{API}/patrols/{pid}/problems", headers=h, json={"kind": "garbage", "lon": world.lon, "lat": world.lat}
    )
    assert j.status_code == 201, j.text
    _problem(client.post(f"{API}/patrols/{pid}/problems", headers=h, json={"kind": "nope", "lon": 1, "lat": 1}), 422)
    _problem(client.post(f"{API}/patrols/{pid}/problems", headers=h, data={"kind": "garbage", "lon": "x"}), 422)
    # another chief may not write into this patrol nor patrol these waters
    other = TestClient(client.app, base_url="http://testserver")
    h2 = _login(other, world.other)
    _problem(other.post(f"{API}/patrols/{pid}/track", headers=h2, json={"points": pts[:1]}), 403)
    _problem(other.post(f"{API}/patrols", headers=h2, json={"chief_id": chief_id}), 403)
    _problem(other.post(f"{API}/patrols/{pid}/finish", headers=h2, json={}), 403)
    f = client.post(f"{API}/patrols/{pid}/finish", headers=h, json={})
    assert f.status_code == 200 and f.json()["state"] == "finished" and not f.json()["flagged"]
    assert f.json()["length_m"] > 1000 and f.json()["problems"] == 2
    _problem(client.post(f"{API}/patrols/{pid}/finish", headers=h, json={}), 409)
    listed = office.get(f"{API}/patrols?chief_id={chief_id}", headers=ho).json()
    assert listed["total"] == 1 and listed["items"][0]["problems"] == 2
    one = office.get(f"{API}/patrols/{pid}", headers=ho).json()
    assert len(one["track"]) == 3 and {x["kind"] for x in one["problems"]} == {"outfall", "garbage"}
    probs = office.get(f"{API}/problems?chief_id={chief_id}&closed=false", headers=ho).json()
    assert probs["total"] == 2
    s = office.get(f"{API}/rivers/stats?level=village", headers=ho)
    assert s.status_code == 200, s.text
    row = s.json()["chiefs"][0]
    assert row["problems"] == 2 and row["closed"] == 0 and row["patrols_url"].startswith("/eco/rivers/patrols?")
    _problem(office.get(f"{API}/rivers/stats?period=2026-13", headers=ho), 422)
    # every page renders for the office, the phone page for the chief
    for url in (
        "/eco/rivers",
        "/eco/rivers?period=2026&level=village",
        f"/eco/rivers/areas/{a['id']}",
        f"/eco/rivers/chiefs/{chief_id}",
        "/eco/rivers/patrols?period=2026",
        f"/eco/rivers/patrols/{pid}",
        "/eco/rivers/problems?closed=0",
        row["patrols_url"],
        row["problems_url"],
        "/eco/rivers/manage",
    ):
        page = office.get(url)
        assert page.status_code == 200, (url, page.text[:500])
    assert "暗管排污" in office.get(f"/eco/rivers/patrols/{pid}").text
    phone = client.get("/eco/patrol")
    assert phone.status_code == 200 and f'data-chief="{chief_id}"' in phone.text
    assert 'name="viewport"' in phone.text and "rv-tap" in phone.text
    assert client.get("/static/js/eco-rivers-patrol.js").status_code == 200
    assert client.get("/eco/rivers/manage").status_code == 403


def test_manage_forms_come_back_with_errors_and_save(client: TestClient, db: Database, world: RiverWorld) -> None:
    csrf = factories.login(client, world.office)
    r = client.post(
        "/eco/rivers/manage/areas",
        data={"csrf_token": csrf, "kind": "lake", "code": "BAD", "name": "坏", "geometry": "{not json"},
    )
    assert r.status_code == 422 and 'id="error-geometry"' in r.text and "{not json" in r.text
    ok = client.post(
        "/eco/rivers/manage/areas",
        follow_redirects=False,
        data={
            "csrf_token": csrf,
            "kind": "lake",
            "code": "HL-1",
            "name": "好湖",
            "geometry": json.dumps(mapping(lake(world))),
        },
    )
    assert ok.status_code == 303, ok.text
    page = client.get("/eco/rivers/manage")
    assert "好湖" in page.text
    bad_chief = client.post(
        "/eco/rivers/manage/chiefs",
        data={
            "csrf_token": csrf,
            "user_id": str(world.chief.id),
            "area_id": "999999",
            "level": "village",
            "role": "river",
            "starts_on": "2026-01-01",
        },
    )
    assert bad_chief.status_code == 404 or 'id="rv-chief-error"' in bad_chief.text
