"""Partner services: the transition table and its refusals, the developer's own services only, the public
catalogue listing only approved services, the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from countyos.core.db import Database
from countyos.org.models import AuditEvent
from countyos.programme.models.partners import ServiceState
from countyos.programme.schemas.partners import ReviewIn, ServiceIn
from countyos.programme.service import partners_services
from tests import factories
from tests.programme.partners_helpers import Partners, world_of


@pytest.fixture
def world(db: Database) -> Iterator[Partners]:
    yield from world_of(db)


def service(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "智慧导览",
        "summary": "景区语音导览和在园人数提示",
        "description": "为游客提供景区导览",
        "url": "https://guide.example.cn/app",
        "category": "travel",
        "uses": ["village.tourism.read", "sta"],
        "contact": "王工",
    }
    data.update(changes)
    return data


def submit(db: Database, w: Partners, org: int | None = None, **changes: Any) -> int:
    with db.unit_of_work() as s:
        svc = partners_services.submit(
            s, actor=w.dev_actor(), org_id=org or w.org, data=ServiceIn.model_validate(service(**changes))
        )
        return svc.id


def test_transitions_and_refusals(db: Database, world: Partners) -> None:
    sid = submit(db, world)
    office = world.office_actor()
    with db.unit_of_work() as s, pytest.raises(partners_services.ValidationFailed):
        partners_services.review(s, actor=office, service_id=sid, data=ReviewIn(action="reject"))
    with db.unit_of_work() as s:
        svc = partners_services.review(
            s, actor=office, service_id=sid, data=ReviewIn(action="reject", note="地址打不开")
        )
        assert svc.state == ServiceState.REJECTED and svc.review_note == "地址打不开"
    with db.unit_of_work() as s:
        with pytest.raises(partners_services.TransitionNotAllowed) as refused:
            partners_services.review(s, actor=office, service_id=sid, data=ReviewIn(action="approve"))
        assert refused.value.allowed == ["edit"] and refused.value.state == "rejected"
    with db.unit_of_work() as s:
        svc = partners_services.edit(
            s,
            actor=world.dev_actor(),
            service_id=sid,
            org_id=world.org,
            data=ServiceIn.model_validate(service(name="智慧导览2")),
        )
        assert svc.state == ServiceState.SUBMITTED
    with db.unit_of_work() as s:
        assert (
            partners_services.review(s, actor=office, service_id=sid, data=ReviewIn(action="approve")).state
            == ServiceState.APPROVED
        )
    with db.unit_of_work() as s, pytest.raises(partners_services.TransitionNotAllowed):
        partners_services.edit(
            s, actor=world.dev_actor(), service_id=sid, org_id=world.org, data=ServiceIn.model_validate(service())
        )
    with db.unit_of_work() as s, pytest.raises(partners_services.ValidationFailed):
        partners_services.review(s, actor=office, service_id=sid, data=ReviewIn(action="suspend"))
    with db.unit_of_work() as s:
        svc = partners_services.review(
            s, actor=office, service_id=sid, data=ReviewIn(action="suspend", note="投诉核查中")
        )
        assert svc.state == ServiceState.SUSPENDED
    with db.unit_of_work() as s:
        assert (
            partners_services.review(s, actor=office, service_id=sid, data=ReviewIn(action="approve")).state
            == ServiceState.APPROVED
        )
    with db.reading() as s:
        actions = list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target_type == "programme_partner_service")
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == [
        "programme.partners.service.submit",
        "programme.partners.service.reject",
        "programme.partners.service.edit",
        "programme.partners.service.approve",
        "programme.partners.service.suspend",
        "programme.partners.service.approve",
    ]


def test_the_api_lists_allowed_actions_on_refusal(client: TestClient, db: Database, world: Partners) -> None:
    sid = submit(db, world)
    client.headers["X-CSRF-Token"] = factories.login(client, world.office)
    r = client.post(f"/api/v1/programme/partners/services/{sid}/review", json={"action": "suspend", "note": "x"})
    assert r.status_code == 409
    body = r.json()
    assert body["allowed_actions"] == ["approve", "reject", "edit"] and body["state"] == "submitted"
    r = client.post(f"/api/v1/programme/partners/services/{sid}/review", json={"action": "reject"})
    assert r.status_code == 422 and any(e["field"] == "note" for e in r.json()["errors"])


def test_urls_are_http_or_https(client: TestClient, db: Database, world: Partners) -> None:
    client.headers["X-CSRF-Token"] = factories.login(client, world.dev)
    for url in ("javascript:alert(1)", "ftp://x.example.cn/a", "https://" + "a" * 500, "https://a b.cn"):
        r = client.post("/api/v1/programme/developer/services", json=service(url=url))
        assert r.status_code == 422, url
    assert client.post("/api/v1/programme/developer/services", json=service(category="casino")).status_code == 422
    assert client.post("/api/v1/programme/developer/services", json=service(uses=["case.read"])).status_code == 422
    r = client.post("/api/v1/programme/developer/services", json=service())
    assert r.status_code == 201 and r.json()["state"] == "submitted"


def test_a_developer_sees_only_their_organisations_services(client: TestClient, db: Database, world: Partners) -> None:
    mine = submit(db, world)
    theirs = submit(db, world, org=world.other, name="别家服务")
    client.headers["X-CSRF-Token"] = factories.login(client, world.dev)
    assert [s["id"] for s in client.get("/api/v1/programme/developer/services").json()] == [mine]
    r = client.put(f"/api/v1/programme/developer/services/{theirs}", json=service())
    assert r.status_code == 404
    assert client.get(f"/developers/services/{theirs}/edit").status_code == 404
    page = client.get("/developers/services")
    assert page.status_code == 200 and "智慧导览" in page.text and "别家服务" not in page.text
    assert (
        client.post(f"/api/v1/programme/partners/services/{mine}/review", json={"action": "approve"}).status_code == 403
    )


def test_the_public_catalogue_lists_only_approved_services(client: TestClient, db: Database, world: Partners) -> None:
    listed = submit(db, world, name="已上架的导览", url="https://listed.example.cn/?a=1&b=<x>")
    submit(db, world, name="待审核的服务")
    suspended = submit(db, world, name="已暂停的服务")
    with db.unit_of_work() as s:
        office = world.office_actor()
        partners_services.review(s, actor=office, service_id=listed, data=ReviewIn(action="approve"))
        partners_services.review(s, actor=office, service_id=suspended, data=ReviewIn(action="approve"))
        partners_services.review(s, actor=office, service_id=suspended, data=ReviewIn(action="suspend", note="暂停"))
    assert [e["name"] for e in client.get("/api/v1/programme/developer/catalogue").json()] == ["已上架的导览"]
    page = client.get("/developers/catalogue")
    assert page.status_code == 200
    assert "已上架的导览" in page.text and "待审核的服务" not in page.text and "已暂停的服务" not in page.text
    assert 'rel="noopener noreferrer"' in page.text and "<x>" not in page.text
    assert "测试伙伴甲科技有限公司" in page.text
