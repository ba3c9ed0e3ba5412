"""The intake lane (``pages.cameras.IntakeLane``, in front of the routes) answers an analysis box's events
as the route does — a case, a refusal naming its field — and hands every other caller to the route."""

from __future__ import annotations

from fastapi.testclient import TestClient

from countyos.safety.pages import cameras as camera_pages
from tests.factories import person, token_for
from tests.safety.cameras_helpers import API, _fake_geo, add_camera, event, feed, world

__all__ = ["_fake_geo", "world"]


def test_lane_answers_like_the_route(app, db, world):
    if camera_pages.IntakeLane not in [m.cls for m in app.user_middleware]:
        app.add_middleware(camera_pages.IntakeLane)
    add_camera(db, 1)
    h = feed(db)
    with TestClient(app, base_url="http://testserver") as client:
        r = client.post(f"{API}/events", json=event(1), headers=h)
        assert r.status_code == 201 and r.json()["outcome"] == "case"
        r = client.post(f"{API}/events", json=event(9), headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "camera"
        r = client.post(f"{API}/events", json={**event(1), "confidence": "high"}, headers=h)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        other = person(db, ["handler"], is_machine=True)
        bad = {"Authorization": f"Bearer {token_for(db, other, ['safety.task'])}"}
        assert client.post(f"{API}/events", json=event(1), headers=bad).status_code == 403
        assert client.post(f"{API}/events", json=event(1)).status_code == 401
