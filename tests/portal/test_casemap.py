"""The public map of reports: what the public sees (no person; sensitive categories by grid only),
the light page it is drawn on, and residents following a report ("me too") and being told when it
closes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from countyos.cases.models import Case, Category, Channel
from countyos.cases.service import cases, publicmap
from countyos.core.clock import utcnow
from countyos.portal.models import CaseFollow, Message
from countyos.portal.service import follows
from tests.factories import csrf_from, login, person


@pytest.fixture
def world(db, harness, security_world_baseline):
    return harness.value(security_world_baseline, db=db)


def public_report(
    db, w, category_id: int, point, text: str, *, name: str = "张阿姨", phone: str = "13905789999"
) -> str:
    with db.unit_of_work() as s:
        case, _, _ = cases.create(
            s,
            actor=w.actor(db, w.intake),
            new=cases.NewCase(
                channel=Channel.WEB,
                category_id=category_id,
                description=text,
                lon=point[0],
                lat=point[1],
                address="北街 12 号门口",
                reporter=cases.ReporterIn(name=name, phone=phone),
            ),
        )
        case.public_report = True
        s.flush()
        return case.number


def inside_away_from_its_point(db, grid_code: str) -> tuple[float, float]:
    """A point of the grid well away from the point the map draws for it."""
    import shapely
    from shapely.geometry import Point

    from countyos.geo.models import Grid

    with db.reading() as s:
        geom = s.scalar(select(Grid.geom).where(Grid.code == grid_code))
    rep = geom.representative_point()
    x0, y0, x1, y1 = geom.bounds
    for i in range(1, 40):
        for j in range(1, 40):
            p = Point(x0 + (x1 - x0) * i / 40, y0 + (y1 - y0) * j / 40)
            if shapely.contains(geom.buffer(-0.001), p) and p.distance(rep) > 0.004:
                return round(p.x, 6), round(p.y, 6)
    raise AssertionError("no such point")


def test_the_map_shows_published_reports_without_people_and_sensitive_ones_by_grid(db, client, world):
    plain = public_report(db, world, world.cat_manhole, world.point_a, "井盖缺失，晚上很危险")
    with db.unit_of_work() as s:
        s.execute(update(Category).where(Category.id == world.cat_garbage).values(sensitive=True))
    exact = inside_away_from_its_point(db, world.grid_b)
    secret = public_report(db, world, world.cat_garbage, exact, "邻居家门口堆放垃圾很久了")
    page = client.get("/portal/cases")
    assert page.status_code == 200
    html = page.text
    assert f'data-number="{plain}"' in html and f'data-number="{secret}"' in html
    assert "井盖缺失，晚上很危险" not in html  # the list shows the category and place, not the text
    for private in ("张阿姨", "13905789999", "9999", "邻居家门口"):
        assert private not in html
    assert len(page.content) < 100_000
    with db.reading() as s:
        shown = {r.number: r for r in publicmap.on_map(s, now=utcnow())[0]}
        grid_point = s.scalar(select(Case.grid_code).where(Case.number == secret))
    assert shown[plain].lon == pytest.approx(world.point_a[0]) and shown[plain].description
    by_grid = shown[secret]
    assert by_grid.by_grid and by_grid.description is None and by_grid.photo is None
    assert grid_point == world.grid_b and (by_grid.lon, by_grid.lat) == world.point_b  # the grid's point
    assert (by_grid.lon, by_grid.lat) != exact
    detail = client.get(f"/portal/cases/{secret}")
    assert detail.status_code == 200 and "邻居家门口" not in detail.text and "北街 12 号" not in detail.text
    assert "井盖缺失，晚上很危险" in client.get(f"/portal/cases/{plain}").text


def test_internal_and_unknown_cases_are_not_found(db, client, world):
    from tests.security.world import new_case

    cid = new_case(db, world, world.worker_a, world.cat_manhole, world.point_a)  # a grid worker's: internal
    with db.reading() as s:
        number = s.scalar(select(Case.number).where(Case.id == cid))
    assert client.get(f"/portal/cases/{number}").status_code == 404
    assert client.get("/portal/cases/NOPE-1").status_code == 404
    assert f'data-number="{number}"' not in client.get("/portal/cases").text


def test_a_township_map_and_bad_filters(db, client, world):
    public_report(db, world, world.cat_manhole, world.point_a, "路灯坏了")
    with db.reading() as s:
        town = s.scalar(select(Case.township_code).order_by(Case.id.desc()))
    r = client.get(f"/portal/cases?town={town}")
    assert r.status_code == 200 and 'id="pt-case-map"' in r.text
    assert client.get("/portal/cases?town=../../etc").status_code == 200  # ignored, the county shown
    assert client.get("/portal/cases?closed=7").status_code == 422


def test_me_too_counts_and_the_follower_is_told_when_it_closes(db, client, world, app):
    number = public_report(db, world, world.cat_manhole, world.point_a, "桥上栏杆松了")
    anonymous = client.get(f"/portal/cases/{number}")
    assert 'id="pt-follow-signin"' in anonymous.text
    resident = person(db, ["resident"], phone="13905780011")
    token = login(client, resident, expect_full=False)
    page = client.get(f"/portal/cases/{number}")
    token = csrf_from(page.text)
    r = client.post(f"/portal/cases/{number}/follow", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    client.post(f"/portal/cases/{number}/follow", data={"csrf_token": token})  # twice: still one
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(CaseFollow)) == 1
    page = client.get(f"/portal/cases/{number}")
    assert re.search(r'id="pt-follow-count">\s*1\b', page.text) and 'id="pt-unfollow"' in page.text
    assert number in client.get("/portal/me").text
    with db.unit_of_work() as s:  # nothing to tell while it is open
        assert follows.tell_closed(s) == 0
        s.execute(update(Case).where(Case.number == number).values(is_open=False, state="closed", closed_at=utcnow()))
    with db.unit_of_work() as s:
        assert follows.tell_closed(s) == 1
    with db.unit_of_work() as s:
        assert follows.tell_closed(s) == 0  # once
    with db.reading() as s:
        link = s.scalar(select(Message.link).where(Message.user_id == resident.id, Message.kind == "case"))
    assert link == f"/portal/cases/{number}"
    closed_page = client.get(f"/portal/cases/{number}")
    assert 'id="pt-follow"' not in closed_page.text
    shown = client.get("/portal/cases?closed=1")
    assert f'data-number="{number}"' in shown.text
    refused = client.post(f"/portal/cases/{number}/follow", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 303  # a closed report cannot be followed: said on the page
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(CaseFollow)) == 1


def test_following_needs_a_resident(db, client, world):
    number = public_report(db, world, world.cat_manhole, world.point_a, "路面塌陷")
    page = client.get(f"/portal/cases/{number}")
    r = client.post(f"/portal/cases/{number}/follow", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code in (401, 303, 302)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(CaseFollow)) == 0
