"""The 好差评 API: rate, 追评, list with filters, statistics, the rectification steps with 409/403 listing
the allowed ones, limits as data, problem+json."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from countyos.core.clock import utcnow
from countyos.services.service import applications as apps
from tests.factories import login, token_for
from tests.services.service.ratings_world import World, concluded, world

API = "/api/v1/services"


@pytest.fixture
def w(db, shop) -> World:
    return world(db, shop)


def h(db, w: World, who: str, perms: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, w.people[who], perms)}"}


def _concluded(db, w: World, **kw) -> int:
    with db.unit_of_work() as s:
        return concluded(s, w, utcnow() - timedelta(hours=1), **kw).id


def applicant(client, w: World, who: str = "蓝水生") -> dict[str, str]:
    """The applicant's own login session (cookie) and its CSRF header; staff use bearer tokens."""
    return {"X-CSRF-Token": login(client, w.people[who])}


def test_rate_follow_up_and_read(app, client, db, w) -> None:
    app_id = _concluded(db, w)
    me = applicant(client, w)
    window = h(db, w, "窗口 黄丽", [apps.WINDOW, apps.PII])
    url = f"{API}/applications/{app_id}/ratings"
    r = client.post(url, json={"channel": "mobile", "level": "very_dissatisfied"}, headers=me)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "comment"
    r = client.post(
        url, json={"channel": "mobile", "level": "satisfied", "tags": ["fast"], "comment": "很快"}, headers=me
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert {k: got[k] for k in ("channel", "level", "level_code", "bad", "tags", "rater_name", "rectification")} == {
        "channel": "mobile",
        "level": "satisfied",
        "level_code": "2",
        "bad": False,
        "tags": ["fast"],
        "rater_name": "蓝水生",
        "rectification": None,
    }
    assert got["department_name"] == "测试市场监督管理局"
    r = client.post(url, json={"channel": "mobile", "level": "satisfied"}, headers=me)
    assert r.status_code == 409 and r.json()["status"] == 409
    r = client.post(url, json={"channel": "hall_tablet", "level": "satisfied"}, headers=me)
    assert r.status_code == 403
    r = client.post(url, json={"channel": "hall_tablet", "level": "very_satisfied", "anonymous": True}, headers=window)
    assert r.status_code == 201 and r.json()["rater_name"] is None
    r = client.post(url, json={"channel": "sms", "level": "excellent"}, headers=window)
    assert r.status_code == 422
    r = client.post(url, json={"channel": "sms", "level": "satisfied", "comment": "x" * 1001}, headers=window)
    assert r.status_code == 422
    # 追评 once
    r = client.post(f"{url}/{got['id']}/follow-up", json={"text": "证照已收到"}, headers=me)
    assert r.status_code == 200 and r.json()["follow_up"] == "证照已收到"
    r = client.post(f"{url}/{got['id']}/follow-up", json={"text": "再说一句"}, headers=me)
    assert r.status_code == 409
    # the applicant sees their own rating only; the window sees both
    assert [x["channel"] for x in client.get(url, headers=me).json()] == ["mobile"]
    assert [x["channel"] for x in client.get(url, headers=window).json()] == ["mobile", "hall_tablet"]
    with TestClient(app, base_url="http://testserver") as other:
        applicant(other, w, "雷美华")
        assert other.get(url).status_code == 404


def test_a_bad_rating_through_its_rectification(client, db, w) -> None:
    app_id = _concluded(db, w)
    me = applicant(client, w)
    market = h(db, w, "市监审批 许文", [apps.HANDLE])
    centre = h(db, w, "中心审批 李", [apps.HANDLE])
    sup = h(db, w, "好差评办 周", [apps.SUPERVISE])
    r = client.post(
        f"{API}/applications/{app_id}/ratings",
        json={"channel": "mobile", "level": "dissatisfied", "tags": ["many_visits"], "comment": "跑了两趟"},
        headers=me,
    )
    assert r.status_code == 201
    rating = r.json()
    rec = rating["rectification"]
    assert (rec["state"], rec["department_name"], rec["overdue"], rec["events"]) == (
        "verifying",
        "测试市场监督管理局",
        False,
        [],
    )
    # the applicant sees no steps to take
    assert rec["allowed_actions"] == []
    rid = rating["id"]
    step = f"{API}/ratings/{rid}/rectification"
    assert client.get(f"{API}/ratings/{rid}", headers=centre).status_code == 404  # another department
    r = client.get(f"{API}/ratings/{rid}", headers=market)
    assert r.json()["rectification"]["allowed_actions"] == ["verify", "dismiss"]
    r = client.post(f"{step}/rectify", json={"version": 1, "note": "x"}, headers=market)
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert r.json()["allowed_actions"] == ["verify", "dismiss"]
    r = client.post(f"{step}/verify", json={"version": 1, "note": ""}, headers=market)
    assert r.status_code == 422
    r = client.post(f"{step}/verify", json={"version": 1, "note": "电话核实，属实"}, headers=market)
    assert r.status_code == 200 and r.json()["rectification"]["state"] == "rectifying"
    r = client.post(f"{step}/rectify", json={"version": 1, "note": "stale"}, headers=market)
    assert r.status_code == 409 and r.json()["code"] == "stale_version"
    r = client.post(f"{step}/rectify", json={"version": 2, "note": "完善告知清单"}, headers=market)
    assert r.json()["rectification"]["state"] == "revisiting"
    r = client.post(f"{step}/revisit", json={"version": 3, "note": "回访"}, headers=market)
    assert r.status_code == 403 and r.json()["allowed_actions"] == []
    r = client.post(f"{step}/nonsense", json={"version": 3, "note": "回访"}, headers=sup)
    assert r.status_code == 422
    r = client.post(f"{step}/revisit", json={"version": 3, "note": "回访满意，办结"}, headers=sup)
    out = r.json()["rectification"]
    assert out["state"] == "closed" and [e["action"] for e in out["events"]] == ["verify", "rectify", "revisit"]
    assert [e["note"] for e in out["events"]] == ["电话核实，属实", "完善告知清单", "回访满意，办结"]
    market_name, sup_name = (f"测试{w.people[k].username}" for k in ("市监审批 许文", "好差评办 周"))
    assert [e["actor_name"] for e in out["events"]] == [market_name, market_name, sup_name]
    # the list and the statistics see it
    r = client.get(f"{API}/ratings", params={"bad_only": True}, headers=sup)
    assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == rid
    assert client.get(f"{API}/ratings", headers=centre).json()["total"] == 0
    assert client.get(f"{API}/ratings", headers=me).json()["total"] == 0  # a resident lists nothing
    today = utcnow().astimezone().date()
    r = client.get(
        f"{API}/ratings/statistics",
        params={"start": str(today - timedelta(days=2)), "end": str(today + timedelta(days=2))},
        headers=sup,
    )
    assert r.status_code == 200
    total = r.json()["total"]
    assert (total["rated"], total["good_rate"], total["bad_count"], total["rectification_rate"]) == (1, 0.0, 1, 100.0)
    assert total["named_rectified_ids"] == [rid]
    r = client.get(f"{API}/ratings/statistics", params={"start": "2026-12-02", "end": "2026-12-01"}, headers=sup)
    assert r.status_code == 422
    r = client.get(f"{API}/ratings", params={"limit": 1000}, headers=sup)
    assert r.status_code == 422


def test_limits_as_data_only_for_supervisors(client, db, w) -> None:
    sup = h(db, w, "好差评办 周", [apps.SUPERVISE])
    market = h(db, w, "市监审批 许文", [apps.HANDLE])
    assert client.get(f"{API}/ratings/limits", headers=market).json() == {
        "verifying": 1,
        "rectifying": 15,
        "revisiting": 1,
    }
    body = {"verifying": 2, "rectifying": 10, "revisiting": 1}
    assert client.put(f"{API}/ratings/limits", json=body, headers=market).status_code == 403
    assert client.put(f"{API}/ratings/limits", json={**body, "verifying": 0}, headers=sup).status_code == 422
    r = client.put(f"{API}/ratings/limits", json=body, headers=sup)
    assert r.status_code == 200 and r.json() == body
    assert client.get(f"{API}/ratings/limits", headers=market).json() == body


def test_the_openapi_names_the_models(client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    post = spec["paths"]["/api/v1/services/applications/{application_id}/ratings"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/RatingIn")
    assert "/api/v1/services/ratings/{rating_id}/rectification/{action}" in spec["paths"]
