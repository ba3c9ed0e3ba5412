"""The modules API: the list, switching (409 problem+json on a refusal, worded in the reader's language),
placing on the roadmap, the phases' CRUD, and who may do what."""

from __future__ import annotations

from sqlalchemy import select

from countyos.core.i18n import DEFAULT_LOCALE, gettext, use_locale
from countyos.org.models import AuditEvent
from tests.programme.modules_helpers import bearer

API = "/api/v1/programme"
PHASE = {
    "number": 1,
    "name": "一期 急用先行",
    "goal": "先建最急需的",
    "starts_on": "2025-01-01",
    "ends_on": "2025-12-31",
}


def test_the_list_shows_every_module_with_its_state(db, client):
    reader = bearer(db, ["leader"], ["programme.read"])
    r = client.get(f"{API}/modules", headers=reader)
    assert r.status_code == 200, r.text
    mods = {m["code"]: m for m in r.json()}
    assert {"org", "cases", "sensing", "eco", "village", "safety", "programme"} <= set(mods)
    assert mods["cases"]["required"] is True and mods["cases"]["on"] is True
    assert mods["eco"]["needs"] == ["sensing"] and mods["eco"]["locked"] is False and mods["eco"]["phase_id"] is None
    assert client.get(f"{API}/modules", headers=bearer(db, ["sysadmin"], ["programme.modules"])).status_code == 200
    assert client.get(f"{API}/modules", headers=bearer(db, ["handler"], ["case.handle"])).status_code == 403


def test_switching_through_the_api(db, client):
    admin = bearer(db, ["sysadmin"], ["programme.modules"])
    r = client.post(f"{API}/modules/village", json={"on": False, "note": "二期再开"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["on"] is False and body["note"] == "二期再开" and body["switched_at"]
    assert client.get("/api/v1/village/batches", headers=admin).status_code == 404

    refused = client.post(f"{API}/modules/sensing", json={"on": False}, headers=admin)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    with use_locale(DEFAULT_LOCALE):  # the module names worded in the reader's language, like the sentence
        words = gettext(
            "Switch off %(users)s first: it needs %(module)s", users=gettext("Ecology"), module=gettext("Sensing")
        )
    assert refused.json()["code"] == "conflict" and refused.json()["detail"] == words
    assert client.post(f"{API}/modules/cases", json={"on": False}, headers=admin).status_code == 409
    assert client.post(f"{API}/modules/nosuch", json={"on": False}, headers=admin).status_code == 404
    assert client.post(f"{API}/modules/eco", json={"on": "maybe"}, headers=admin).status_code == 422
    assert client.post(f"{API}/modules/eco", json={"on": False, "note": "x" * 501}, headers=admin).status_code == 422
    # only the system administrator switches
    office = bearer(db, ["programme_office"], ["programme.read", "programme.manage"])
    assert client.post(f"{API}/modules/eco", json={"on": False}, headers=office).status_code == 403

    assert client.post(f"{API}/modules/village", json={"on": True}, headers=admin).json()["on"] is True
    with db.reading() as s:
        actions = [e.detail["on"] for e in s.scalars(select(AuditEvent).where(AuditEvent.target_id == "village"))]
    assert actions == [False, True]


def test_phases_and_plans_through_the_api(db, client):
    office = bearer(db, ["programme_office"], ["programme.read", "programme.manage"])
    admin = bearer(db, ["sysadmin"], ["programme.modules"])
    r = client.post(f"{API}/phases", json=PHASE, headers=office)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["status"] in ("done", "running", "planned") and r.json()["modules"] == []
    bad = client.post(
        f"{API}/phases", json={**PHASE, "number": 2, "starts_on": "2026-01-02", "ends_on": "2026-01-01"}, headers=office
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ends_on"
    assert client.post(f"{API}/phases", json=PHASE, headers=office).status_code == 422  # the number is taken
    assert client.post(f"{API}/phases", json=PHASE, headers=admin).status_code == 403

    r = client.put(f"{API}/modules/eco/plan", json={"phase_id": pid, "planned_on": "2025-06-01"}, headers=admin)
    assert r.status_code == 200 and r.json()["phase_id"] == pid and r.json()["planned_on"] == "2025-06-01"
    assert client.put(f"{API}/modules/eco/plan", json={"phase_id": 999999}, headers=admin).status_code == 404
    assert client.put(f"{API}/modules/eco/plan", json={"phase_id": pid}, headers=office).status_code == 403

    got = client.get(f"{API}/phases/{pid}", headers=office).json()
    assert got["modules"] == ["eco"] and got["name"] == "一期 急用先行"
    assert [p["id"] for p in client.get(f"{API}/phases", headers=admin).json()] == [pid]
    r = client.put(f"{API}/phases/{pid}", json={**PHASE, "name": "一期"}, headers=office)
    assert r.status_code == 200 and r.json()["name"] == "一期"

    refused = client.delete(f"{API}/phases/{pid}", headers=office)
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
    client.put(f"{API}/modules/eco/plan", json={"phase_id": None}, headers=admin)
    assert client.delete(f"{API}/phases/{pid}", headers=office).status_code == 204
    assert client.get(f"{API}/phases/{pid}", headers=office).status_code == 404
