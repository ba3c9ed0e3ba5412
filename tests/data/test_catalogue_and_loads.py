"""The catalogue's lifecycle and the loads through /api/v1/data: review by the bureau only, loads all or
nothing with their quality report, problem+json for bad input."""

from __future__ import annotations

import io

from sqlalchemy import inspect, select

from countyos.data.models import Load, LoadState, Resource
from countyos.org.models import AuditEvent
from tests.data.conftest import entry
from tests.factories import login

API = "/api/v1/data/resources"
GOOD = (
    "企业名称,统一社会信用代码,成立日期,法定代表人\n"
    "甲公司,91331123MA2000001J,2020-05-01,张三\n"
    "乙公司,91331123MA2000002M,2021-06-02,李四\n"
)
BAD_CODE = GOOD + "丙公司,91331123MA2000003X,2022-07-03,王五\n"  # the check character is Q


def _create(client, office, h, **changes):
    r = client.post(API, json=entry(office.market, **changes).model_dump(mode="json"), headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def _act(client, rid, h, action, version, reason=""):
    return client.post(f"{API}/{rid}/actions", json={"action": action, "version": version, "reason": reason}, headers=h)


def _upload(client, rid, h, text, name="qy.csv", skip=False):
    files = {"file": (name, io.BytesIO(text.encode("utf-8")), "text/csv")}
    return client.post(f"{API}/{rid}/loads", files=files, data={"skip_bad_rows": str(skip).lower()}, headers=h)


def test_provider_drafts_loads_and_the_bureau_publishes(client, db, office) -> None:
    h = {"X-CSRF-Token": login(client, office.provider)}
    res = _create(client, office, h)
    assert res["state"] == "draft" and [i["name"] for i in res["items"]] == ["name", "uscc", "founded", "legal_person"]
    r = _upload(client, res["id"], h, GOOD)
    assert r.status_code == 201, r.text
    assert (r.json()["state"], r.json()["rows_loaded"], r.json()["quality_score"]) == ("loaded", 2, 1.0)
    res = client.get(f"{API}/{res['id']}").json()
    r = _act(client, res["id"], h, "submit", res["version"])
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    r = _act(client, res["id"], h, "approve", r.json()["version"])  # a provider cannot review its own entry
    assert r.status_code == 403 and r.json()["allowed_actions"] == []
    client.post("/logout", headers=h)
    h = {"X-CSRF-Token": login(client, office.bureau)}
    version = client.get(f"{API}/{res['id']}").json()["version"]
    r = _act(client, res["id"], h, "reject", version)
    assert r.status_code == 422  # a reason is required
    r = _act(client, res["id"], h, "approve", version)
    assert r.status_code == 200 and r.json()["state"] == "published" and r.json()["published_on"]
    with db.reading() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "data_resource")).all()
    assert {"data.resource.create", "data.load.loaded", "data.resource.submit", "data.resource.approve"} <= set(actions)


def test_a_refused_load_leaves_no_table_and_keeps_its_report(client, db, office) -> None:
    h = {"X-CSRF-Token": login(client, office.provider)}
    res = _create(client, office, h)
    r = _upload(client, res["id"], h, BAD_CODE)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    load = r.json()["errors"][0]["load"]
    assert load["state"] == "refused" and load["rows_read"] == 3 and load["rows_failed"] == 1
    assert load["report"]["failures"] == [{"row": 3, "column": "uscc", "rule": "uscc", "value": "91331123MA2000003X"}]
    with db.reading() as s:
        assert s.get(Resource, res["id"]).current_load_id is None
        tables = inspect(s.connection()).get_table_names()
        assert not [t for t in tables if t.startswith(f"data_t{res['id']}_")]
    r = _upload(client, res["id"], h, BAD_CODE, skip=True)  # skipping bad rows loads the two good ones
    assert r.status_code == 201 and (r.json()["rows_loaded"], r.json()["rows_failed"]) == (2, 1)
    with db.reading() as s:
        loads = s.scalars(select(Load).where(Load.resource_id == res["id"]).order_by(Load.number)).all()
        assert [ld.state for ld in loads] == [LoadState.REFUSED, LoadState.LOADED]


def test_a_file_that_fails_half_way_leaves_nothing(client, db, office) -> None:
    h = {"X-CSRF-Token": login(client, office.provider)}
    res = _create(client, office, h, rules=[])
    text = GOOD + "丁公司,91331123MA2000004U,2023-02-30,赵六\n"  # not a date: refused at the last row
    r = _upload(client, res["id"], h, text)
    assert r.status_code == 422
    assert r.json()["errors"][0]["load"]["report"]["failures"][0]["rule"] == "type"
    with db.reading() as s:
        assert not [t for t in inspect(s.connection()).get_table_names() if t.startswith(f"data_t{res['id']}_")]
    r = _upload(client, res["id"], h, "只有一列\n1\n")
    assert r.status_code == 422 and "企业名称" in r.json()["detail"]


def test_bad_entries_are_problem_json_and_others_cannot_write(client, db, office) -> None:
    h = {"X-CSRF-Token": login(client, office.provider)}
    body = entry(office.market).model_dump(mode="json")
    body["share_type"] = "conditional"  # 共享条件 required
    r = client.post(API, json=body, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post(API, json=entry(office.other).model_dump(mode="json"), headers=h)
    assert r.status_code == 403  # another department's entry
    _create(client, office, h)
    r = client.post(API, json=entry(office.market).model_dump(mode="json"), headers=h)
    assert r.status_code == 409  # same name and code
