"""The pages: console with one-action dispatch, detail, supervision, citizen form and reporter page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from countyos.cases.models import Case, Reporter
from tests.cases.test_lifecycle import act, report
from tests.factories import csrf_from, login

T = None


def _registered(db, world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from countyos.cases.lifecycle import Action

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    cid, _ = report(db, world, at=now)
    act(db, world.intake, cid, Action.ACCEPT, now)
    act(db, world.shift, cid, Action.REGISTER, now)
    return cid


def test_console_dispatches_in_one_action(client, db, world):
    cid = _registered(db, world)
    csrf = login(client, world.dispatcher)
    page = client.get("/cases?queue=registered")
    assert page.status_code == 200
    with db.reading() as s:
        number = s.get(Case, cid).number
    assert number in page.text and f'id="dispatch-{cid}"' in page.text
    # the suggested department is preselected and starred
    assert re.search(rf'<option value="{world.works}" selected>[^<]*★', page.text)
    r = client.post(
        f"/cases/{cid}/act",
        data={
            "csrf_token": csrf,
            "action": "dispatch",
            "version": 3,
            "department_id": str(world.works),
            "back": "/cases?queue=registered",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/cases?queue=registered"
    with db.reading() as s:
        c = s.get(Case, cid)
        assert c.state == "dispatched" and c.department_id == world.works
    geo = client.get("/cases/map.geojson?queue=all").json()
    assert geo["features"][0]["properties"]["number"] == number


def test_stale_form_is_refused_with_a_message(client, db, world):
    cid = _registered(db, world)
    csrf = login(client, world.dispatcher)
    r = client.post(
        f"/cases/{cid}/act",
        data={"csrf_token": csrf, "action": "dispatch", "version": 1, "department_id": str(world.works)},
    )
    assert r.status_code == 409 and 'id="error-dispatch"' in r.text  # the case page again, with the message
    with db.reading() as s:
        assert s.get(Case, cid).state == "registered"


def test_the_position_is_corrected_on_the_case_page(client, db, world):
    cid = _registered(db, world)
    csrf = login(client, world.dispatcher)
    page = client.get(f"/cases/{cid}")
    assert "data-pick-position" in page.text and 'id="do-relocate"' in page.text
    r = client.post(
        f"/cases/{cid}/act",
        data={"csrf_token": csrf, "action": "relocate", "version": 3, "lon": "119.31", "lat": "28.55"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.reading() as s:
        c = s.get(Case, cid)
        assert (c.lon, c.lat, c.township_code, c.state) == (119.31, 28.55, "331123100", "registered")
    bad = client.post(
        f"/cases/{cid}/act", data={"csrf_token": csrf, "action": "relocate", "version": 4, "lon": "x", "lat": "28.5"}
    )
    assert bad.status_code == 422 and 'id="error-relocate-lon"' in bad.text  # beside the field, nothing changed
    assert 'name="lon" step="0.000001" min="-180" max="180" value="x"' in bad.text  # what was typed is kept
    with db.reading() as s:
        assert s.get(Case, cid).version == 4


def test_detail_inbox_and_supervision(client, db, world):
    cid = _registered(db, world)
    login(client, world.shift)
    d = client.get(f"/cases/{cid}")
    assert d.status_code == 200 and 'id="act-dispatch"' in d.text and 'id="timeline"' in d.text
    assert client.get("/cases/supervision").status_code == 200
    other = TestClient(client.app)
    login(other, world.handler)
    assert other.get("/cases/inbox").status_code == 200
    assert other.get(f"/cases/{cid}").status_code == 404  # not yet the department's case


def test_citizen_reports_follows_and_rates(client, db, world):
    page = client.get("/report")
    assert page.status_code == 200
    r = client.post(
        "/report",
        data={
            "csrf_token": csrf_from(page.text),
            "category_id": str(world.cat_garbage),
            "description": "路口垃圾没人清",
            "lon": "119.27",
            "lat": "28.59",
            "phone": "13912345678",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/r/")
    token_url = r.headers["location"]
    mine = client.get(token_url)
    assert mine.status_code == 200 and 'id="public-state"' in mine.text and "13912345678" not in mine.text
    with db.reading() as s:
        rep = s.scalar(select(Reporter))
        assert rep.phone_enc and "13912345678" not in rep.phone_enc  # encrypted at rest
        case = s.get(Case, rep.case_id)
        assert case.channel == "web" and case.public_report
    bad = client.post(
        "/report",
        data={
            "csrf_token": csrf_from(page.text),
            "category_id": str(world.cat_garbage),
            "description": "x",
            "lon": "121.5",
            "lat": "31.2",
        },
    )
    assert bad.status_code == 422 and 'id="report-error"' in bad.text


def test_reporter_rates_once_closed(client, db, world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from countyos.cases.lifecycle import Action

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    cid, _ = report(db, world, at=now)
    act(db, world.intake, cid, Action.SELF_CLOSE, now, comment="现场已处理")
    with db.reading() as s:
        token = s.scalar(select(Reporter.public_token).where(Reporter.case_id == cid))
    page = client.get(f"/r/{token}")
    assert 'id="rate-form"' in page.text
    r = client.post(
        f"/r/{token}/rate",
        data={"csrf_token": csrf_from(page.text), "satisfaction": "very_satisfied"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and 'id="rated"' in r.text
    with db.reading() as s:
        c = s.get(Case, cid)
        assert c.state == "evaluated" and c.satisfaction == "very_satisfied"
    again = client.post(f"/r/{token}/rate", data={"csrf_token": csrf_from(page.text), "satisfaction": "dissatisfied"})
    assert "flash-error" in again.text
    assert client.get("/r/not-a-token").status_code == 404


def test_mobile_pages_and_service_worker(client, db, world):
    login(client, world.inspector)
    page = client.get("/m/report")
    assert page.status_code == 200 and 'id="mobile-report"' in page.text and "cases-mobile.js" in page.text
    sw = client.get("/m/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("application/javascript")
    assert sw.headers["service-worker-allowed"] == "/m/"
    assert client.get("/m/tasks").status_code == 200


def test_routing_and_hotline_pages(client, db, world):
    csrf = login(client, world.dispatcher)
    assert client.get("/cases/routing").status_code == 200
    r = client.post(
        "/cases/routing",
        data={"csrf_token": csrf, "department_id": str(world.water), "township_code": "331123001"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "331123001" in r.text
    assert client.get("/cases/hotline").status_code == 403
    # a wrong township code: the form again with what was typed and the message beside the field
    bad = client.post(
        "/cases/routing",
        data={
            "csrf_token": csrf,
            "department_id": str(world.water),
            "township_code": "33112",
            "co_department_ids": [str(world.water)],
            "note": "夜间水务",
        },
    )
    assert bad.status_code == 422 and 'id="error-township_code"' in bad.text
    assert 'value="33112"' in bad.text and 'value="夜间水务"' in bad.text
    assert bad.text.count(f'<option value="{world.water}" selected>') == 2  # department and co-handler kept


def test_category_conditions_and_limits_are_edited_on_pages(client, db, world):
    csrf = login(client, world.shift)
    assert client.get("/cases/categories?kind=matter").status_code == 200
    page = client.get(f"/cases/categories/{world.cat_garbage}")
    assert page.status_code == 200 and 'id="limits-table"' in page.text
    r = client.post(
        f"/cases/categories/{world.cat_garbage}",
        data={
            "csrf_token": csrf,
            "register_condition": "面积 ≥ 0.5 平方米",
            "close_condition": "清理干净",
            "default_priority": "urgent",
            "public": "1",
        },
        follow_redirects=True,
    )
    assert "面积 ≥ 0.5 平方米" in r.text
    r = client.post(
        f"/cases/categories/{world.cat_garbage}/limits",
        data={"csrf_token": csrf, "step": "handle", "area_class": "A", "amount": "4", "unit": "working_hours"},
        follow_redirects=True,
    )
    assert r.status_code == 200
    from countyos.cases.models import Category, Step
    from countyos.cases.service import categories

    with db.reading() as s:
        cat = s.get(Category, world.cat_garbage)
        assert cat.default_priority == "urgent"
        assert categories.limit_for(s, category=cat, area_class="A", step=Step.HANDLE) == (4.0, "working_hours")
    bad = client.post(
        f"/cases/categories/{world.cat_garbage}/limits",
        data={"csrf_token": csrf, "step": "handle", "area_class": "Z", "amount": "4", "unit": "working_hours"},
    )
    assert bad.status_code == 422 and 'id="error-limit-area_class"' in bad.text
    # what was typed comes back, each message beside its field, in the interface language
    bad = client.post(
        f"/cases/categories/{world.cat_garbage}/limits",
        data={"csrf_token": csrf, "step": "check", "area_class": "B", "amount": "0", "unit": "hours"},
    )
    assert bad.status_code == 422 and 'id="error-limit-amount"' in bad.text
    assert 'value="0"' in bad.text and '<option value="check" selected>' in bad.text
    assert "<option selected>B</option>" in bad.text and '<option value="hours" selected>' in bad.text
    message = re.search(r'id="error-limit-amount">([^<]*)<', bad.text).group(1)
    assert message and not re.search(r"[A-Za-z]{4,}", message), message
    long = "很" * 2001
    bad = client.post(
        f"/cases/categories/{world.cat_garbage}",
        data={
            "csrf_token": csrf,
            "register_condition": long,
            "close_condition": "扫净",
            "default_priority": "critical",
        },
    )
    assert bad.status_code == 422 and 'id="error-settings-register_condition"' in bad.text
    assert long in bad.text and "扫净" in bad.text and '<option value="critical" selected>' in bad.text


def test_in_app_messages_page(client, db, world):
    cid = _registered(db, world)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from countyos.cases.lifecycle import Action

    act(db, world.dispatcher, cid, Action.DISPATCH, datetime.now(ZoneInfo("Asia/Shanghai")))
    csrf = login(client, world.handler)
    page = client.get("/cases/notifications")
    assert page.status_code == 200 and f'href="/cases/{cid}"' in page.text and "unread" in page.text
    after = client.post("/cases/notifications/read", data={"csrf_token": csrf}, follow_redirects=True)
    assert 'class="unread"' not in after.text


def test_public_form_is_rate_limited(client, db, world):
    page = client.get("/report")
    data = {
        "csrf_token": csrf_from(page.text),
        "category_id": str(world.cat_garbage),
        "description": "x",
        "lon": "119.27",
        "lat": "28.59",
    }
    codes = [client.post("/report", data=data, follow_redirects=False).status_code for _ in range(8)]
    assert codes[:6] == [303] * 6 and codes[6:] == [429, 429]
