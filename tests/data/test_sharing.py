"""Sharing between departments: requests, narrowed grants with scoped keys, and every call checked against
its grant (fields, rows, expiry, quota, revocation) and recorded; non-shared fields never leave."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from sqlalchemy import func, select

from countyos.core.clock import utcnow
from countyos.data.models import CallResult, ShareCall
from countyos.data.schemas import ActionIn
from countyos.data.service import catalogue
from countyos.org.models import AuditEvent
from tests import factories
from tests.data.conftest import BUREAU, entry
from tests.data.test_catalogue_and_loads import GOOD
from tests.factories import login

API = "/api/v1/data"
ITEMS = [
    {"name": "name", "label": "企业名称", "type": "text", "shared": True},
    {"name": "uscc", "label": "统一社会信用代码", "type": "text", "shared": True, "is_key": True},
    {"name": "founded", "label": "成立日期", "type": "date", "shared": True},
    {"name": "legal_person", "label": "法定代表人", "type": "text", "shared": True, "sensitive": True},
]


def _publish(db, tmp_path, office, csv=GOOD, **changes):
    from countyos.data import flows

    with db.unit_of_work() as s:
        rid = catalogue.create(
            s, actor=BUREAU, data=entry(office.market, **{"items": ITEMS, "rules": [], **changes})
        ).id
    path = tmp_path / "qy.csv"
    path.write_text(csv, encoding="utf-8")
    flows.load_path(db, actor=BUREAU, resource_id=rid, path=path, filename="qy.csv", skip_bad_rows=False)
    with db.unit_of_work() as s:
        for action in ("submit", "approve"):
            catalogue.act(
                s, actor=BUREAU, resource_id=rid, data=ActionIn(action=action, version=catalogue.get(s, rid).version)
            )
    return rid


def _conditional(db, tmp_path, office):
    items = [*ITEMS[:3], {**ITEMS[3]}, {"name": "note", "label": "内部备注", "type": "text", "shared": False}]
    lines = GOOD.strip().split("\n")
    csv = "\n".join([lines[0] + ",内部备注", *[line + ",待核查" for line in lines[1:]]]) + "\n"
    rid = _publish(
        db,
        tmp_path,
        office,
        csv=csv,
        share_type="conditional",
        share_condition="用于市场主体监管",
        open_type="closed",
        items=items,
    )
    return rid


def test_request_narrowed_grant_and_checked_calls(client, db, office, tmp_path) -> None:
    rid = _conditional(db, tmp_path, office)
    consumer = factories.person(db, ["data_provider"], department_id=office.other)
    h = {"X-CSRF-Token": login(client, consumer)}
    until = (date.today() + timedelta(days=30)).isoformat()
    r = client.post(
        f"{API}/resources/{rid}/requests",
        json={"purpose": "核查学校周边经营主体", "fields": ["note"], "until": until},
        headers=h,
    )
    assert r.status_code == 422  # not a shared field
    r = client.post(
        f"{API}/resources/{rid}/requests",
        json={"purpose": "核查学校周边经营主体", "fields": ["name", "uscc", "legal_person"], "until": until},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["state"] == "pending" and "X-Data-Key" not in r.headers
    req = r.json()
    client.post("/logout", headers=h)
    h = {"X-CSRF-Token": login(client, office.provider)}
    decision = {
        "decision": "approve",
        "version": req["version"],
        "fields": ["name", "legal_person"],
        "row_filter": {"uscc": ["91331123MA2000002M"]},
        "quota_per_day": 2,
    }
    r = client.post(f"{API}/requests/{req['id']}/decision", json={**decision, "fields": ["note"]}, headers=h)
    assert r.status_code == 422  # a field not asked for, and not shared
    r = client.post(f"{API}/requests/{req['id']}/decision", json=decision, headers=h)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    assert r.json()["fields"] == ["name", "legal_person"] and key.startswith("cdk_")
    client.post("/logout", headers=h)

    r = client.get(f"{API}/shared/rows", headers={"X-Data-Key": key})
    assert r.status_code == 200, r.text
    assert r.json()["records"] == [{"_id": 2, "name": "乙公司", "legal_person": "李*"}]  # one row, masked
    r = client.get(f"{API}/shared/rows", params={"fields": "uscc"}, headers={"X-Data-Key": key})
    assert r.status_code == 403  # not granted
    r = client.get(f"{API}/shared/rows", params={"fields": "note"}, headers={"X-Data-Key": key})
    assert r.status_code == 403  # never shared
    assert client.get(f"{API}/shared/rows", headers={"X-Data-Key": key}).status_code == 200
    r = client.get(f"{API}/shared/rows", headers={"X-Data-Key": key})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")  # quota of 2
    assert client.get(f"{API}/shared/rows", headers={"X-Data-Key": "cdk_wrong"}).status_code == 401
    with db.reading() as s:
        counts = dict(s.execute(select(ShareCall.result, func.count()).group_by(ShareCall.result)).all())
        assert counts == {CallResult.SERVED: 2, CallResult.REFUSED: 3}
        assert s.scalar(select(func.count()).where(AuditEvent.action == "data.share.call")) == 5
    h = {"X-CSRF-Token": login(client, office.provider)}
    usage = client.get(f"{API}/usage", headers=h).json()
    assert [(u["consumer_id"], u["served"], u["refused"], u["rows"]) for u in usage] == [(office.other, 2, 3, 2)]


def test_expiry_and_revocation_end_a_grant(client, db, office, tmp_path) -> None:
    rid = _conditional(db, tmp_path, office)
    consumer = factories.person(db, ["data_provider"], department_id=office.other)
    h = {"X-CSRF-Token": login(client, consumer)}
    until = (date.today() + timedelta(days=2)).isoformat()
    req = client.post(
        f"{API}/resources/{rid}/requests",
        json={"purpose": "核查学校周边经营主体", "fields": ["name"], "until": until},
        headers=h,
    ).json()
    client.post("/logout", headers=h)
    h = {"X-CSRF-Token": login(client, office.provider)}
    grant = client.post(
        f"{API}/requests/{req['id']}/decision", json={"decision": "approve", "version": req["version"]}, headers=h
    ).json()
    key = grant["key"]
    assert client.get(f"{API}/shared/rows", headers={"X-Data-Key": key}).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=4), tick=False):
        r = client.get(f"{API}/shared/rows", headers={"X-Data-Key": key})
        assert (r.status_code == 403 and "expired" in r.text.lower()) or "过期" in r.text
    assert client.post(f"{API}/grants/{grant['id']}/revoke", headers=h).status_code == 200
    assert client.get(f"{API}/shared/rows", headers={"X-Data-Key": key}).status_code == 403


def test_unconditional_is_granted_at_once_and_not_shared_never(client, db, office, tmp_path) -> None:
    open_rid = _publish(db, tmp_path, office)
    closed_rid = _publish(
        db,
        tmp_path,
        office,
        name="dibao",
        code="331123-MZ-0001",
        title="低保对象",
        share_type="none",
        share_condition="涉及个人隐私，依法不予共享",
        open_type="closed",
    )
    consumer = factories.person(db, ["data_provider"], department_id=office.other)
    h = {"X-CSRF-Token": login(client, consumer)}
    until = (date.today() + timedelta(days=30)).isoformat()
    body = {"purpose": "核查学校周边经营主体", "fields": ["name", "founded"], "until": until}
    r = client.post(f"{API}/resources/{open_rid}/requests", json=body, headers=h)
    assert r.status_code == 201 and r.json()["state"] == "approved"
    rows = client.get(f"{API}/shared/rows", headers={"X-Data-Key": r.headers["X-Data-Key"]}).json()["records"]
    assert [sorted(x) for x in rows] == [["_id", "founded", "name"]] * 2
    r = client.post(f"{API}/resources/{closed_rid}/requests", json=body, headers=h)
    assert r.status_code == 201 and r.json()["state"] == "refused" and "X-Data-Key" not in r.headers
