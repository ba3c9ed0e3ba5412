"""Batches, tests, 承诺达标合格证 and the public trace over HTTP: a batch inside a safety interval refused (409),
GS1 and county trace codes, certificates with every element for each of the six mandatory classes (read
from the PDF), a failed test blocking a test-based promise, the repack chain, a revoked certificate shown
revoked, the trace JSON without personal data, and views counted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from countyos.core.db import Database
from countyos.core.i18n import N_, gettext, use_locale
from countyos.village.models.certs import BatchView
from countyos.village.service import certs, certs_codes
from tests.village.certs_helpers import (
    API,
    COMPANY_PHONE,
    FARMER_ID,
    FARMER_NAME,
    FARMER_PHONE,
    GS1_PREFIX,
    LEGAL_PERSON,
    CertWorld,
    build,
    login,
    pdf_text,
    spray,
)


@pytest.fixture
def w(db: Database) -> CertWorld:
    return build(db)


def _batch(client: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post(f"{API}/batches", headers=h, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _today() -> date:
    return certs.today()


def test_a_batch_inside_the_safety_interval_is_refused_and_allowed_after(client: TestClient, db: Database, w) -> None:
    h = login(client, w.farmer)
    spray(db, entity_id=w.farm_id, base_id=w.greenhouse_id, on=_today() - timedelta(days=13), days=14)
    body = {"base_id": w.greenhouse_id, "product_code": "tomato", "quantity": 120, "harvest_date": str(_today())}
    r = client.post(f"{API}/batches", headers=h, json=body)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "inside_safety_interval"
    assert problem["days_remaining"] == 1 and problem["input"] == "吡虫啉"
    # the first allowed day (the spraying a day earlier) is accepted
    with db.unit_of_work() as s:  # move the spraying back so that "today" is the first allowed day
        from countyos.village.models.farming import FarmRecord

        rec = s.scalars(select(FarmRecord).where(FarmRecord.base_id == w.greenhouse_id)).one()
        rec.used_on = _today() - timedelta(days=14)
    b = _batch(client, h, **body)
    assert b["batch_no"] == f"{_today():%Y%m%d}-001"
    assert b["trace_scheme"] == "county" and certs_codes.mod37_36_valid(b["trace_code"])
    assert b["certificate_required"] is True and b["class_label"]


def test_base_of_another_producer_and_future_dates_are_refused(client: TestClient, w) -> None:
    h = login(client, w.farmer)
    r = client.post(f"{API}/batches", headers=h, json={"base_id": w.tea_id, "product_code": "tea_fresh",
                                                          "quantity": 5, "harvest_date": str(_today())})  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "base_id"
    r = client.post(f"{API}/batches", headers=h, json={"base_id": w.greenhouse_id, "product_code": "tomato",
                    "quantity": 5, "harvest_date": str(_today() + timedelta(days=2))})  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "harvest_date"


def test_gs1_trace_code_and_its_two_forms(client: TestClient, w) -> None:
    h = login(client, w.company_user)
    b = _batch(client, h, base_id=w.tea_id, product_code="tea_fresh", quantity=50, harvest_date=str(_today()),
               batch_no="TEA-A1")  # fmt: skip
    code = b["trace_code"]
    gtin14 = code[2:16]
    assert code.startswith("01") and code[16:18] == "11" and code[24:26] == "10" and code.endswith("TEA-A1")
    assert gtin14.startswith("0" + GS1_PREFIX) and certs_codes.gs1_valid(gtin14)
    assert code[18:24] == f"{_today():%y%m%d}"
    assert b["trace_code_human"] == f"(01){gtin14}(11){_today():%y%m%d}(10)TEA-A1"
    # the same product keeps its GTIN; /trace accepts both forms
    b2 = _batch(client, h, base_id=w.tea_id, product_code="tea_fresh", quantity=10, harvest_date=str(_today()))
    assert b2["trace_code"][2:16] == gtin14
    for form in (code, b["trace_code_human"], b["trace_code_human"].replace("(", "%28").replace(")", "%29")):
        assert client.get(f"{API}/trace/{form}").status_code == 200, form
    assert client.get(f"{API}/trace/NOPE-123").status_code == 404


SIX = [("cabbage", "greenhouse"), ("kiwi", "greenhouse"), ("tea_fresh", "tea"), ("pig", "pen"),
       ("egg", "greenhouse"), ("paddy_fish", "greenhouse")]  # fmt: skip


@pytest.mark.parametrize(("product", "base"), SIX)
def test_certificate_elements_for_each_mandatory_class(client: TestClient, w, product: str, base: str) -> None:
    user = w.company_user if base == "tea" else w.farmer
    base_id = {"greenhouse": w.greenhouse_id, "pen": w.pen_id, "tea": w.tea_id}[base]
    h = login(client, user)
    b = _batch(client, h, base_id=base_id, product_code=product, quantity=30, harvest_date=str(_today()))
    assert b["certificate_required"] is True
    t = client.post(f"{API}/batches/{b['id']}/tests", headers=h, json={
        "institution": "大柘镇农产品质量安全快检室", "method": "rapid", "mode": "self", "standard": "NY/T 448-2001",
        "items": [{"item": "有机磷和氨基甲酸酯类农药", "result": "抑制率 12%", "limit": "<50%"}], "result": "pass",
        "report_no": f"KJ-{product}", "tested_on": str(_today())})  # fmt: skip
    assert t.status_code == 201, t.text
    r = client.post(f"{API}/batches/{b['id']}/certificates", headers=h, json={"basis": "self_test"})
    assert r.status_code == 201, r.text
    c = r.json()
    county = c["number"][:6]
    assert c["number"] == f"{county}{_today().year}{c['number'][-6:]}" and len(c["number"]) == 16
    text = pdf_text(client.get(c["pdf_url"], headers=h).content)
    phone = COMPANY_PHONE if base == "tea" else FARMER_PHONE
    with use_locale("zh_CN"):
        title = gettext(N_("Certificate of commitment to meeting standards"))
    promise = ("不使用禁用农药兽药、停用兽药和非法添加物", "常规农药兽药残留不超标", "对承诺的真实性负责")
    for element in (title, c["number"], c["product_name"], "30", c["unit_label"], c["producer_name"],
                    c["origin"], phone, _today().isoformat(), c["basis_label"], f"KJ-{product}", *promise):  # fmt: skip
        assert element in text.replace("\n", ""), (element, text)
    # a second certificate of the same batch waits for a revocation
    assert client.post(f"{API}/batches/{b['id']}/certificates", headers=h, json={}).status_code == 409


def test_a_failed_test_blocks_the_promise_based_on_it(client: TestClient, w) -> None:
    h = login(client, w.farmer)
    b = _batch(client, h, base_id=w.greenhouse_id, product_code="cabbage", quantity=80, harvest_date=str(_today()))
    r = client.post(f"{API}/batches/{b['id']}/certificates", headers=h, json={"basis": "entrusted_test"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "basis"
    t = client.post(f"{API}/batches/{b['id']}/tests", headers=h, json={
        "institution": "县农产品质量检测中心", "method": "quantitative", "mode": "entrusted",
        "standard": "GB 2763-2021",
        "items": [{"item": "毒死蜱", "result": "0.12 mg/kg", "limit": "≤0.1 mg/kg"}], "result": "fail",
        "report_no": "WT-2026-0099", "tested_on": str(_today())})  # fmt: skip
    assert t.status_code == 201
    r = client.post(f"{API}/batches/{b['id']}/certificates", headers=h, json={"basis": "entrusted_test"})
    assert r.status_code == 409 and "WT-2026-0099" in r.json()["detail"]
    r = client.post(f"{API}/batches/{b['id']}/certificates", headers=h,
                    json={"basis": "entrusted_test", "test_id": t.json()["id"]})  # fmt: skip
    assert r.status_code == 409


def test_repack_chain_revocation_and_the_public_trace(client: TestClient, db: Database, w) -> None:
    h = login(client, w.farmer)
    spray(db, entity_id=w.farm_id, base_id=w.greenhouse_id, on=_today() - timedelta(days=30), days=7)
    b = _batch(client, h, base_id=w.greenhouse_id, product_code="tomato", quantity=100, harvest_date=str(_today()))
    original = client.post(f"{API}/batches/{b['id']}/certificates", headers=h, json={}).json()
    client.cookies.clear()
    hb = login(client, w.buyer)
    assert client.post(f"{API}/batches/{b['id']}/repack", headers=hb, json={"quantity": 120}).status_code == 422
    r = client.post(f"{API}/batches/{b['id']}/repack", headers=hb, json={"quantity": 40, "batch_no": "RP-1"})
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["parent_id"] == b["id"] and child["entity_id"] == w.shop_id and child["quantity"] == 40
    re_issued = child["certificates"][0]
    assert re_issued["parent_id"] == original["id"] and re_issued["producer_name"] == "测试生鲜超市"
    assert re_issued["origin"] == original["origin"] == "大田村"
    assert client.post(f"{API}/batches/{b['id']}/repack", headers=hb, json={"quantity": 61}).status_code == 422
    # the buyer's own certificate is revoked with a reason
    r = client.post(f"{API}/certificates/{re_issued['id']}/revoke", headers=hb, json={"reason": "标签打印错误"})
    assert r.status_code == 200 and r.json()["revoked"] is True
    client.cookies.clear()
    trace = client.get(f"{API}/trace/{child['trace_code']}")
    assert trace.status_code == 200
    t = trace.json()
    assert [s["holder_name"] for s in t["chain"]] == ["叶**", "测试生鲜超市"]
    assert t["producer"]["village"] == "大田村" and t["base"]["area_mu"] == 30.0
    numbers = {c["number"]: c for c in t["certificates"]}
    assert numbers[re_issued["number"]]["revoked"] is True
    assert numbers[re_issued["number"]]["revoked_reason"] == "标签打印错误"
    assert numbers[re_issued["number"]]["repack_of"] == original["number"]
    assert numbers[original["number"]]["revoked"] is False
    assert t["records"] and t["records"][0]["input_name"] == "吡虫啉"
    raw = trace.text
    for secret in (FARMER_NAME, FARMER_PHONE, FARMER_ID, "13912345678"[-4:] + '"', LEGAL_PERSON, w.farmer.username):
        assert secret not in raw, secret


def test_views_are_counted_per_batch_and_day(client: TestClient, db: Database, w) -> None:
    h = login(client, w.farmer)
    b = _batch(client, h, base_id=w.greenhouse_id, product_code="rice", quantity=500, harvest_date=str(_today()))
    assert b["certificate_required"] is False
    client.cookies.clear()
    for _ in range(3):
        assert client.get(f"{API}/trace/{b['trace_code']}").status_code == 200
    assert client.get(f"/t/{b['trace_code']}").status_code == 200
    t = client.get(f"{API}/trace/{b['trace_code'].lower()}").json()
    assert t["views"] == 5 and t["views_today"] == 5
    with db.reading() as s:
        rows = list(s.scalars(select(BatchView).where(BatchView.batch_id == b["id"])))
        assert [(r.day, r.views) for r in rows] == [(_today(), 5)]


def test_scope_other_producers_batches_are_not_found(client: TestClient, w) -> None:
    h = login(client, w.company_user)
    b = _batch(client, h, base_id=w.tea_id, product_code="tea_fresh", quantity=5, harvest_date=str(_today()))
    client.cookies.clear()
    hf = login(client, w.farmer)
    assert client.get(f"{API}/batches/{b['id']}", headers=hf).status_code == 404
    assert all(x["entity_id"] == w.farm_id for x in client.get(f"{API}/batches", headers=hf).json())
    assert client.post(f"{API}/batches/{b['id']}/certificates", headers=hf, json={}).status_code == 404
    client.cookies.clear()
    ho = login(client, w.officer)
    assert client.get(f"{API}/batches/{b['id']}", headers=ho).status_code == 200
    assert client.post(f"{API}/batches", headers=ho, json={}).status_code == 403
