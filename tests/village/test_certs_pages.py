"""The certs pages: a producer makes a batch on the phone form (refused inside a safety interval with the
message beside the date and the input kept), issues the certificate in one tap and reaches the print
button; the bureau's list, export and register; a buyer repacks from a trace code; the public trace page
as an anonymous visitor (no phone, no ID number, no personal name of a 农户; a revoked certificate shown
revoked) and the friendly page for an unknown code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from countyos.core.db import Database
from countyos.village.models.certs import Batch
from countyos.village.service import certs
from tests import factories
from tests.village.certs_helpers import (
    FARMER_ID,
    FARMER_NAME,
    FARMER_PHONE,
    LEGAL_PERSON,
    CertWorld,
    build,
    spray,
)


@pytest.fixture
def w(db: Database) -> CertWorld:
    return build(db)


def _csrf(client: TestClient, p: factories.Person) -> str:
    return factories.login(client, p)


def test_producer_makes_a_batch_is_refused_inside_the_interval_and_prints(client: TestClient, db: Database, w) -> None:
    today = certs.today()
    spray(db, entity_id=w.farm_id, base_id=w.greenhouse_id, on=today - timedelta(days=2), days=7)
    csrf = _csrf(client, w.farmer)
    page = client.get("/village/batches/new")
    assert page.status_code == 200 and 'id="batch-form"' in page.text
    form = {"csrf_token": csrf, "entity_id": str(w.farm_id), "base_id": str(w.greenhouse_id), "product_code": "cabbage",
            "quantity": "88", "harvest_date": today.isoformat(), "batch_no": ""}  # fmt: skip
    r = client.post("/village/batches/new", data=form)
    assert r.status_code == 409
    assert 'id="error-harvest_date"' in r.text and "吡虫啉" in r.text
    assert 'value="88"' in r.text  # the input is kept
    # another base without spraying
    r = client.post("/village/batches/new", data={**form, "base_id": str(w.pen_id), "product_code": "pig"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    batch_url = r.headers["location"]
    page = client.get(batch_url)
    assert page.status_code == 200 and 'id="certificate-form"' in page.text and 'id="batch-qr"' in page.text
    assert client.get(batch_url + "/qr.png").headers["content-type"] == "image/png"
    r = client.post(batch_url + "/certificates", data={"csrf_token": csrf, "basis": "control"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/village/certificates/")
    page = client.get(r.headers["location"])
    assert 'id="cert-print"' in page.text
    pdf_url = re.search(r'href="(/api/v1/village/certificates/\d+\.pdf)" id="cert-print"', page.text)
    assert pdf_url and client.get(pdf_url.group(1)).content.startswith(b"%PDF")
    assert client.get("/village/batches").status_code == 200


def test_bureau_list_export_and_register(client: TestClient, db: Database, w) -> None:
    from sqlalchemy import select

    from countyos.village.models.producers import Entity

    csrf = _csrf(client, w.farmer)
    client.post("/village/batches/new", data={"csrf_token": csrf, "entity_id": str(w.farm_id),
                "base_id": str(w.greenhouse_id), "product_code": "kiwi", "quantity": "12",
                "harvest_date": certs.today().isoformat()})  # fmt: skip
    client.cookies.clear()
    _csrf(client, w.officer)
    page = client.get("/village/batches?product_class=fruit")
    assert page.status_code == 200 and "猕猴桃" in page.text and 'id="batches-missing"' in page.text
    x = client.get("/village/batches/export?product_class=fruit&format=csv")
    assert x.status_code == 200 and "猕猴桃" in x.content.decode("utf-8-sig")
    assert client.get("/village/batches/export").headers["content-type"].startswith("application/vnd.openxml")
    reg = client.get("/village/certificates")
    assert reg.status_code == 200 and 'id="register-counts"' in reg.text
    with db.reading() as s:
        assert s.scalars(select(Entity)).first() is not None


def test_public_trace_page_and_buyer_repack(client: TestClient, db: Database, w) -> None:
    today = certs.today()
    spray(db, entity_id=w.farm_id, base_id=w.greenhouse_id, on=today - timedelta(days=40), days=7)
    csrf = _csrf(client, w.farmer)
    r = client.post("/village/batches/new", data={"csrf_token": csrf, "entity_id": str(w.farm_id),
                    "base_id": str(w.greenhouse_id), "product_code": "tomato", "quantity": "100",
                    "harvest_date": today.isoformat()}, follow_redirects=False)  # fmt: skip
    batch_id = int(r.headers["location"].rsplit("/", 1)[1])
    client.post(f"/village/batches/{batch_id}/certificates", data={"csrf_token": csrf, "basis": "control"})
    with db.reading() as s:
        code = s.get(Batch, batch_id).trace_code
    client.cookies.clear()
    csrf = _csrf(client, w.buyer)
    r = client.post("/village/repack", data={"csrf_token": csrf, "code": code, "quantity": "500"})
    assert r.status_code == 422 and 'id="error-quantity"' in r.text
    r = client.post("/village/repack", data={"csrf_token": csrf, "code": "NOPE", "quantity": "5"})
    assert r.status_code == 404 and 'id="error-code"' in r.text
    r = client.post("/village/repack", data={"csrf_token": csrf, "code": code, "quantity": "30"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    cert_page = client.get(r.headers["location"])
    assert 'id="cert-parent"' in cert_page.text
    r = client.post(r.headers["location"] + "/revoke", data={"csrf_token": csrf, "reason": "数量填错"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    client.cookies.clear()
    page = client.get(f"/t/{code}")
    assert page.status_code == 200
    html = page.text
    assert 'id="trace-producer"' in html and "叶**" in html and "大田村" in html
    assert 'id="trace-map"' in html and "吡虫啉" in html and "数量填错" not in html  # the child's revocation
    for secret in (FARMER_NAME, FARMER_PHONE, FARMER_ID, LEGAL_PERSON, f"测试{w.farmer.username}"):
        assert secret not in html, secret
    assert "<script" not in html
    with db.reading() as s:
        from sqlalchemy import select

        child = s.scalars(select(Batch).where(Batch.parent_id == batch_id)).one()
        child_code = child.trace_code
    child_page = client.get(f"/t/{child_code}").text
    assert "数量填错" in child_page and 'id="trace-chain"' in child_page and "测试生鲜超市" in child_page
    assert client.head(f"/t/{code}").status_code == 200
    missing = client.get("/t/ABC123")
    assert missing.status_code == 404 and 'id="trace-missing"' in missing.text


def test_a_batch_from_a_harvest_record(client: TestClient, db: Database, w) -> None:
    from sqlalchemy import select

    from countyos.village.models.farming import FarmRecord, RecordKind

    day = certs.today() - timedelta(days=1)
    with db.unit_of_work() as s:
        rec = FarmRecord(entity_id=w.farm_id, base_id=w.greenhouse_id, kind=RecordKind.HARVEST, product_code="kiwi",
                         quantity=64.5, unit="kg", used_on=day, created_by="test")  # fmt: skip
        s.add(rec)
        s.flush()
        record_id = rec.id
    csrf = _csrf(client, w.farmer)
    page = client.get(f"/village/batches/new?record={record_id}")
    assert 'id="batch-from-record"' in page.text and 'value="64.5"' in page.text and day.isoformat() in page.text
    r = client.post("/village/batches/new", data={"csrf_token": csrf, "record_id": str(record_id)},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    with db.reading() as s:
        b = s.scalars(select(Batch).where(Batch.source_record_id == record_id)).one()
        assert (b.product_code, b.quantity, b.harvest_date, b.base_id) == ("kiwi", 64.5, day, w.greenhouse_id)
