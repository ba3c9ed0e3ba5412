"""The 电子监察 API: warnings listed by who may see them, filters and bounds, feedback and 督办 on the
warning's table (409 with the allowed actions, 403, stale versions), 督办 on the application's
timeline, and the rules (GET/PUT, validation as problem+json)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.org.models import AuditEvent
from countyos.services.lifecycle import Action
from countyos.services.models import RuleKind, SupervisionWarning
from countyos.services.service import applications as apps
from countyos.services.service import supervision
from tests.factories import person, token_for
from tests.services.service.test_supervision import T0, do, matter, only, submit

API = "/api/v1/services"
SWEEP_AT = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # Tue 09:00: 83 % of a 5-working-day limit used


@pytest.fixture
def world(db, shop) -> dict:
    """A yellow warning on an application at the centre's step, and people with tokens."""
    people = {
        "supervisor": (["services_admin"], None, [apps.SUPERVISE]),
        "centre": (["services_handler"], shop.centre, [apps.HANDLE]),
        "market": (["services_handler"], shop.market, [apps.HANDLE]),
        "window": (["services_window"], shop.centre, [apps.WINDOW, apps.PII]),
    }
    out: dict = {}
    for key, (roles, dep, scopes) in people.items():
        p = person(db, roles, department_id=dep)
        out[key] = {"Authorization": f"Bearer {token_for(db, p, scopes)}"}
        out[f"{key}_id"] = p.id
    window = Actor(id=out["window_id"], name="窗口", permissions=frozenset({apps.WINDOW}), department_id=shop.centre)
    with db.unit_of_work() as s:
        only(s, RuleKind.TIME_USED, RuleKind.OVERDUE)
        mid, mats = matter(s, shop)
        app = do(s, window, submit(s, window, mid, mats, T0), Action.ACCEPT, T0)
        supervision.sweep(s, now=SWEEP_AT)
        w = s.scalars(select(SupervisionWarning)).one()
        out.update(app=app.id, app_number=app.number, warning=w.id, number=w.number)
    return out


def test_who_sees_which_warnings(client, world, shop) -> None:
    r = client.get(f"{API}/warnings", headers=world["supervisor"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    [w] = body["items"]
    assert w["number"] == world["number"] and w["application_number"] == world["app_number"]
    assert (w["level"], w["state"], w["kind"], w["rule_code"]) == ("yellow", "open", "time_used", "JC01")
    assert w["department_id"] == shop.centre and w["department_name"] == "测试政务服务中心"
    assert w["reason"] == "已用承诺办结时限的 83%" and w["allowed_actions"] == ["supervise"]
    assert client.get(f"{API}/warnings", headers=world["centre"]).json()["total"] == 1
    assert client.get(f"{API}/warnings", headers=world["centre"]).json()["items"][0]["allowed_actions"] == ["feedback"]
    assert client.get(f"{API}/warnings", headers=world["market"]).json()["total"] == 0
    assert client.get(f"{API}/warnings", headers=world["window"]).json()["total"] == 0  # neither: nothing
    assert client.get(f"{API}/warnings/{world['warning']}", headers=world["market"]).status_code == 404
    assert client.get(f"{API}/warnings").status_code == 401


@pytest.mark.parametrize(
    ("params", "total"),
    [
        ({"level": "red"}, 0),
        ({"level": "yellow"}, 1),
        ({"state": "open"}, 1),
        ({"state": "cleared"}, 0),
        ({"active": "true"}, 1),
        ({"kind": "idle"}, 0),
        ({"kind": "time_used"}, 1),
        ({"since": "2026-12-09"}, 0),
        ({"until": "2026-12-08"}, 1),
        ({"until": "2026-12-07"}, 0),
    ],
)
def test_filters(client, world, params, total) -> None:
    r = client.get(f"{API}/warnings", params=params, headers=world["supervisor"])
    assert r.status_code == 200 and r.json()["total"] == total


def test_filters_by_department_and_application_and_bounds(client, world, shop) -> None:
    h = world["supervisor"]
    assert client.get(f"{API}/warnings", params={"department_id": shop.centre}, headers=h).json()["total"] == 1
    assert client.get(f"{API}/warnings", params={"department_id": shop.market}, headers=h).json()["total"] == 0
    assert client.get(f"{API}/warnings", params={"application_id": world["app"]}, headers=h).json()["total"] == 1
    assert client.get(f"{API}/warnings", params={"limit": 100_000}, headers=h).status_code == 422
    assert client.get(f"{API}/warnings", params={"level": "purple"}, headers=h).status_code == 422
    assert client.get(f"{API}/warnings", params={"department_id": 2**40}, headers=h).status_code == 422


def test_feedback_and_supervision_follow_the_table(client, db, world) -> None:
    url = f"{API}/warnings/{world['warning']}"
    w = client.get(url, headers=world["centre"]).json()
    assert [e["action"] for e in w["history"]] == ["raise"]
    r = client.post(
        f"{url}/feedback", json={"version": w["version"], "note": "已联系申请人，明日办结"}, headers=world["centre"]
    )
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["state"] == "answered" and w["feedback"] == "已联系申请人，明日办结" and w["allowed_actions"] == []
    # answered: a second feedback is not in the table (409 with what the caller may do)
    r = client.post(f"{url}/feedback", json={"version": w["version"], "note": "再次"}, headers=world["centre"])
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert r.json()["allowed_actions"] == [] and r.json()["state"] == "answered"
    # the table allows 督办 here, but not to the department: 403
    r = client.post(f"{url}/supervise", json={"version": w["version"], "note": "督办"}, headers=world["centre"])
    assert r.status_code == 403
    # a stale version loses
    r = client.post(f"{url}/supervise", json={"version": w["version"] - 1, "note": "督办"}, headers=world["supervisor"])
    assert r.status_code == 409 and r.json()["code"] == "stale_version"
    r = client.post(
        f"{url}/supervise", json={"version": w["version"], "note": "请今日办结"}, headers=world["supervisor"]
    )
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["state"] == "supervised" and w["supervision"] == "请今日办结" and w["supervised_at"]
    assert [e["action"] for e in w["history"]] == ["raise", "feedback", "supervise"]
    # 督办 is on the application's timeline too
    timeline = client.get(f"{API}/applications/{world['app']}/timeline", headers=world["supervisor"]).json()
    assert (timeline[-1]["action"], timeline[-1]["role"], timeline[-1]["note"]) == (
        "supervise",
        "supervisor",
        f"{world['number']} 请今日办结",
    )
    # supervised: the department answers again
    r = client.post(f"{url}/feedback", json={"version": w["version"], "note": "已办结"}, headers=world["centre"])
    assert r.status_code == 200 and r.json()["state"] == "answered"
    # bounds and shapes
    assert client.post(f"{url}/feedback", json={"version": 1, "note": ""}, headers=world["centre"]).status_code == 422
    assert (
        client.post(f"{url}/feedback", json={"version": 1, "note": "x" * 2001}, headers=world["centre"]).status_code
        == 422
    )
    assert client.post(f"{url}/clear", json={"version": 1, "note": "x"}, headers=world["supervisor"]).status_code == 409
    assert client.post(f"{url}/close", json={"version": 1, "note": "x"}, headers=world["supervisor"]).status_code == 422
    with db.unit_of_work() as s:
        audited = s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == world["number"])).all()
        assert list(audited) == [
            "services.supervision.raise",
            "services.supervision.feedback",
            "services.supervision.supervise",
            "services.supervision.feedback",
        ]


