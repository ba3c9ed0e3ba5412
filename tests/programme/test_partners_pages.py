"""The partners pages: the public developer portal, the registry and a partner's page for the office (a
key issued shows its token once), the review page, the developer's keys and services with forms that
re-render with their errors."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from countyos.core.db import Database
from countyos.programme.schemas.partners import ServiceIn
from countyos.programme.service import partners_services
from tests import factories
from tests.programme.partners_helpers import Partners, issue, world_of
from tests.web.visible import raw_marks, visible_text


@pytest.fixture
def world(db: Database) -> Iterator[Partners]:
    yield from world_of(db)


def test_the_portal_is_public_and_chinese(client: TestClient, db: Database) -> None:
    page = client.get("/developers")
    assert page.status_code == 200
    assert 'id="developers-page"' in page.text and "/api/docs" in page.text and "/sta/v1.1" in page.text
    assert "/open311/v2/" in page.text and "/api/3/action/" in page.text and "/catalog.ttl" in page.text
    assert "429" in page.text and "Retry-After" in page.text
    assert client.get("/developers/catalogue").status_code == 200
    assert client.get("/developers/keys", follow_redirects=False).status_code in (303, 401)


def test_the_office_registry_and_key_issue(client: TestClient, db: Database, world: Partners) -> None:
    issue(db, world, scopes=["geo.read"], quota=7)
    csrf = factories.login(client, world.office)
    page = client.get("/programme/partners")
    assert page.status_code == 200 and "测试伙伴甲科技有限公司" in page.text and "/ 7" in page.text
    page = client.get(f"/programme/partners/{world.org}")
    assert page.status_code == 200 and 'id="key-form"' in page.text
    r = client.post(
        f"/programme/partners/{world.org}/keys",
        data={"csrf_token": csrf, "name": "", "daily_quota": "0", "scopes": ["geo.read"]},
    )
    assert r.status_code == 422 and 'id="key-error"' in r.text and 'id="key-token"' not in r.text
    r = client.post(
        f"/programme/partners/{world.org}/keys",
        data={"csrf_token": csrf, "name": "对接测试", "daily_quota": "50", "scopes": ["geo.read", "sensing.read"]},
    )
    assert r.status_code == 200 and 'id="key-token"' in r.text
    token = re.search(r'id="key-token" class="mono code-ref">([^<]+)<', r.text)
    assert token and token.group(1).startswith("cos_")
    page = client.get(f"/programme/partners/{world.org}")
    assert token.group(1) not in page.text and "对接测试" in page.text


def test_the_review_page(client: TestClient, db: Database, world: Partners) -> None:
    with db.unit_of_work() as s:
        sid = partners_services.submit(
            s,
            actor=world.dev_actor(),
            org_id=world.org,
            data=ServiceIn(name="导览", summary="导览服务", url="https://a.example.cn", category="travel"),
        ).id
    csrf = factories.login(client, world.office)
    page = client.get("/programme/partners/services?state=submitted")
    assert page.status_code == 200 and f'id="service-{sid}"' in page.text
    r = client.post(
        f"/programme/partners/services/{sid}/review", data={"csrf_token": csrf, "action": "reject", "note": ""}
    )
    assert r.status_code == 422 and 'id="error-note"' in r.text
    r = client.post(
        f"/programme/partners/services/{sid}/review",
        data={"csrf_token": csrf, "action": "approve", "note": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "导览服务" in client.get("/developers/catalogue").text


def test_the_developer_pages(client: TestClient, db: Database, world: Partners) -> None:
    csrf = factories.login(client, world.dev)
    page = client.get("/developers/keys")
    assert page.status_code == 200 and 'id="key-form"' in page.text
    r = client.post("/developers/keys", data={"csrf_token": csrf, "name": "小程序"})
    assert r.status_code == 422 and 'id="key-error"' in r.text
    r = client.post("/developers/keys", data={"csrf_token": csrf, "name": "小程序", "scopes": ["geo.read"]})
    assert r.status_code == 200 and 'id="key-token"' in r.text
    r = client.post(
        "/developers/services",
        data={"csrf_token": csrf, "name": "x", "summary": "y", "url": "javascript:1", "category": "travel"},
    )
    assert r.status_code == 422 and 'id="error-url"' in r.text and 'value="x"' in r.text
    r = client.post(
        "/developers/services",
        data={
            "csrf_token": csrf,
            "name": "导览",
            "summary": "导览服务",
            "url": "https://a.example.cn",
            "category": "travel",
            "uses": ["sta"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "导览服务" not in client.get("/developers/catalogue").text
    assert client.get("/programme/partners").status_code == 403


def test_a_developer_without_an_organisation_sees_a_notice(client: TestClient, db: Database, world: Partners) -> None:
    loner = factories.person(db, ["partner_developer"])
    factories.login(client, loner)
    page = client.get("/developers/keys")
    assert page.status_code == 200 and 'id="no-org"' in page.text


def test_no_raw_codes_on_the_pages(client: TestClient, db: Database, world: Partners) -> None:
    key_id, _ = issue(db, world, scopes=["geo.read", "village.tourism.read"])
    with db.unit_of_work() as s:
        partners_services.submit(
            s,
            actor=world.dev_actor(),
            org_id=world.org,
            data=ServiceIn(
                name="导览", summary="导览服务", url="https://a.example.cn", category="travel", uses=["sta"]
            ),
        )
    for path in ("/developers", "/developers/catalogue"):
        assert raw_marks(visible_text(client.get(path).text)) == [], path
    factories.login(client, world.office)
    for path in (
        "/programme/partners",
        f"/programme/partners/{world.org}",
        "/programme/partners/services",
        f"/programme/partners/keys/{key_id}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert raw_marks(visible_text(page.text)) == [], path
    client.cookies.clear()
    factories.login(client, world.dev)
    for path in ("/developers", "/developers/keys", f"/developers/keys/{key_id}", "/developers/services"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert raw_marks(visible_text(page.text)) == [], path
