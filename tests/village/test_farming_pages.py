"""The farming pages: the three-tap record form on a phone (bases, kinds, the prefilled form), a harvest
inside an interval re-rendered with the message beside the date and what was typed kept, the record page
with 开具合格证 and voiding, the list with its export, and the bureau's inputs pages."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from countyos.core.db import Database
from countyos.village.models.farming import FarmInput, FarmRecord
from countyos.village.service import farming_records as records
from tests import factories
from tests.village.farming_helpers import FarmWorld, actor, days_ago, farming_world_baseline, record, world

__all__ = ["farming_world_baseline", "world"]


def _csrf(client: TestClient, p: factories.Person) -> str:
    return factories.login(client, p)


def test_three_taps_and_a_refused_harvest(client: TestClient, db: Database, world: FarmWorld) -> None:
    with db.unit_of_work() as s:
        record(
            s,
            actor(world.farmer),
            base_id=world.greenhouse_id,
            kind="pesticide",
            product_code="tomato",
            input_id=world.inputs["imidacloprid_10wp"],
            dose=20,
            dose_unit="g/亩",
            used_on=days_ago(2),
        )
    csrf = _csrf(client, world.farmer)
    page = client.get("/village/records/new")
    assert page.status_code == 200 and "测试基地T-GH" in page.text and "测试基地T-OB" not in page.text
    kinds = client.get(f"/village/records/new?base={world.greenhouse_id}")
    assert 'data-kind="harvest"' in kinds.text and 'data-kind="vet_drug"' not in kinds.text
    spray = client.get(f"/village/records/new?base={world.greenhouse_id}&kind=pesticide")
    assert f'value="{records.today().isoformat()}"' in spray.text
    assert re.search(rf'<option value="{world.inputs["imidacloprid_10wp"]}" selected', spray.text)  # the last input
    harvest = client.get(f"/village/records/new?base={world.greenhouse_id}&kind=harvest")
    assert 'data-product="tomato" data-days="5"' in harvest.text  # inside 吡虫啉's interval
    assert 'data-product="pepper" data-days="0"' in harvest.text  # free
    future = client.post(
        f"/village/records/new?base={world.greenhouse_id}&kind=sowing",
        data={"csrf_token": csrf, "used_on": (records.today() + timedelta(days=1)).isoformat(), "area_mu": "2.5"},
    )
    assert future.status_code == 422 and 'id="error-used_on"' in future.text and 'value="2.5"' in future.text
    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(FarmRecord))
    r = client.post(
        f"/village/records/new?base={world.greenhouse_id}&kind=harvest",
        data={
            "csrf_token": csrf,
            "used_on": records.today().isoformat(),
            "product_code": "tomato",
            "quantity": "123.5",
            "unit": "kg",
            "note": "第一茬",
        },
    )
    assert r.status_code == 409
    error = r.text.split('id="error-used_on"')[1].split("</p>")[0]
    assert "吡虫啉" in error and days_ago(2).isoformat() in error and "5" in error
    assert 'value="123.5"' in r.text and "第一茬" in r.text
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(FarmRecord)) == before
    ok = client.post(
        f"/village/records/new?base={world.greenhouse_id}&kind=harvest",
        data={
            "csrf_token": csrf,
            "used_on": records.today().isoformat(),
            "product_code": "pepper",
            "quantity": "40",
            "unit": "kg",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    rec = client.get(ok.headers["location"])
    assert re.search(r'id="vf-certify" href="/village/batches/new\?record=\d+"', rec.text)
    void = client.post(ok.headers["location"] + "/void", data={"csrf_token": csrf, "reason": ""})
    assert void.status_code == 422 and "field-error" in void.text
    done = client.post(ok.headers["location"] + "/void", data={"csrf_token": csrf, "reason": "数量录错"})
    assert done.status_code == 200 and "vf-voided" in done.text and "vf-certify" not in done.text


def test_list_export_and_scope(client: TestClient, db: Database, world: FarmWorld) -> None:
    with db.unit_of_work() as s:
        record(
            s,
            actor(world.farmer),
            base_id=world.greenhouse_id,
            kind="sowing",
            product_code="tomato",
            used_on=days_ago(40),
            note="=1+1",
        )
    _csrf(client, world.farmer)
    page = client.get("/village/records")
    assert page.status_code == 200 and "测试基地T-GH" in page.text
    csv = client.get("/village/records?format=csv")
    assert csv.status_code == 200 and "'=1+1" in csv.content.decode("utf-8-sig")
    xlsx = client.get("/village/records?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    _csrf(client, world.other)
    assert "测试基地T-GH" not in client.get("/village/records").text
    with db.reading() as s:
        rid = s.scalar(select(FarmRecord.id).where(FarmRecord.base_id == world.greenhouse_id))
    assert client.get(f"/village/records/{rid}").status_code == 404
    _csrf(client, world.officer)
    page = client.get(f"/village/records?entity={world.farm_id}")
    assert "测试家庭农场" in page.text and "测试基地T-GH" in page.text


def test_inputs_pages(client: TestClient, db: Database, world: FarmWorld) -> None:
    csrf = _csrf(client, world.officer)
    page = client.get("/village/inputs")
    assert page.status_code == 200 and "吡虫啉" in page.text and "PD20040151" in page.text
    with db.reading() as s:
        iid = s.scalar(select(FarmInput.id).where(FarmInput.code == "matrine_03as"))
    form = client.get(f"/village/inputs/{iid}")
    assert 'name="iv_vegetable" value="10"' in form.text
    bad = client.post(
        f"/village/inputs/{iid}",
        data={"csrf_token": csrf, "version": "1", "name": "苦参碱", "iv_vegetable": "999", "active": "on"},
    )
    assert bad.status_code == 422 and 'value="999"' in bad.text
    ok = client.post(
        f"/village/inputs/{iid}",
        data={"csrf_token": csrf, "version": "1", "name": "苦参碱", "iv_vegetable": "12", "active": "on"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    with db.reading() as s:
        assert s.get(FarmInput, iid).intervals == {"vegetable": 12}  # type: ignore[union-attr]
    new = client.post(
        "/village/inputs/new",
        data={"csrf_token": csrf, "code": "bad code", "kind": "pesticide", "name": "x", "iv_tea_fresh": "3"},
    )
    assert new.status_code == 422 and 'name="iv_tea_fresh" value="3"' in new.text
    _csrf(client, world.farmer)
    assert client.get("/village/inputs").status_code == 403
