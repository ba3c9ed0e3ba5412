"""The staff pages as the traffic officer (forms re-render with errors, publish from the incident's page)
and as a reader; the public /portal/roads without sign-in."""

from __future__ import annotations

from datetime import timedelta

from countyos.core.clock import to_local, utcnow
from tests.factories import login, person
from tests.safety.traffic_helpers import API, geojson_bytes, keeper, line_feature, post_occupied, sensor

__all__ = ["sensor"]


def local(dt) -> str:
    return to_local(dt, "Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")


def test_officer_pages_forms_and_public_page(client, db, sensor):
    h = keeper(db)
    road = geojson_bytes([line_feature([(119.1, 28.5), (119.2, 28.6)], code="G235", name="测试国道")])
    r = client.post(f"{API}/roads/import", files={"file": ("r.geojson", road)}, headers=h)
    assert r.status_code == 201
    road_id = client.get(f"{API}/roads", headers=h).json()["items"][0]["id"]
    post_occupied(client, sensor, [(utcnow().replace(microsecond=0) - timedelta(minutes=1), 80)])
    csrf = login(client, person(db, ["traffic_officer"]))
    for url in ("/safety/traffic", "/safety/traffic/roads", f"/safety/traffic/roads/{road_id}",
                "/safety/traffic/roads?q=G235&road_class=national", "/safety/traffic/parking",
                f"/safety/traffic/parking/{sensor.lot_id}", "/safety/traffic/parking/new",
                "/safety/traffic/incidents", "/safety/traffic/incidents/new"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
    assert "测试停车场" in client.get("/safety/traffic/parking").text
    # a lot form refused beside its field, then saved
    bad = client.post(
        "/safety/traffic/parking/new",
        data={"csrf_token": csrf, "name": "新停车场", "kind": "public", "lon": "119.2", "lat": "28.6", "capacity": "0"},
    )
    assert bad.status_code == 422 and 'id="error-capacity"' in bad.text and "新停车场" in bad.text
    ok = client.post(
        "/safety/traffic/parking/new",
        data={"csrf_token": csrf, "name": "新停车场", "kind": "market", "lon": "119.2", "lat": "28.6",
              "capacity": "30", "public": "on"},
        follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303
    # an incident: refused without a place, then written on the road, published, public, ended
    now = utcnow()
    form = {"csrf_token": csrf, "kind": "closure", "severity": "severe", "title": "测试国道封闭",
            "starts_at": local(now - timedelta(hours=1)), "ends_at": local(now + timedelta(days=1)),
            "detour": "绕行X501", "note": "内部备注"}  # fmt: skip
    bad = client.post("/safety/traffic/incidents/new", data=form)
    assert bad.status_code == 422 and "测试国道封闭" in bad.text
    r = client.post("/safety/traffic/incidents/new", data={**form, "road_id": str(road_id)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert "测试国道封闭" not in client.get("/portal/roads").text
    assert client.post(f"{url}/publish", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    again = client.post(f"{url}/publish", data={"csrf_token": csrf})
    assert again.status_code == 409
    client.cookies.clear()
    public = client.get("/portal/roads")
    assert public.status_code == 200 and "测试国道封闭" in public.text and "绕行X501" in public.text
    assert "内部备注" not in public.text and "测试停车场" in public.text
    notice = client.get(f"{API}/notices").json()[0]
    assert notice["road"] == "G235 测试国道" and notice["line"] and notice["lon"] is not None
    csrf = login(client, person(db, ["traffic_officer"]))
    assert client.post(f"{url}/end", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert "测试国道封闭" not in client.get("/portal/roads").text


def test_a_reader_sees_but_does_not_write(client, db):
    login(client, person(db, ["leader"]))
    assert client.get("/safety/traffic").status_code == 200
    assert client.get("/safety/traffic/incidents/new").status_code == 403
    assert client.get("/safety/traffic/parking/new").status_code == 403
    client.cookies.clear()
    login(client, person(db, ["handler"]))
    assert client.get("/safety/traffic").status_code == 403


def test_the_import_form_lists_each_bad_row(client, db):
    csrf = login(client, person(db, ["traffic_officer"]))
    bad = geojson_bytes(
        [
            line_feature([(119.1, 28.5), (119.2, 28.6)], code="G235"),
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.1, 28.5]}, "properties": {}},
        ]
    )
    r = client.post(
        "/safety/traffic/roads/import", data={"csrf_token": csrf, "mode": "append"}, files={"file": ("b.geojson", bad)}
    )
    assert r.status_code == 422 and 'id="traffic-import-rows"' in r.text and "geometry" not in r.text
    ok = client.post(
        "/safety/traffic/roads/import",
        data={"csrf_token": csrf, "mode": "replace"},
        files={"file": ("g.geojson", geojson_bytes([line_feature([(119.1, 28.5), (119.2, 28.6)], code="G235")]))},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert "G235" in client.get("/safety/traffic/roads").text
