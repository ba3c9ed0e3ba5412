"""The projects part over HTTP: reads with programme.read, writes with programme.manage, refusals as
problem+json with the allowed actions, the masked and revealed phone."""

from __future__ import annotations

from sqlalchemy import select

from countyos.org.models import AuditEvent
from tests import factories
from tests.programme.projects_helpers import API, credit_code, world


def _headers(client, db, roles: list[str]) -> dict[str, str]:
    return {"X-CSRF-Token": factories.login(client, factories.person(db, roles))}


def test_the_office_keeps_organisations_projects_and_contracts(client, db) -> None:
    h = _headers(client, db, ["programme_office"])
    models = client.get(f"{API}/funding-models", headers=h).json()
    assert {m["code"] for m in models} >= {"gov_one_off", "ppp_concession", "state_incubation"}
    assert next(m for m in models if m["code"] == "gov_one_off")["name"] == "一次性购买"
    r = client.post(
        f"{API}/orgs",
        headers=h,
        json={"name": "测试运营公司", "kind": "operator", "uscc": credit_code(7), "contact_phone": "13900001111"},
    )
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["contact_phone_masked"] == "139****1111" and "13900001111" not in r.text
    bad = client.post(f"{API}/orgs", headers=h, json={"name": "x", "kind": "operator", "uscc": "91331123MA2000000X"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "uscc"
    r = client.post(f"{API}/projects", headers=h, json={
        "code": "XM-A", "name": "物联感知网络", "kind": "operation", "modules": ["sensing"], "budget_fen": 800_000_000,
        "funding_model": "ppp_concession", "operator_id": org["id"]})  # fmt: skip
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["funding_model_name"] == "特许经营（BOT/TOT/PPP）" and p["allowed_actions"] == [
        "build",
        "operate",
        "close",
    ]
    bad = client.post(f"{API}/projects", headers=h, json={**{k: p[k] for k in ("name", "kind")}, "code": "XM-B",
                                                         "funding_model": "lottery"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "funding_model"
    r = client.post(f"{API}/projects/{p['id']}/spend", headers=h, json={"spent_on": "2026-01-31", "amount_fen": 12345})
    assert r.status_code == 201
    assert client.get(f"{API}/projects/{p['id']}", headers=h).json()["spend_fen"] == 12345
    r = client.post(f"{API}/contracts", headers=h, json={
        "code": "HT-A", "title": "运维服务", "project_id": p["id"], "party_id": org["id"], "starts_on": "2025-12-01",
        "ends_on": "2027-11-30", "amount_fen": 1_000_000,
        "formula": {"base": "instalment", "zero_below": 50}})  # fmt: skip
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["formula"]["base"] == "instalment" and c["state"] == "draft"
    r = client.post(
        f"{API}/contracts/{c['id']}/instalments", headers=h, json={"due_on": "2026-03-01", "amount_fen": 1_000_001}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount_fen"
    r = client.post(
        f"{API}/contracts/{c['id']}/instalments", headers=h, json={"due_on": "2026-03-01", "amount_fen": 600_000}
    )
    assert r.status_code == 201
    assert client.get(f"{API}/contracts/{c['id']}", headers=h).json()["scheduled_fen"] == 600_000
    r = client.post(f"{API}/contracts/{c['id']}/actions", headers=h, json={"action": "end"})
    assert r.status_code == 409 and r.json()["allowed_actions"] == ["activate"]
    r = client.post(f"{API}/contracts/{c['id']}/actions", headers=h, json={"action": "activate"})
    assert (r.status_code == 409 and "KPI" in r.json()["detail"]) or "考核指标" in r.json()["detail"]
    assert client.get(f"{API}/contracts", headers=h, params={"project_id": p["id"]}).json()[0]["id"] == c["id"]
    assert client.get(f"{API}/orgs", headers=h, params={"limit": 501}).status_code == 422


def test_reading_is_not_writing_and_the_phone_view_is_audited(client, db) -> None:
    w = world(db)
    h = _headers(client, db, ["operator_staff"])
    assert client.get(f"{API}/projects", headers=h).status_code == 200
    assert client.get(f"{API}/orgs/{w.org_id}", headers=h).json()["contact_phone_masked"] == "138****5678"
    assert client.get(f"{API}/orgs/{w.org_id}/phone", headers=h).status_code == 403
    r = client.post(f"{API}/projects/{w.project_id}/actions", headers=h, json={"action": "build"})
    assert r.status_code == 403
    client.cookies.clear()
    h = _headers(client, db, ["programme_office"])
    assert client.get(f"{API}/orgs/{w.org_id}/phone", headers=h).json() == {"phone": "13812345678"}
    with db.reading() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "programme.projects.org.phone_view"))
    r = client.post(f"{API}/projects/{w.project_id}/actions", headers=h, json={"action": "build"})
    assert r.json()["state"] == "building"
    assert client.get(f"{API}/projects", headers=h, params={"state": "building"}).json()[0]["id"] == w.project_id
