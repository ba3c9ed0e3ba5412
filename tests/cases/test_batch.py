"""Batch actions: the same action on several cases, each checked by the transition table, audited and
refused on its own; the API bounded to 100 ids; the console's batch bar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from countyos.cases.lifecycle import Action
from countyos.cases.models import Case
from countyos.org.models import AuditEvent
from tests.cases.test_lifecycle import act, report
from tests.factories import login


def _now():
    return datetime.now(ZoneInfo("Asia/Shanghai"))


def _registered(db, world, **kw):
    now = _now()
    cid, _ = report(db, world, at=now, **kw)
    act(db, world.intake, cid, Action.ACCEPT, now)
    act(db, world.shift, cid, Action.REGISTER, now)
    return cid


def _audits(db, action):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_api_dispatches_each_case_and_refuses_the_one_the_state_does_not_allow(client, db, world):
    a, b = _registered(db, world), _registered(db, world)
    c, _ = report(db, world, at=_now())  # still reported: dispatch is not possible
    before = _audits(db, "case.dispatch")
    h = {"X-CSRF-Token": login(client, world.dispatcher)}
    r = client.post("/api/v1/cases/batch", json={"action": "dispatch", "case_ids": [a, b, c]}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["done"], body["refused"]) == (2, 1)
    by_id = {x["case_id"]: x for x in body["results"]}
    assert by_id[a]["ok"] and by_id[a]["state"] == "dispatched"
    assert by_id[c]["ok"] is False and by_id[c]["code"] == "transition_not_allowed"
    assert by_id[c]["message"] == "当前状态下不能执行"  # in the person's language (zh_CN)
    with db.reading() as s:
        assert s.get(Case, a).department_id == world.works and s.get(Case, b).state == "dispatched"
        assert s.get(Case, c).state == "reported"
    assert _audits(db, "case.dispatch") == before + 2  # each case audited on its own


def test_api_is_bounded_and_rejects_single_case_actions(client, db, world):
    h = {"X-CSRF-Token": login(client, world.dispatcher)}
    r = client.post("/api/v1/cases/batch", json={"action": "dispatch", "case_ids": list(range(1, 102))}, headers=h)
    assert r.status_code == 422
    r = client.post("/api/v1/cases/batch", json={"action": "relocate", "case_ids": [1]}, headers=h)
    assert r.status_code == 422
    r = client.post("/api/v1/cases/batch", json={"action": "dispatch", "case_ids": [1, 1]}, headers=h)
    assert r.status_code == 422
    r = client.post("/api/v1/cases/batch", json={"action": "dispatch", "case_ids": []}, headers=h)
    assert r.status_code == 422


def test_a_role_that_may_not_act_is_refused_per_case(client, db, world):
    a = _registered(db, world)
    h = {"X-CSRF-Token": login(client, world.intake)}  # intake may not dispatch
    r = client.post("/api/v1/cases/batch", json={"action": "dispatch", "case_ids": [a]}, headers=h)
    assert r.status_code == 200
    res = r.json()["results"][0]
    assert res["ok"] is False and res["code"] == "permission_denied"
    with db.reading() as s:
        assert s.get(Case, a).state == "registered"


def test_stale_version_refuses_that_case_only(client, db, world):
    a, b = _registered(db, world), _registered(db, world)
    h = {"X-CSRF-Token": login(client, world.dispatcher)}
    r = client.post(
        "/api/v1/cases/batch", json={"action": "dispatch", "case_ids": [a, b], "versions": [3, 1]}, headers=h
    )
    res = {x["case_id"]: x for x in r.json()["results"]}
    assert res[a]["ok"] and not res[b]["ok"] and res[b]["code"] == "stale_version"


def test_console_batch_form_dispatches_two_and_shows_each_result(client, db, world):
    a, b = _registered(db, world), _registered(db, world)
    c, _ = report(db, world, at=_now())
    csrf = login(client, world.dispatcher)
    page = client.get("/cases?queue=all")
    assert 'id="batch-form"' in page.text and f'value="{a}:3"' in page.text
    r = client.post(
        "/cases/batch",
        data={
            "csrf_token": csrf,
            "queue": "all",
            "action": "dispatch",
            "department_id": "",
            "case_ids": [f"{a}:3", f"{b}:3", f"{c}:1"],
        },
    )
    assert r.status_code == 200
    assert "3 件中已完成 2 件" in r.text and "1 件未执行" in r.text
    assert f'data-case="{c}" data-ok="false"' in r.text
    with db.reading() as s:
        assert [s.get(Case, x).state for x in (a, b, c)] == ["dispatched", "dispatched", "reported"]


def test_console_batch_form_keeps_what_was_typed_when_nothing_is_ticked(client, db, world):
    csrf = login(client, world.dispatcher)
    r = client.post(
        "/cases/batch",
        data={"csrf_token": csrf, "queue": "all", "action": "supervise", "level": "listed", "comment": "抓紧"},
    )
    assert r.status_code == 422
    assert "请至少勾选一件案件" in r.text
    assert 'value="抓紧"' in r.text and '<option value="listed" selected>' in r.text


def test_inbox_batch_sign_for_the_departments_cases(client, db, world):
    a, b = _registered(db, world), _registered(db, world)
    for cid in (a, b):
        act(db, world.dispatcher, cid, Action.DISPATCH, _now())
    csrf = login(client, world.handler)
    page = client.get("/cases/inbox")
    assert 'id="batch-form"' in page.text and '<option value="sign"' in page.text
    assert '<option value="dispatch"' not in page.text  # only the actions a handler may take
    r = client.post(
        "/cases/batch", data={"csrf_token": csrf, "queue": "inbox", "action": "sign", "case_ids": [f"{a}:4", f"{b}:4"]}
    )
    assert r.status_code == 200 and "2 件中已完成 2 件" in r.text
    with db.reading() as s:
        assert [s.get(Case, x).state for x in (a, b)] == ["handling", "handling"]
