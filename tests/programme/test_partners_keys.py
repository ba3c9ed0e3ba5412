"""Sandbox keys: scopes narrow what a key may do, every call counts against the daily quota (429 with
Retry-After past it), usage is written by the flush job and shown, a revoked key is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from countyos.core.clock import county_today
from countyos.core.db import Database
from countyos.org.models import AuditEvent
from countyos.programme import jobs_partners
from countyos.programme.models.partners import PartnerKeyUsage
from countyos.programme.service import partners_quota
from tests import factories
from tests.programme.partners_helpers import Partners, issue, world_of


@pytest.fixture
def world(db: Database) -> Iterator[Partners]:
    yield from world_of(db)


def bearer(plain: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain}"}


def test_a_key_works_within_its_scopes(client: TestClient, db: Database, world: Partners) -> None:
    _, plain = issue(db, world, scopes=["geo.read"])
    assert client.get("/api/v1/geo/collections", headers=bearer(plain)).status_code == 200
    # another read permission, held by the sandbox account but not by this key
    assert client.get("/api/v1/sensing/devices", headers=bearer(plain)).status_code == 403
    # a write
    r = client.post("/api/v1/geo/components", headers=bearer(plain), json={})
    assert r.status_code == 403
    # the partner registry itself
    assert client.get("/api/v1/programme/partners", headers=bearer(plain)).status_code == 403


def test_calls_count_and_are_refused_past_the_quota(client: TestClient, db: Database, world: Partners) -> None:
    key_id, plain = issue(db, world, scopes=["geo.read"], quota=2)
    for _ in range(2):
        assert client.get("/api/v1/geo/collections", headers=bearer(plain)).status_code == 200
    r = client.get("/api/v1/geo/collections", headers=bearer(plain))
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(r.headers["Retry-After"]) <= 25 * 3600
    assert r.json()["status"] == 429
    assert jobs_partners.flush_usage(db) == 1
    with db.reading() as s:
        row = s.scalars(select(PartnerKeyUsage).where(PartnerKeyUsage.key_id == key_id)).one()
        assert (row.day, row.calls, row.refused) == (county_today(), 2, 1)
    # a second flush adds only what came since
    assert client.get("/api/v1/geo/collections", headers=bearer(plain)).status_code == 429
    assert jobs_partners.flush_usage(db) == 1
    with db.reading() as s:
        row = s.scalars(select(PartnerKeyUsage).where(PartnerKeyUsage.key_id == key_id)).one()
        assert (row.calls, row.refused) == (2, 2)
    # another process (here: a fresh count) starts from what the table holds
    partners_quota.reset()
    assert client.get("/api/v1/geo/collections", headers=bearer(plain)).status_code == 429
    # the developer sees the usage by day, the office too
    client.headers["X-CSRF-Token"] = factories.login(client, world.dev)
    days = client.get(f"/api/v1/programme/developer/keys/{key_id}/usage").json()
    assert len(days) == 30 and days[-1]["day"] == county_today().isoformat()
    assert (days[-1]["calls"], days[-1]["refused"]) == (2, 3)
    page = client.get(f"/developers/keys/{key_id}")
    assert page.status_code == 200 and 'id="key-usage"' in page.text


def test_tokens_that_are_not_partner_keys_are_not_counted(client: TestClient, db: Database, world: Partners) -> None:
    machine = factories.person(db, ["programme_office"], is_machine=True)
    plain = factories.token_for(db, machine, ["programme.read"])
    for _ in range(3):
        assert client.get("/api/v1/programme/partners", headers=bearer(plain)).status_code == 200
    assert partners_quota.take_pending() == {}


def test_a_revoked_key_is_refused(client: TestClient, db: Database, world: Partners) -> None:
    key_id, plain = issue(db, world, scopes=["geo.read"])
    client.headers["X-CSRF-Token"] = factories.login(client, world.office)
    r = client.post(f"/api/v1/programme/partners/keys/{key_id}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    client.cookies.clear()
    assert client.get("/api/v1/geo/collections", headers=bearer(plain)).status_code == 401
    with db.reading() as s:
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(key_id))))
        assert {"programme.partners.key.issue", "programme.partners.key.revoke"} <= actions


def test_the_developer_requests_a_key_and_sees_it_once(client: TestClient, db: Database, world: Partners) -> None:
    client.headers["X-CSRF-Token"] = factories.login(client, world.dev)
    r = client.post("/api/v1/programme/developer/keys", json={"name": "导览小程序", "scopes": ["sensing.read"]})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["token"].startswith("cos_") and out["daily_quota"] == 1000 and out["sandbox"]
    keys = client.get("/api/v1/programme/developer/keys").json()
    assert [k["id"] for k in keys] == [out["id"]] and "token" not in keys[0]
    # write scopes are not on the list
    r = client.post("/api/v1/programme/developer/keys", json={"name": "写入", "scopes": ["sensing.write"]})
    assert r.status_code == 422
    # the quota is the office's to set
    r = client.post(
        "/api/v1/programme/developer/keys", json={"name": "x", "scopes": ["geo.read"], "daily_quota": 100000}
    )
    assert r.status_code == 422


def test_a_developer_sees_only_their_organisations_keys(client: TestClient, db: Database, world: Partners) -> None:
    mine, _ = issue(db, world, scopes=["geo.read"])
    theirs, _ = issue(db, world, scopes=["geo.read"], org=world.other)
    client.headers["X-CSRF-Token"] = factories.login(client, world.dev)
    assert [k["id"] for k in client.get("/api/v1/programme/developer/keys").json()] == [mine]
    assert client.get(f"/api/v1/programme/developer/keys/{theirs}/usage").status_code == 404
    assert client.post(f"/api/v1/programme/developer/keys/{theirs}/revoke").status_code == 404
    assert client.get(f"/developers/keys/{theirs}").status_code == 404
    assert client.get("/api/v1/programme/partners").status_code == 403


def test_a_developer_without_an_organisation_is_told(client: TestClient, db: Database, world: Partners) -> None:
    loner = factories.person(db, ["partner_developer"])
    client.headers["X-CSRF-Token"] = factories.login(client, loner)
    assert client.get("/api/v1/programme/developer/keys").json() == []
    r = client.post("/api/v1/programme/developer/keys", json={"name": "x", "scopes": ["geo.read"]})
    assert r.status_code == 409


def test_the_office_keeps_members_and_issues_keys(client: TestClient, db: Database, world: Partners) -> None:
    newcomer = factories.person(db, ["partner_developer"])
    client.headers["X-CSRF-Token"] = factories.login(client, world.office)
    r = client.post(f"/api/v1/programme/partners/{world.org}/members", json={"user_id": newcomer.id})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/programme/partners/{world.other}/members", json={"user_id": newcomer.id})
    assert r.status_code == 409
    r = client.post(f"/api/v1/programme/partners/{world.org}/members", json={"user_id": world.office.id})
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/programme/partners/{world.org}/keys",
        json={"name": "联调", "scopes": ["geo.read", "eco.monitor.read"], "daily_quota": 5},
    )
    assert r.status_code == 201 and r.json()["daily_quota"] == 5
    r = client.post(
        f"/api/v1/programme/partners/{world.org}/keys", json={"name": "x", "scopes": ["geo.read"], "daily_quota": 0}
    )
    assert r.status_code == 422
    one = client.get(f"/api/v1/programme/partners/{world.org}").json()
    assert {m["user_id"] for m in one["members"]} == {world.dev.id, newcomer.id}
    assert len(one["keys"]) == 1
    assert client.delete(f"/api/v1/programme/partners/{world.org}/members/{newcomer.id}").status_code == 204
    with db.reading() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("programme.partners.%"))))
        assert {
            "programme.partners.member.add",
            "programme.partners.member.remove",
            "programme.partners.key.issue",
        } <= set(actions)
