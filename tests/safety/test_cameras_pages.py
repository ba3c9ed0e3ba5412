"""The camera pages: register with map and list, a camera with its events and snapshot (staff only), the
events page with unmapped types, the types page; the form re-rendered with the refusal beside its field."""

from __future__ import annotations

from tests.factories import csrf_from, login, person
from tests.safety.cameras_helpers import API, _fake_geo, add_camera, b64, code, event, feed, jpeg, world

__all__ = ["_fake_geo", "world"]


def test_pages_as_keeper_and_viewers(client, db, world):
    cam_id = add_camera(db, 1)
    h = feed(db)
    ok = client.post(f"{API}/events", json=event(1, snapshot=b64(jpeg())), headers=h).json()
    client.post(f"{API}/events", json=event(1, type="mystery_type"), headers=h)
    login(client, person(db, ["data_admin"]))
    for url in (
        "/safety/cameras",
        f"/safety/cameras/{cam_id}",
        "/safety/cameras/events",
        "/safety/cameras/types",
        "/safety/cameras/types?new=mystery_type",
        "/safety/cameras/new",
        f"/safety/cameras/{cam_id}/edit",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
    page = client.get("/safety/cameras/events").text
    assert "mystery_type" in page and "垃圾堆放" in page
    snap = client.get(f"/safety/cameras/events/{ok['event_id']}/snapshot")
    assert snap.status_code == 200 and snap.headers["content-type"] == "image/jpeg"
    assert client.get(f"/safety/cameras/events/{ok['event_id']}/snapshot?thumb=1").status_code == 200
    page = client.get("/safety/cameras/new")
    r = client.post(
        "/safety/cameras/new",
        data={
            "csrf_token": csrf_from(page.text),
            "code": code(2, "118"),
            "name": "机房",
            "lon": "119.2",
            "lat": "28.5",
        },
    )
    assert r.status_code == 422 and 'id="err-code"' in r.text and "机房" in r.text


def test_viewers_and_strangers(client, db, world):
    cam_id = add_camera(db, 1)
    login(client, person(db, ["traffic_officer"]))
    assert client.get(f"/safety/cameras/{cam_id}").status_code == 200
    assert client.get("/safety/cameras/new").status_code == 403
    client.cookies.clear()
    login(client, person(db, ["handler"]))
    assert client.get("/safety/cameras").status_code == 403
