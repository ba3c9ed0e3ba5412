"""The 好差评 pages: the applicant rates on a phone (and in large text), the window enters a 评价器 rating,
a refused form keeps what was typed with the message beside the field, 追评, the ratings list with
its filters and statistics, and the rectification steps from the 差评 page."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from countyos.core.clock import utcnow
from countyos.services.models import Rating
from countyos.services.service import rectification as rect
from tests.factories import csrf_from, login
from tests.services.service.ratings_world import World, concluded, world

PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}


@pytest.fixture
def w(db, shop) -> World:
    return world(db, shop)


def _concluded(db, w: World, **kw) -> int:
    with db.unit_of_work() as s:
        return concluded(s, w, utcnow() - timedelta(hours=1), **kw).id


def as_(app, w: World, who: str) -> TestClient:
    c = TestClient(app, base_url="http://testserver")
    login(c, w.people[who])
    return c


def _rating(db, app_id: int) -> list[SimpleNamespace]:
    """The application's ratings as plain values (read after the request's commit)."""
    with db.reading() as s:
        rows = s.query(Rating).filter(Rating.application_id == app_id).order_by(Rating.id)
        return [SimpleNamespace(**{c.key: getattr(r, c.key) for c in Rating.__table__.columns}) for r in rows]


def test_the_applicant_rates_on_a_phone_and_a_bad_rating_keeps_what_was_typed(app, db, w) -> None:
    app_id = _concluded(db, w)
    me = as_(app, w, "蓝水生")
    url = f"/services/applications/{app_id}/rate"
    page = me.get(url, headers=PHONE, params={"large": 1})
    assert page.status_code == 200 and "svc-large" in page.text and 'id="rate-form"' in page.text
    assert "您对本次服务满意吗？" in page.text and "非常不满意" in page.text and "一次办好" in page.text
    assert 'name="channel"' not in page.text and 'name="rater_name"' not in page.text  # the device is the channel
    assert 'id="level-very_dissatisfied"' in page.text and 'id="tag-long_wait"' in page.text
    csrf = csrf_from(page.text)
    r = me.post(
        url + "?large=1",
        data={"csrf_token": csrf, "level": "very_dissatisfied", "comment": "  "},
        headers=PHONE,
    )
    assert r.status_code == 422 and 'id="error-comment"' in r.text
    assert re.search(r'id="level-very_dissatisfied"\s+checked', r.text)  # what was chosen stays chosen
    assert _rating(db, app_id) == []
    r = me.post(
        url + "?large=1",
        data={
            "csrf_token": csrf,
            "level": "very_dissatisfied",
            "tags": ["many_visits", "long_wait"],
            "comment": "跑了两趟",
        },
        headers=PHONE,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == url + "?large=1"
    (rating,) = _rating(db, app_id)
    assert (rating.channel, rating.level, rating.tags, rating.comment, rating.anonymous) == (
        "mobile",
        "very_dissatisfied",
        ["many_visits", "long_wait"],
        "跑了两趟",
        False,
    )
    page = me.get(url, headers=PHONE)
    assert 'id="rate-done"' in page.text and f'id="follow-{rating.id}"' in page.text
    r = me.post(f"{url}/{rating.id}/follow-up", data={"csrf_token": csrf, "text": ""}, headers=PHONE)
    assert r.status_code == 422 and f'id="follow-error-{rating.id}"' in r.text
    r = me.post(f"{url}/{rating.id}/follow-up", data={"csrf_token": csrf, "text": "希望改进"}, follow_redirects=False)
    assert r.status_code == 303
    assert _rating(db, app_id)[0].follow_up == "希望改进"
    # the QR code is its own channel
    page = me.get(url, params={"via": "qr"})
    assert 'id="rate-form"' in page.text
    r = me.post(url + "?via=qr", data={"csrf_token": csrf, "level": "satisfied"}, follow_redirects=False)
    assert r.status_code == 303 and [x.channel for x in _rating(db, app_id)] == ["mobile", "qr_code"]


def test_the_window_enters_a_hall_rating_and_others_may_not(app, db, w) -> None:
    app_id = _concluded(db, w)
    url = f"/services/applications/{app_id}/rate"
    clerk = as_(app, w, "窗口 黄丽")
    page = clerk.get(url)
    assert page.status_code == 200 and 'id="rate-channel"' in page.text and 'value="蓝水生"' in page.text
    csrf = csrf_from(page.text)
    r = clerk.post(
        url,
        data={
            "csrf_token": csrf,
            "channel": "hall_tablet",
            "level": "very_satisfied",
            "rater_name": "蓝水生",
            "window": "12号窗口",
            "department_id": str(w.shop.centre),
            "tags": ["friendly"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    (rating,) = _rating(db, app_id)
    assert (rating.channel, rating.window, rating.department_id, rating.entered_by_id) == (
        "hall_tablet",
        "12号窗口",
        w.shop.centre,
        w.window.id,
    )
    page = clerk.get(url)
    assert '<option value="hall_tablet"' not in page.text  # one rating per channel
    # the market's handler may read the application but does not rate it; another resident does not see it
    assert as_(app, w, "市监审批 许文").get(url).status_code == 403
    assert as_(app, w, "雷美华").get(url).status_code == 404
    running = _concluded(db, w, state="in_progress")
    page = as_(app, w, "蓝水生").get(f"/services/applications/{running}/rate")
    assert 'id="rate-not-yet"' in page.text and 'id="rate-form"' not in page.text


def test_ratings_list_statistics_and_the_rectification_steps(app, db, w) -> None:
    good_id = _concluded(db, w)
    bad_id = _concluded(db, w)
    me = as_(app, w, "蓝水生")
    for app_id, data in ((good_id, {"level": "satisfied"}), (bad_id, {"level": "dissatisfied", "comment": "态度差"})):
        page = me.get(f"/services/applications/{app_id}/rate")
        r = me.post(
            f"/services/applications/{app_id}/rate",
            data={"csrf_token": csrf_from(page.text), **data},
            follow_redirects=False,
        )
        assert r.status_code == 303
    (bad,) = _rating(db, bad_id)
    sup = as_(app, w, "好差评办 周")
    page = sup.get("/services/ratings")
    assert page.status_code == 200
    rows = re.findall(r'id="rating-row-(\d+)"', page.text)
    assert rows[0] == str(bad.id) and len(rows) == 2  # 差评 first
    stats = page.text[page.text.index('id="ratings-stats"') : page.text.index('id="ratings-table"')]
    assert "好评率" in stats and "实名差评整改率" in stats
    assert '<td class="stat-good">50.00 %</td>' in stats and 'class="stat-bad">1</a>' in stats
    assert '<td class="stat-rectified">0.00 %' in stats
    page = sup.get("/services/ratings", params={"bad_only": "1"})
    assert re.findall(r'id="rating-row-(\d+)"', page.text) == [str(bad.id)]
    page = sup.get("/services/ratings", params={"group": "month", "level": "nonsense", "start": "bad"})
    assert page.status_code == 200
    # the market verifies and rectifies; the centre sees nothing of it
    centre = as_(app, w, "中心审批 李")
    assert 'id="rating-row-' not in centre.get("/services/ratings").text
    assert centre.get(f"/services/ratings/{bad.id}").status_code == 404
    market = as_(app, w, "市监审批 许文")
    page = market.get(f"/services/ratings/{bad.id}")
    assert 'id="rec-form-verify"' in page.text and 'id="rec-form-revisit"' not in page.text
    csrf = csrf_from(page.text)
    step = f"/services/ratings/{bad.id}/rectification"
    r = market.post(f"{step}/verify", data={"csrf_token": csrf, "version": "1", "note": ""})
    assert r.status_code == 422 and 'id="rec-error-verify"' in r.text
    r = market.post(f"{step}/rectify", data={"csrf_token": csrf, "version": "1", "note": "整改"})
    assert r.status_code == 409 and 'id="rectification-error"' in r.text
    r = market.post(
        f"{step}/verify", data={"csrf_token": csrf, "version": "1", "note": "核实属实"}, follow_redirects=False
    )
    assert r.status_code == 303
    r = market.post(
        f"{step}/rectify", data={"csrf_token": csrf, "version": "2", "note": "已整改"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = market.get(f"/services/ratings/{bad.id}")
    assert 'id="rec-form-revisit"' not in page.text and "核实属实" in page.text and "已整改" in page.text
    assert f"测试{w.people['市监审批 许文'].username}" in page.text  # who took the step, by name
    page = sup.get(f"/services/ratings/{bad.id}")
    assert 'id="rec-form-revisit"' in page.text and 'id="rec-form-reopen"' in page.text
    r = sup.post(
        f"{step}/revisit",
        data={"csrf_token": csrf_from(page.text), "version": "3", "note": "回访满意"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.reading() as s:
        rec = rect.of_rating(s, bad.id)
        assert rec is not None and rec.state == "closed"
    page = sup.get("/services/ratings")
    stats = page.text[page.text.index('id="ratings-stats"') : page.text.index('id="ratings-table"')]
    assert '<td class="stat-rectified">100.00 %' in stats
    # the applicant lists nothing
    page = me.get("/services/ratings")
    assert page.status_code == 200 and 'id="rating-row-' not in page.text and 'id="limits-form"' not in page.text


def test_supervisors_change_the_time_limits_from_the_list(app, db, w) -> None:
    sup = as_(app, w, "好差评办 周")
    page = sup.get("/services/ratings")
    assert 'id="limits-form"' in page.text and 'id="limit-rectifying"' in page.text
    csrf = csrf_from(page.text)
    limits = {"csrf_token": csrf, "verifying": "1", "rectifying": "10", "revisiting": "2"}
    r = sup.post("/services/ratings/limits", data=limits, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        assert rect.limits(s) == {"verifying": 1, "rectifying": 10, "revisiting": 2}
    market = as_(app, w, "市监审批 许文")
    assert 'id="limits-form"' not in market.get("/services/ratings").text
    r = market.post("/services/ratings/limits", data={"csrf_token": csrf_from(market.get("/services/ratings").text),
                    "verifying": "3", "rectifying": "10", "revisiting": "2"})  # fmt: skip
    assert r.status_code == 403
