"""Use of the platform is counted per module, role and day, and shown to administrators."""

from __future__ import annotations

from datetime import date

from countyos.core.usage import COUNTER, UsageCounter, module_of
from countyos.ioc.jobs import flush_usage
from countyos.ioc.service import usage
from tests.factories import login, person


def test_module_of_paths():
    assert module_of("/admin/users") == "admin"
    assert module_of("/api/v1/cases/12") == "cases"
    assert module_of("/") == "home"
    assert module_of("/static/css/x.css") is None


def test_counter_counts_each_role_and_drains():
    c = UsageCounter()
    c.add(date(2026, 1, 2), "cases", ["dispatcher", "leader"], "view")
    c.add(date(2026, 1, 2), "cases", ["dispatcher"], "view")
    assert c.drain() == {
        (date(2026, 1, 2), "cases", "dispatcher", "view"): 2,
        (date(2026, 1, 2), "cases", "leader", "view"): 1,
    }
    assert c.drain() == {}


def test_requests_are_counted_stored_and_reported(client, db):
    COUNTER.drain()
    dispatcher = person(db, ["dispatcher"])
    csrf = login(client, dispatcher)
    client.get("/admin/departments")
    client.get("/admin/departments")
    client.get("/api/v1/departments")
    client.post("/lang", data={"locale": "zh_CN", "next": "/", "csrf_token": csrf})  # not a module
    client.get("/admin/roles")  # refused: not counted
    assert flush_usage(db) >= 2
    with db.reading() as s:
        r = usage.report(s, since=date(2000, 1, 1), until=date(2000, 1, 1))
        assert r.total == 0
    leader = person(db, ["leader"])
    client.cookies.clear()
    login(client, leader)
    data = client.get("/api/v1/usage").json()
    rows = {(x["module"], x["role"]): x for x in data["by_module_role"]}
    assert rows[("admin", "dispatcher")]["views"] == 2
    assert rows[("departments", "dispatcher")]["api_calls"] == 1
    assert ("admin", "leader") not in rows  # the leader's own views are not flushed yet
    page = client.get("/usage")
    assert page.status_code == 200 and 'id="usage-chart"' in page.text and "派遣员" in page.text


def test_flush_adds_to_existing_rows(db):
    day = date(2026, 5, 1)
    for _ in range(2):
        COUNTER.add(day, "geo", ["inspector"], "view")
        flush_usage(db)
    with db.reading() as s:
        r = usage.report(s, since=day, until=day)
    assert r.by_module_day == {"geo": [2]}


def test_usage_period_is_validated(client, db):
    login(client, person(db, ["sysadmin"]))
    r = client.get("/api/v1/usage", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert r.status_code == 422
