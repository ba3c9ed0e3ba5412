"""经营主体 and 基地 through the API: check characters of credit codes and ID numbers, masked personal fields
and no decrypted value in the audit log, a producer sees and writes only their own entity, the bureau all."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from countyos.core.db import Database
from countyos.org.models import AuditEvent
from countyos.village.models.producers import Entity
from countyos.village.service import producers
from tests import factories
from tests.harness import Baseline, Harness
from tests.village.producers_helpers import (
    BASELINE,
    VILLAGE,
    ProducerWorld,
    make_id,
    make_uscc,
    square,
)

API = "/api/v1/village"


@pytest.fixture(scope="session")
def producers_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, producers_world_baseline: Baseline) -> ProducerWorld:
    w: ProducerWorld = harness.value(producers_world_baseline, db=db)
    return w


def _body(**kw: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "cooperative",
        "name": "云峰茶叶专业合作社",
        "id_kind": "uscc",
        "uscc": make_uscc("93331123MA2E1234K"),
        "village_code": VILLAGE,
        "phone": "13712345678",
    }
    data.update(kw)
    return data


def test_a_credit_code_with_a_wrong_check_character_is_refused(client, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.officer)
    good = make_uscc("93331123MA2E1234K")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = client.post(f"{API}/entities", json=_body(uscc=bad), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["uscc"]
    r = client.post(f"{API}/entities", json=_body(uscc=good), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert r.json()["uscc"] == good and r.json()["village_name"]
    again = client.post(f"{API}/entities", json=_body(name="另一个", uscc=good), headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "uscc"


def test_an_id_number_is_checked_kept_encrypted_and_shown_masked(client, db: Database, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.officer)
    number = make_id("33112319820704301")
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    body = _body(kind="farmer", name="叶根旺", id_kind="resident", uscc=None, id_number=wrong, phone="13955556666")
    r = client.post(f"{API}/entities", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id_number"
    body["id_number"] = number
    r = client.post(f"{API}/entities", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["id_number_masked"] == number[:6] + "********" + number[-4:]
    assert out["phone_masked"] == "139****6666"
    assert number not in r.text and "13955556666" not in r.text
    dup = client.post(f"{API}/entities", json={**body, "name": "重复"}, headers={"X-CSRF-Token": csrf})
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "id_number"
    page = client.get(f"/village/producers/{out['id']}")
    assert page.status_code == 200
    assert number not in page.text and "13955556666" not in page.text and out["id_number_masked"] in page.text
    with db.unit_of_work() as s:
        e = s.get(Entity, out["id"])
        assert e is not None and e.id_number_enc and number not in e.id_number_enc
        assert producers.reveal_id_number(e) == number
        details = [json.dumps(a.detail, ensure_ascii=False) for a in s.scalars(select(AuditEvent))]
    assert details and not any(number in d or "13955556666" in d or "6666" in d for d in details)


def test_a_producer_sees_and_writes_only_their_own(client, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.farmer)
    mine = client.get(f"{API}/entities")
    assert mine.status_code == 200
    assert [e["id"] for e in mine.json()["items"]] == [world.farm_id]
    assert client.get(f"{API}/entities/{world.other_id}").status_code == 404
    r = client.patch(f"{API}/entities/{world.other_id}", json=_body(), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404
    assert client.get(f"/village/producers/{world.other_id}").status_code == 404
    own = client.get(f"{API}/entities/{world.farm_id}").json()
    assert own["phone_masked"].startswith("139") and "*" in own["phone_masked"]
    body = {k: own[k] for k in ("kind", "subject_code_type", "id_kind", "uscc", "village_code")}
    r = client.patch(
        f"{API}/entities/{world.farm_id}", json={**body, "name": "叶家生态家庭农场"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "叶家生态家庭农场" and r.json()["phone_masked"] == own["phone_masked"]
    r = client.post(f"{API}/entities", json=_body(), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403  # registering is the bureau's
    r = client.post(
        f"{API}/entities/{world.farm_id}/members", json={"user_id": world.other.id}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 403
    bases = client.get(f"{API}/bases").json()
    assert [f["id"] for f in bases["features"]] == [world.base_id]
    other_base = client.post(
        f"{API}/bases",
        json={
            "entity_id": world.other_id,
            "name": "别人的地",
            "facility": "open_field",
            "geometry": square(world.lon, world.lat).__geo_interface__,
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert other_base.status_code == 404


def test_the_bureau_binds_people_and_the_leader_reads_all(client, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.officer)
    r = client.post(
        f"{API}/entities/{world.other_id}/members", json={"user_id": world.farmer.id}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 201, r.text
    assert world.farmer.id in [m["user_id"] for m in r.json()]
    r = client.delete(f"{API}/entities/{world.other_id}/members/{world.farmer.id}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    client.cookies.clear()
    csrf = factories.login(client, world.leader)
    listed = client.get(f"{API}/entities?group=producer").json()
    assert listed["total"] == 2
    r = client.patch(f"{API}/entities/{world.farm_id}", json=_body(), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404  # reading is not writing


def test_certifications_show_expiry(client, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.officer)
    for number, to in (("LB-1", "2020-12-31"), ("LB-2", "2099-12-31")):
        r = client.post(
            f"{API}/entities/{world.farm_id}/certifications",
            json={"kind": "green", "number": number, "issuer": "中国绿色食品发展中心",
                  "product_codes": ["tomato"], "valid_from": "2019-01-01", "valid_to": to},
            headers={"X-CSRF-Token": csrf},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    certs = {c["number"]: c["expired"] for c in client.get(f"{API}/entities/{world.farm_id}/certifications").json()}
    assert certs == {"LB-1": True, "LB-2": False}
    page = client.get(f"/village/producers/{world.farm_id}")
    assert "已过期" in page.text or "Expired" in page.text
    bad = client.post(
        f"{API}/entities/{world.farm_id}/certifications",
        json={"kind": "organic", "number": "X", "issuer": "某认证机构", "product_codes": ["no_such"],
              "valid_from": "2025-01-01", "valid_to": "2026-01-01"},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert bad.status_code == 422


def test_a_producer_cannot_change_what_the_register_holds(client, world: ProducerWorld) -> None:
    csrf = factories.login(client, world.farmer)
    own = client.get(f"{API}/entities/{world.farm_id}").json()
    body = {k: own[k] for k in ("kind", "name", "subject_code_type", "id_kind", "uscc", "village_code")}
    for change in ({"kind": "cooperative"}, {"uscc": make_uscc("92331123MA2E0000B")}, {"active": False}):
        r = client.patch(f"{API}/entities/{world.farm_id}", json={**body, **change}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == next(iter(change)), r.text
