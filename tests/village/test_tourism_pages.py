"""The tourism pages: the public crowding page and its JSON twin carry no personal data; the bureau's
pages render in Chinese with labels, not codes; forms re-render with errors; who may see what."""

from __future__ import annotations

import re

from countyos.org.models import User
from tests.factories import login, person
from tests.village.tourism_helpers import gate, ingest, slots

__all__ = ["gate"]
OUTLINE = '{"type": "Polygon", "coordinates": [[[119.2, 28.6], [119.21, 28.6], [119.21, 28.61], [119.2, 28.6]]]}'


def test_public_page_and_json_show_figures_and_no_personal_data(client, db, gate):
    ingest(client, gate, [("entries", slots(1)[0], 80)])
    with db.reading() as s:
        manager = s.get(User, gate.manager.id)
        names = [manager.display_name, manager.username]
    page = client.get("/portal/scenic")
    assert page.status_code == 200
    assert "测试峡谷" in page.text and "80" in page.text
    body = client.get("/api/v1/village/tourism/crowding")
    assert body.status_code == 200
    (spot,) = body.json()
    assert spot["in_park"] == 80 and spot["percent"] == 80.0 and spot["level"] == "l75" and spot["visitors_today"] == 80
    assert set(spot) == {"name", "a_level", "in_park", "capacity_instant", "percent", "level", "level_words", "colour",
                         "visitors_today", "updated_at", "clipped"}  # fmt: skip
    for text in (page.text, body.text):
        for name in names:
            assert name not in text
        assert not re.search(r"1[3-9]\d{9}", text)  # no phone number


def test_bureau_pages_render_for_the_officer_and_not_for_a_stranger(client, db, gate):
    ingest(client, gate, [("entries", slots(1)[0], 12)])
    login(client, person(db, ["tourism_officer"]))
    for url in (
        "/village/tourism",
        f"/village/tourism/spots/{gate.spot_id}",
        f"/village/tourism/spots/{gate.spot_id}/edit",
        "/village/tourism/spots/new",
        "/village/tourism/homestays",
        "/village/tourism/events",
        "/village/tourism/culture",
        "/village/tourism/holidays",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        for code in ("l75", "l90", "l100", "normal", "AAAA", "homestay", "festival", "national"):
            assert f">{code}<" not in r.text and f"> {code}<" not in r.text, (url, code)
    overview = client.get("/village/tourism").text
    assert "测试峡谷" in overview and "12" in overview
    client.cookies.clear()
    login(client, person(db, ["scenic_manager"]))
    assert client.get("/village/tourism").status_code == 403
    assert client.get("/village/tourism/my").status_code == 200


def test_the_spot_form_keeps_what_was_typed_and_marks_the_field(client, db):
    csrf = login(client, person(db, ["tourism_officer"]))
    r = client.post(
        "/village/tourism/spots/new",
        data={
            "name": "新景区",
            "a_level": "AAA",
            "capacity_instant": "0",
            "capacity_daily": "100",
            "opens": "08:00",
            "closes": "07:00",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 422 and 'id="error-capacity_instant"' in r.text and 'value="新景区"' in r.text
    ok = client.post(
        "/village/tourism/spots/new",
        data={
            "name": "新景区",
            "a_level": "AAA",
            "capacity_instant": "500",
            "capacity_daily": "3000",
            "opens": "08:00",
            "closes": "17:00",
            "lon": "119.2",
            "lat": "28.6",
            "csrf_token": csrf,
            "outline": OUTLINE,
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    bad = client.post(
        "/village/tourism/spots/new",
        data={
            "name": "另一景区",
            "a_level": "AAA",
            "capacity_instant": "5",
            "capacity_daily": "30",
            "opens": "08:00",
            "closes": "17:00",
            "outline": "{not json",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422 and 'id="error-outline"' in bad.text