def test_a_cleared_warning_takes_no_action(client, db, world) -> None:
    with db.unit_of_work() as s:
        app = s.get(apps.Application, world["app"])
        app.state = "decided"  # concluded elsewhere
        s.flush()
        assert supervision.sweep(s, now=SWEEP_AT)["cleared"] == 1
    url = f"{API}/warnings/{world['warning']}"
    w = client.get(url, headers=world["supervisor"]).json()
    assert w["state"] == "cleared" and w["allowed_actions"] == []
    r = client.post(f"{url}/supervise", json={"version": w["version"], "note": "督办"}, headers=world["supervisor"])
    assert r.status_code == 409 and r.json()["allowed_actions"] == [] and r.json()["state"] == "cleared"


def test_rules_read_and_changed_by_supervisors(client, db, world) -> None:
    url = f"{API}/supervision/rules"
    assert client.get(url, headers=world["centre"]).status_code == 403
    rules = client.get(url, headers=world["supervisor"]).json()
    assert [(r["code"], r["kind"], r["enabled"]) for r in rules][:3] == [
        ("JC01", "time_used", True),
        ("JC02", "overdue", True),
        ("JC03", "idle", False),  # ``only`` kept the deadline family
    ]
    r = client.put(
        url, json={"rules": [{"code": "JC01", "threshold": 90, "level": "yellow"}]}, headers=world["supervisor"]
    )
    assert r.status_code == 200, r.text
    assert next(x for x in r.json() if x["code"] == "JC01")["threshold"] == 90.0
    r = client.put(url, json={"rules": [{"kind": "idle", "level": "red"}]}, headers=world["supervisor"])
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "rules.0.days", "message": "此类规则必须填写"}]
    r = client.put(url, json={"rules": [{"code": "JC99", "level": "red"}]}, headers=world["supervisor"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules.0.code"
    r = client.put(url, json={"rules": [{"code": "JC03", "days": 0}]}, headers=world["supervisor"])
    assert r.status_code == 422
    r = client.put(url, json={"rules": [{"code": "JC01", "threshold": 150}]}, headers=world["supervisor"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules.0.threshold"
    r = client.put(url, json={"rules": [{"kind": "idle"}] * 31}, headers=world["supervisor"])
    assert r.status_code == 422
    with db.unit_of_work() as s:
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "services.supervision.rules")).all() == [
            "services.supervision.rules"
        ]
        # 90 %: the 83 % warning ends at the next sweep
        assert supervision.sweep(s, now=SWEEP_AT)["cleared"] == 1
