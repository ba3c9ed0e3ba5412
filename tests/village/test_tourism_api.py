"""The register through the API: spots with outlines and counters, the manager's revenue report,
events and culture resources; who may write what."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.village.models.tourism import SpotDaily
from countyos.village.permissions import TOURISM_MANAGE, TOURISM_READ, TOURISM_REPORT
from countyos.village.service.tourism_flow import local_day
from tests.factories import csrf_from, login, person, token_for
from tests.village.tourism_helpers import gate

__all__ = ["gate"]
API = "/api/v1/village/tourism"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[119.1, 28.6], [119.11, 28.6], [119.11, 28.61], [119.1, 28.61], [119.1, 28.6]]],
}


def bearer(db, roles, scopes):
    return {"Authorization": f"Bearer {token_for(db, person(db, roles), scopes)}"}


def test_bureau_keeps_spots_with_outline_and_counters(client, db, gate):
    bureau = bearer(db, ["tourism_officer"], [TOURISM_MANAGE, TOURISM_READ])
    r = client.post(
        f"{API}/spots",
        json={"name": "千佛山", "a_level": "AAA", "outline": SQUARE, "capacity_instant": 300, "capacity_daily": 2000},
        headers=bureau,
    )
    assert r.status_code == 201, r.text
    spot = r.json()
    assert 119.1 < spot["lon"] < 119.11 and spot["crowding"] == "normal"
    bad = client.post(
        f"{API}/spots",
        json={
            "name": "坏景区",
            "outline": {"type": "Point", "coordinates": [1, 2]},
            "capacity_instant": 1,
            "capacity_daily": 1,
        },
        headers=bureau,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "outline"
    assert (
        client.patch(f"{API}/spots/{spot['id']}", json={"capacity_instant": 350}, headers=bureau).json()[
            "capacity_instant"
        ]
        == 350
    )
    assert client.patch(f"{API}/spots/{spot['id']}", json={"closes": "06:00"}, headers=bureau).status_code == 422
    # a datastream counts one spot only
    again = client.post(
        f"{API}/spots/{spot['id']}/counters",
        json={"entry_datastream_id": gate.entries, "exit_datastream_id": gate.exits},
        headers=bureau,
    )
    assert again.status_code == 422
    manager = bearer(db, ["scenic_manager"], [TOURISM_REPORT])
    assert (
        client.post(
            f"{API}/spots", json={"name": "x", "capacity_instant": 1, "capacity_daily": 1}, headers=manager
        ).status_code
        == 403
    )


def test_the_manager_reports_revenue_on_the_phone_page(client, db, gate):
    csrf = login(client, gate.manager)
    page = client.get("/village/tourism/my")
    assert page.status_code == 200 and f"tourism-my-spot-{gate.spot_id}" in page.text
    today = local_day(utcnow())
    r = client.post(
        f"/village/tourism/my/spots/{gate.spot_id}/revenue",
        data={"day": today.isoformat(), "revenue": "12345.5", "csrf_token": csrf_from(page.text) or csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.reading() as s:
        row = s.scalar(select(SpotDaily).where(SpotDaily.spot_id == gate.spot_id, SpotDaily.day == today))
        assert row.revenue == 12345.5 and row.revenue_by_id == gate.manager.id
    other = bearer(db, ["scenic_manager"], [TOURISM_REPORT])
    refused = client.post(
        f"{API}/spots/{gate.spot_id}/revenue", json={"day": today.isoformat(), "revenue": 1}, headers=other
    )
    assert refused.status_code == 404


def test_events_and_culture_resources(client, db):
    bureau = bearer(db, ["tourism_officer"], [TOURISM_MANAGE, TOURISM_READ])
    ev = client.post(
        f"{API}/events",
        json={
            "title": "茶文化节",
            "kind": "festival",
            "starts_at": "2026-04-01T09:00:00+08:00",
            "ends_at": "2026-04-03T17:00:00+08:00",
            "public": True,
        },
        headers=bureau,
    )
    assert ev.status_code == 201, ev.text
    backwards = client.post(
        f"{API}/events",
        json={"title": "x", "starts_at": "2026-04-03T09:00:00+08:00", "ends_at": "2026-04-01T09:00:00+08:00"},
        headers=bureau,
    )
    assert backwards.status_code == 422
    item = client.post(
        f"{API}/heritage", json={"name": "遂昌昆曲十番", "level": "national", "category": "music"}, headers=bureau
    )
    assert item.status_code == 201
    assert (
        client.post(
            f"{API}/heritage", json={"name": "某技艺", "level": "county", "category": "cooking"}, headers=bureau
        ).status_code
        == 422
    )
    who = client.post(
        f"{API}/inheritors", json={"item_id": item.json()["id"], "name": "周文华", "level": "national"}, headers=bureau
    )
    assert who.status_code == 201
    v = client.post(f"{API}/villages", json={"name": "独山村", "batch": 1, "listed_year": 2012}, headers=bureau)
    assert v.status_code == 201
    reader = bearer(db, ["leader"], [TOURISM_READ])
    assert [i["name"] for i in client.get(f"{API}/heritage", headers=reader).json()] == ["遂昌昆曲十番"]
    assert client.get(f"{API}/inheritors", headers=reader).json()[0]["name"] == "周文华"
    assert (
        client.post(
            f"{API}/villages", json={"name": "长濂村", "batch": 2, "listed_year": 2013}, headers=reader
        ).status_code
        == 403
    )
