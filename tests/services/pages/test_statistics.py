"""The statistics page: figures by department and township, every number a link to exactly its
applications, a wrong period back with the message beside its field, and who may see it."""

from __future__ import annotations

import html
import re

import pytest

from countyos.services.pages import statistics as page
from tests.factories import login, person
from tests.services.service.test_statistics import NOW, World, build, ids


@pytest.fixture
def world(db, shop, monkeypatch) -> World:
    monkeypatch.setattr(page, "utcnow", lambda: NOW)
    return build(db, shop)


def _links(text: str, figure: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'<a href="([^"]+)" data-figure="{figure}">', text)]


def _record_ids(client, url: str) -> list[int]:
    r = client.get(url)
    assert r.status_code == 200, url
    return sorted(int(i) for i in re.findall(r'<tr data-id="(\d+)">', r.text))


def test_each_number_links_to_exactly_its_applications(client, db, world) -> None:
    w = world
    login(client, person(db, ["leader"]))
    r = client.get("/services/statistics", params={"period": "month", "on": "2026-11-15"})
    assert r.status_code == 200
    body = r.text
    assert "政务服务统计" in body and "按期办结率" in body and 'id="stats-chart"' in body
    total = body[body.index('id="stats-total"') :]
    assert re.search(r'data-figure="submitted">5</a>', total)
    assert re.search(r'data-figure="immediate_rate">25.0%</a>', total)
    assert re.search(r'data-figure="on_time_rate">66.7%</a>', total)
    assert re.search(r'data-figure="online_rate">20.0%</a>', total)
    assert re.search(r'data-figure="visits">0.20</a>', total)
    # the department rows, then the total: each figure's list is its ids
    submitted = _links(body, "submitted")
    assert len(submitted) == 3  # market, centre, all
    assert _record_ids(client, submitted[0]) == ids(w, "a2", "a3", "a4", "a5")
    assert _record_ids(client, submitted[1]) == ids(w, "a1")
    assert _record_ids(client, submitted[2]) == ids(w, "a1", "a2", "a3", "a4", "a5")
    assert _record_ids(client, _links(body, "on_time_rate")[2]) == ids(w, "a1", "a2")
    whole = [html.unescape(h) for h in re.findall(r'<a href="([^"]+)" data-whole="on_time_rate">3</a>', body)]
    assert _record_ids(client, whole[0]) == ids(w, "a1", "a2", "a3")
    assert _record_ids(client, _links(body, "immediate_rate")[2]) == ids(w, "a1")
    assert _record_ids(client, _links(body, "online_rate")[2]) == ids(w, "a3")
    assert _record_ids(client, _links(body, "overdue")[2]) == ids(w, "a5")
    assert _record_ids(client, _links(body, "rejected")[0]) == ids(w, "a4")
    records = client.get(_links(body, "submitted")[2])
    for i in ids(w, "a1", "a2", "a3", "a4", "a5"):
        assert f'href="/services/applications/{i}"' in records.text
    assert "申请人a1" not in records.text  # numbers and matters, no applicants' names
    assert "/services/applications?since=2026-11-01&amp;until=2026-11-30" in records.text
    # the trend table: a month's number opens that month's applications
    month = re.search(r'<a href="([^"]+)" data-month="2026-10">1</a>', body)
    assert month is not None and _record_ids(client, html.unescape(month.group(1))) == ids(w, "a7")


def test_by_township_and_its_links(client, db, world) -> None:
    w = world
    login(client, person(db, ["services_admin"]))
    r = client.get("/services/statistics", params={"period": "month", "on": "2026-11-15", "by": "township"})
    assert r.status_code == 200
    assert "测试镇人民政府" in r.text and "县政务服务中心和网上申请" in r.text
    links = _links(r.text, "submitted")
    got = sorted(_record_ids(client, u) for u in links[:-1])
    assert got == sorted([ids(w, "a2", "a4"), ids(w, "a1", "a3", "a5")])


def test_a_wrong_period_comes_back_with_the_message_beside_the_field(client, db, world) -> None:
    login(client, person(db, ["leader"]))
    r = client.get("/services/statistics", params={"period": "range", "since": "2026-12-02", "until": "2026-12-01"})
    assert r.status_code == 200
    assert 'id="error-until"' in r.text and "截止日不能早于起始日" in r.text
    assert 'value="2026-12-02"' in r.text and 'value="2026-12-01"' in r.text  # what was typed stays
    r = client.get("/services/statistics", params={"period": "month", "on": "2026-13-01"})
    assert 'id="error-on"' in r.text
    r = client.get("/services/statistics/records", params={"measure": "nothing"})
    assert r.status_code == 422


def test_only_leaders_and_administrators_see_the_statistics(client, db, world) -> None:
    login(client, person(db, ["services_handler"]))
    assert client.get("/services/statistics").status_code == 403
    assert client.get("/services/statistics/records").status_code == 403


def test_good_ratings_and_rectified_bad_ratings_beside_the_figures(client, db, world) -> None:
    """好评率 and 差评整改率 of the ratings given in the period, per department and in total; each links to
    the ratings behind it."""
    from countyos.core.actor import Actor
    from countyos.services.codes import RatingChannel, Satisfaction
    from countyos.services.service import ratings
    from tests.services.service.test_statistics import local

    w = world
    clerk = Actor(id=None, name="窗口", permissions=frozenset({ratings.WINDOW}), department_id=w.centre)
    with db.unit_of_work() as s:
        for key, level in (("a1", Satisfaction.VERY_SATISFIED), ("a2", Satisfaction.VERY_DISSATISFIED)):
            data = ratings.RatingInput(channel=RatingChannel.HALL_TABLET, level=level, comment="等太久")
            rated = ratings.rate(s, actor=clerk, application_id=w.apps[key], data=data, now=local(2026, 11, 20, 10))
        bad_id = rated.id
    login(client, person(db, ["leader"]))
    body = client.get("/services/statistics", params={"period": "month", "on": "2026-11-15"}).text
    total = body[body.index('id="stats-total"') :]
    good = re.search(r'<a href="([^"]+)" data-rating="good">50.0%</a><span class="muted small"> 1/2</span>', total)
    rectified = re.search(r'<a href="([^"]+)" data-rating="rectified">0.0%</a><span class="muted small"> 0/1', total)
    assert good and rectified, total[:600]
    listed = client.get(html.unescape(rectified.group(1)))
    assert listed.status_code == 200 and f'href="/services/ratings/{bad_id}"' in listed.text
    assert html.unescape(good.group(1)) == "/services/ratings?start=2026-11-01&end=2026-12-01"
    # another month: no ratings, the cells say so
    other = client.get("/services/statistics", params={"period": "month", "on": "2026-10-15"}).text
    assert 'data-rating="good">—</a>' in other[other.index('id="stats-total"') :]
