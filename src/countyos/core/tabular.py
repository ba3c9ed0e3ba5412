"""Tables to CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX, for every export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list)):
        return str(value)
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for row in rows:
        w.writerow(["" if v is None else _cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode()


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1") -> bytes:
    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31]
    ws.append(list(headers))
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
