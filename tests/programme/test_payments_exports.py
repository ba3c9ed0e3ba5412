"""The assessment and payment table as Excel (every cell neutralised) and PDF."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import update

from countyos.programme.models.projects import Organisation
from tests.factories import login
from tests.programme.payments_helpers import World, pay_world

__all__ = ["pay_world"]


def test_excel_neutralises_formulas_and_lists_the_periods(client, db, pay_world: World) -> None:
    with db.unit_of_work() as s:
        s.execute(update(Organisation).values(name='=HYPERLINK("http://evil","x")'))
    login(client, pay_world.office)
    for url in ("/programme/payments.xlsx", "/api/v1/programme/payments.xlsx"):
        r = client.get(url, params={"contract": pay_world.contract_id})
        assert r.status_code == 200 and r.content[:2] == b"PK"
        wb = load_workbook(io.BytesIO(r.content))
        cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert '\'=HYPERLINK("http://evil","x")' in cells
        assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
        assert 1_000_000 - 20_000 in cells or 98_000.0 in cells  # the locked month's payable in yuan


def test_pdf_starts_with_pdf(client, db, pay_world: World) -> None:
    login(client, pay_world.finance)
    r = client.get("/programme/payments.pdf", params={"contract": pay_world.contract_id})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = client.get("/api/v1/programme/payments.pdf", params={"year": 2026})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
