"""The farming API: records with the interval refusal as problem+json (writing nothing), voiding, the interval
check of a base, scope (a producer sees and writes only its own), inputs kept by the bureau."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from countyos.core.db import Database
from countyos.village.models.farming import FarmRecord
from countyos.village.service import farming_records as records
from tests import factories
from tests.village.farming_helpers import FarmWorld, days_ago, farming_world_baseline, world

__all__ = ["farming_world_baseline", "world"]
API = "/api/v1/village"


def _login(client: TestClient, p: factories.Person) -> dict[str, str]:
    return {"X-CSRF-Token": factories.login(client, p)}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


def _count(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(FarmRecord)) or 0)


def test_records_and_the_interval_refusal(client: TestClient, db: Database, world: FarmWorld) -> None:
    h = _login(client, world.farmer)
    d = days_ago(3)
    r = client.post(
        f"{API}/records",
        headers=h,
        json={
            "base_id": world.greenhouse_id,
            "kind": "pesticide",
            "product_code": "tomato",
            "input_id": world.inputs["lambda_cyhalothrin_25ec"],
            "dose": 20,
            "area_mu": 1.5,
            "used_on": d.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    spray = r.json()
    assert spray["input_name"] == "高效氯氟氰菊酯" and spray["registration_no"].startswith("PD")
    assert spray["interval_days"] == 7 and spray["allowed_from"] == (d + timedelta(7)).isoformat()
    before = _count(db)
    body = _problem(
        client.post(
            f"{API}/records",
            headers=h,
            json={
                "base_id": world.greenhouse_id,
                "kind": "harvest",
                "product_code": "tomato",
                "quantity": 80,
                "used_on": records.today().isoformat(),
            },
        ),
        409,
    )
    assert body["code"] == "inside_safety_interval" and body["input"] == "高效氯氟氰菊酯"
    assert body["used_on"] == d.isoformat() and body["days_remaining"] == 4
    assert _count(db) == before
    check = client.get(f"{API}/bases/{world.greenhouse_id}/interval", params={"product": "tomato"}, headers=h).json()
    assert check["allowed"] is False and check["block"]["days_remaining"] == 4
    later = (d + timedelta(7)).isoformat()
    check = client.get(
        f"{API}/bases/{world.greenhouse_id}/interval", params={"product": "tomato", "on": later}, headers=h
    ).json()
    assert check["allowed"] is True and check["block"] is None
    # void with a reason: kept, no longer blocks
    _problem(client.post(f"{API}/records/{spray['id']}/void", headers=h, json={"reason": ""}), 422)
    v = client.post(f"{API}/records/{spray['id']}/void", headers=h, json={"reason": "录错了日期"})
    assert v.status_code == 200 and v.json()["voided"] is True
    _problem(client.post(f"{API}/records/{spray['id']}/void", headers=h, json={"reason": "再次作废"}), 409)
    ok = client.post(
        f"{API}/records",
        headers=h,
        json={
            "base_id": world.greenhouse_id,
            "kind": "harvest",
            "product_code": "tomato",
            "quantity": 80,
            "used_on": records.today().isoformat(),
        },
    )
    assert ok.status_code == 201 and ok.json()["unit"] == "kg"
    listed = client.get(f"{API}/records", headers=h, params={"base": world.greenhouse_id}).json()
    assert listed["total"] == 2 and listed["items"][0]["kind"] == "harvest"
    assert client.get(f"{API}/records/{spray['id']}", headers=h).json()["void_reason"] == "录错了日期"


def test_refusals_are_problems_and_write_nothing(client: TestClient, db: Database, world: FarmWorld) -> None:
    h = _login(client, world.other)
    before = _count(db)
    _problem(
        client.post(
            f"{API}/records",
            headers=h,
            json={
                "base_id": world.greenhouse_id,
                "kind": "sowing",
                "product_code": "tomato",
                "used_on": records.today().isoformat(),
            },
        ),
        404,
    )
    _problem(
        client.post(
            f"{API}/records",
            headers=h,
            json={
                "base_id": world.other_base_id,
                "kind": "sowing",
                "product_code": "tomato",
                "used_on": (records.today() + timedelta(1)).isoformat(),
            },
        ),
        422,
    )
    _problem(
        client.post(
            f"{API}/records",
            headers=h,
            json={
                "base_id": world.other_base_id,
                "kind": "harvest",
                "product_code": "tomato",
                "used_on": records.today().isoformat(),
            },
        ),
        422,
    )
    assert _count(db) == before
    _problem(client.get(f"{API}/bases/{world.greenhouse_id}/interval", params={"product": "tomato"}, headers=h), 404)
    _problem(client.get(f"{API}/records", headers=h, params={"from": "2020-01-01", "to": "2024-01-01"}), 422)
    _problem(client.get(f"{API}/records", headers=h, params={"limit": 500}), 422)
    # the other producer sees none of the farm's records; a buyer none at all
    assert client.get(f"{API}/records", headers=h, params={"entity": world.farm_id}).json()["total"] == 0
    buyer = factories.person(db, ["buyer"])
    assert client.get(f"{API}/records", headers=_login(client, buyer)).json()["total"] == 0


def test_bureau_sees_all_and_keeps_the_inputs(client: TestClient, db: Database, world: FarmWorld) -> None:
    hf = _login(client, world.farmer)
    client.post(
        f"{API}/records",
        headers=hf,
        json={
            "base_id": world.greenhouse_id,
            "kind": "sowing",
            "product_code": "tomato",
            "used_on": days_ago(30).isoformat(),
        },
    )
    _problem(client.post(f"{API}/inputs", headers=hf, json={"code": "x_1", "kind": "pesticide", "name": "x"}), 403)
    h = _login(client, world.officer)
    assert client.get(f"{API}/records", headers=h).json()["total"] >= 1
    inputs = client.get(f"{API}/inputs", headers=h).json()
    assert any(i["name"] == "苦参碱" and i["organic_allowed"] for i in inputs)
    r = client.post(
        f"{API}/inputs",
        headers=h,
        json={
            "code": "spinosad_25sc",
            "kind": "pesticide",
            "name": "乙基多杀菌素",
            "registration_no": "PD20141234",
            "intervals": {"vegetable": 3},
        },
    )
    assert r.status_code == 201, r.text
    new = r.json()
    _problem(
        client.post(
            f"{API}/inputs",
            headers=h,
            json={"code": "x_2", "kind": "pesticide", "name": "x", "intervals": {"nothing": 3}},
        ),
        422,
    )
    ch = client.patch(f"{API}/inputs/{new['id']}", headers=h, json={"version": 1, "intervals": {"vegetable": 5}})
    assert ch.status_code == 200 and ch.json()["intervals"] == {"vegetable": 5} and ch.json()["version"] == 2
    _problem(client.patch(f"{API}/inputs/{new['id']}", headers=h, json={"version": 1, "active": False}), 409)
    gone = client.patch(f"{API}/inputs/{new['id']}", headers=h, json={"version": 2, "active": False}).json()
    assert gone["active"] is False
    # a retired input cannot be recorded
    hf = _login(client, world.farmer)
    _problem(
        client.post(
            f"{API}/records",
            headers=hf,
            json={
                "base_id": world.greenhouse_id,
                "kind": "pesticide",
                "product_code": "tomato",
                "input_id": new["id"],
                "used_on": records.today().isoformat(),
            },
        ),
        422,
    )
