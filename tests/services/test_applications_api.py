"""The applications API: create, read (masked), list, actions with 409/403 and the allowed list,
timeline, problem+json; concurrent actions (exactly one wins)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.org.models import AuditEvent
from countyos.services.lifecycle import Action
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests.factories import person, token_for
from tests.services.conftest import ADMIN, guide

API = "/api/v1/services/applications"
PERMS = [apps.WINDOW, apps.AGENT, apps.HANDLE, apps.SUPERVISE, apps.PII]


def h(db, p, perms):
    return {"Authorization": f"Bearer {token_for(db, p, perms)}"}


@pytest.fixture
def matter(db, shop) -> dict:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        return {"id": m.id, "materials": [x.id for x in catalogue.current(m).materials]}


def body(matter, n=2, **extra):
    return {
        "matter_id": matter["id"],
        "applicant_name": "蓝水生",
        "id_number": "33112519600101123X",
        "phone": "13905781234",
        "materials": [{"material_id": m, "form": "original", "count": 1} for m in matter["materials"][:n]],
        **extra,
    }


def test_agent_submits_window_accepts_departments_handle(client, db, shop, matter) -> None:
    agent = h(db, person(db, ["services_agent"]), [apps.AGENT])
    window = h(db, person(db, ["services_window"], department_id=shop.centre), [apps.WINDOW, apps.PII])
    centre = h(db, person(db, ["services_handler"], department_id=shop.centre), [apps.HANDLE])
    market = h(db, person(db, ["services_handler"], department_id=shop.market), [apps.HANDLE])
    r = client.post(API, json=body(matter), headers=agent)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "consent"
    consent = {"given_by": "蓝水生", "way": "phone", "at": "2026-01-01T09:00:00+08:00"}
    r = client.post(API, json=body(matter, n=1, consent=consent), headers=agent)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["state"] == "submitted" and app["submitted_role"] == "agent" and app["consent_way"] == "phone"
    assert app["id_number"] == "331***********123X" and app["phone"] == "139****1234" and app["address"] is None
    assert app["missing_materials"] == ["营业执照"] and app["allowed_actions"] == ["withdraw"]
    url = f"{API}/{app['id']}"
    got = client.get(url, headers=window).json()
    assert got["id_number"] == "33112519600101123X" and got["phone"] == "13905781234"
    assert got["allowed_actions"] == ["request_correction", "accept", "accept_immediate", "reject", "comment"]
    # not in the table for this state: 409 with what the caller may do
    r = client.post(f"{url}/actions/deliver", json={"version": got["version"], "method": "window"}, headers=window)
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert r.json()["allowed_actions"] == got["allowed_actions"] and r.json()["state"] == "submitted"
    r = client.post(f"{url}/actions/request_correction", json={"version": got["version"]}, headers=window)
    assert r.status_code == 200 and r.json()["state"] == "correction_requested"
    v = r.json()["version"]
    r = client.post(
        f"{url}/actions/resubmit",
        json={"version": v, "materials": [{"material_id": matter["materials"][1], "form": "copy", "count": 1}]},
        headers=agent,
    )
    assert r.status_code == 200 and r.json()["missing_materials"] == []
    r = client.post(f"{url}/actions/accept", json={"version": r.json()["version"]}, headers=window)
    assert r.status_code == 200 and r.json()["state"] == "in_progress" and r.json()["receipt_number"]
    assert r.json()["clock"] == "running" and r.json()["due_level"] == "green" and r.json()["due_at"]
    v = r.json()["version"]
    # the market's handler may not act on the centre's step (it has not reached the market: not found)
    r = client.post(f"{url}/actions/pass", json={"version": v, "opinion": "同意"}, headers=market)
    assert r.status_code == 404
    assert client.get(f"{API}", params={"inbox": "true"}, headers=market).json()["total"] == 0
    assert client.get(f"{API}", params={"inbox": "true"}, headers=centre).json()["total"] == 1
    r = client.post(f"{url}/actions/pass", json={"version": v, "opinion": "同意"}, headers=centre)
    assert r.status_code == 200 and r.json()["step"] == 1
    v = r.json()["version"]
    # the centre's handler may not act on the market's step: 403 with its (empty) allowed list
    r = client.post(f"{url}/actions/pass", json={"version": v, "opinion": "同意"}, headers=centre)
    assert r.status_code == 403 and r.json()["allowed_actions"] == [] and r.json()["state"] == "in_progress"
    assert client.get(f"{API}", params={"inbox": "true"}, headers=market).json()["total"] == 1
    r = client.get(url, headers=market)
    r = client.post(
        f"{url}/actions/pass",
        json={"version": r.json()["version"], "opinion": "准予", "result": {"decision": "granted"}},
        headers=market,
    )
    assert r.status_code == 200 and r.json()["state"] == "decided" and r.json()["decision"] == "granted"
    steps = r.json()["steps"]
    assert [(s["department_name"], s["status"], s["action"]) for s in steps] == [
        ("测试政务服务中心", "done", "pass"),
        ("测试市场监督管理局", "done", "pass"),
    ]
    r = client.post(
        f"{url}/actions/deliver", json={"version": r.json()["version"], "method": "express"}, headers=window
    )
    assert r.status_code == 422  # express needs its tracking number
    tl = client.get(f"{url}/timeline", headers=agent).json()
    assert [e["action"] for e in tl] == ["submit", "request_correction", "resubmit", "accept", "pass", "pass"]
    assert tl[1]["detail"] == {"missing": ["营业执照"]} and tl[1]["role"] == "window"
    # list: filters are bounded; the agent sees what they submitted
    assert client.get(API, params={"state": "decided"}, headers=agent).json()["total"] == 1
    assert client.get(API, params={"limit": 100000}, headers=agent).status_code == 422
    assert client.get(API, params={"state": "nonsense"}, headers=agent).status_code == 422


def test_bad_action_bodies_and_strangers(client, db, shop, matter) -> None:
    window = h(db, person(db, ["services_window"]), [apps.WINDOW])
    app = client.post(API, json=body(matter), headers=window).json()
    url = f"{API}/{app['id']}"
    assert client.post(f"{url}/actions/reject", json={"version": 1}, headers=window).status_code == 422
    assert (
        client.post(f"{url}/actions/reject", json={"version": 1, "reason": "x", "extra": 1}, headers=window).status_code
        == 422
    )
    assert client.post(f"{url}/actions/fly", json={"version": 1}, headers=window).status_code == 422
    r = client.post(f"{url}/actions/reject", json={"version": 99, "reason": "x"}, headers=window)
    assert r.status_code == 409 and r.json()["code"] == "stale_version" and r.json()["current_version"] == 1
    stranger = h(db, person(db, ["services_agent"]), [apps.AGENT])  # not the agent who submitted it
    assert client.get(url, headers=stranger).status_code == 404
    assert client.get(API, headers=stranger).json()["total"] == 0
    assert client.get(url).status_code == 401


@pytest.mark.committed  # two transactions of their own, in parallel
def test_concurrent_actions_exactly_one_wins(db, shop, matter) -> None:
    p = person(db, ["services_window"])
    window = Actor(id=p.id, name="窗口", permissions=frozenset({apps.WINDOW}))
    with db.unit_of_work() as s:
        data = ApplicationIn.model_validate(body(matter))
        created = apps.create(s, actor=window, data=data)
        app_id, version = created.id, created.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def fire(action: Action, extra: dict) -> None:
        payload = ACTION_MODELS[action].model_validate({"version": version, **extra})
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                apps.act(s, actor=window, application_id=app_id, action=action, data=payload)
            outcomes.append("won")
        except apps.StaleApplication:
            outcomes.append("stale")

    threads = [
        threading.Thread(target=fire, args=(Action.ACCEPT, {})),
        threading.Thread(target=fire, args=(Action.REJECT, {"reason": "材料不实"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["stale", "won"]
    with db.reading() as s:
        app = s.get(apps.Application, app_id)
        assert app.version == version + 1 and app.state in ("in_progress", "rejected")
        events = apps.timeline(s, application_id=app_id)
        assert [e.action for e in events] == ["submit", "accept" if app.state == "in_progress" else "reject"]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_material_files_are_kept_private_and_only_before_acceptance(client, db, shop, matter) -> None:
    agent = h(db, person(db, ["services_agent"]), [apps.AGENT])
    window = h(db, person(db, ["services_window"]), [apps.WINDOW])
    consent = {"given_by": "蓝水生", "way": "in_person", "at": "2026-01-01T09:00:00+08:00"}
    app = client.post(API, json=body(matter, n=1, consent=consent), headers=agent).json()
    second = matter["materials"][1]
    second_name = client.get(f"{API}/{app['id']}", headers=window).json()["materials"][1]["name"]
    url = f"{API}/{app['id']}/materials/{second}/file"
    r = client.post(url, files={"file": ("licence.pdf", PDF, "application/pdf")}, headers=agent)
    assert r.status_code == 200, r.text
    assert r.json()["received"] is True and r.json()["form"] == "electronic" and r.json()["attachment_id"]
    with db.reading() as s:  # one record says what the file is; none calls it a case attachment
        kept = s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("%.%file%") | AuditEvent.action.like("case.attachment.%"))
        )
        recorded = [(e.action, e.target_id, (e.detail or {}).get("material")) for e in kept]
    assert recorded == [("services.application.material_file", app["number"], second_name)]
    assert client.get(f"{API}/{app['id']}", headers=window).json()["missing_materials"] == []
    got = client.get(url, headers=window)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert client.get(url, headers=h(db, person(db, ["services_agent"]), [apps.AGENT])).status_code == 404
    bad = client.post(url, files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")}, headers=agent)
    assert bad.status_code == 422
    assert (
        client.post(
            f"{API}/{app['id']}/materials/999999/file", files={"file": ("a.pdf", PDF)}, headers=agent
        ).status_code
        == 404
    )
    r = client.post(f"{API}/{app['id']}/actions/accept", json={"version": app["version"]}, headers=window)
    assert r.status_code == 200
    late = client.post(url, files={"file": ("again.pdf", PDF, "application/pdf")}, headers=agent)
    assert late.status_code == 409
