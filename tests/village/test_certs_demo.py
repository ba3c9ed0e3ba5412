"""The certs demo loads on a small world after the farming demo: a batch per harvest, tests with one
failed (its batch left without a certificate), certificates for the mandatory classes, GS1 codes for the
enterprise, one repack by the supermarket with the chain kept, views counted, one trace code printed that
opens."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.village import demo_certs, demo_farming
from countyos.village.models.certs import Batch, BatchTest, BatchView, Certificate, CheckResult, TraceScheme
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.service import certs, certs_codes
from tests.village.certs_helpers import build


def test_the_demo_batches_and_certificates(client: TestClient, db: Database) -> None:
    w = build(db)
    ctx = DemoContext()
    ctx.user_ids = {"farmer": w.farmer.id}
    with db.unit_of_work() as s:
        demo_farming.load(s, ctx)
    with db.unit_of_work() as s:
        demo_certs.load(s, ctx)
    with db.reading() as s:
        harvests = s.scalar(select(func.count()).select_from(FarmRecord).where(FarmRecord.kind == RecordKind.HARVEST))
        batches = list(s.scalars(select(Batch)))
        assert len([b for b in batches if b.parent_id is None]) == harvests > 0
        gs1 = [b for b in batches if b.trace_scheme == TraceScheme.GS1]
        assert gs1 and all(b.entity_id == w.company_id and certs_codes.gs1_valid(b.gtin or "") for b in gs1)
        assert all(certs_codes.mod37_36_valid(b.trace_code) for b in batches if b.trace_scheme == TraceScheme.COUNTY)
        failed = s.scalars(select(BatchTest).where(BatchTest.result == CheckResult.FAIL)).one()
        assert certs.current_certificate(s, failed.batch_id) is None
        missing = [b for b in batches if certs.certificate_required(b) and certs.current_certificate(s, b.id) is None]
        assert [b.id for b in missing] == [failed.batch_id]
        child = s.scalars(select(Batch).where(Batch.parent_id.is_not(None))).one()
        assert child.entity_id == w.shop_id
        re_issued = s.scalars(select(Certificate).where(Certificate.batch_id == child.id)).one()
        assert re_issued.parent_id is not None and re_issued.issuer_id == w.shop_id
        assert len({c.number for c in s.scalars(select(Certificate))}) == s.scalar(
            select(func.count()).select_from(Certificate)
        )
        assert s.scalar(select(func.sum(BatchView.views))) == s.scalar(select(func.sum(Batch.trace_views)))
    notes = [n for n in ctx.notes if n.startswith("Trace code: ")]
    assert len(notes) == 1
    path = notes[0].split(ctx.public_url, 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and 'id="trace-certificates"' in page.text and 'id="trace-records"' in page.text
