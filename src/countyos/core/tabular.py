"""Tables to CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX, for every export.

Every cell goes through :func:`cell`: text that a spreadsheet would take as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return — a user name, a case title, a device name
typed by anyone) gets a leading ``'`` and stays text, so ``=HYPERLINK(…)`` in a failed login's user
name cannot become a live link in the auditor's workbook (CSV injection, OWASP). Numbers, dates and
empty cells keep their type: a negative number is a number. Characters XML 1.0 forbids (control
characters) are dropped from XLSX text, where they would make the whole export fail.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral_text(text: str) -> str:
    """``text`` as a spreadsheet shows it literally: a leading ``'`` when it starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> Any:
    """A value as an export writes it (CSV and XLSX alike): text that could run as a formula made
    literal, dates without zone, numbers and other types unchanged."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list)):
        value = str(value)
    if isinstance(value, str):
        return neutral_text(str(value))  # str(): an enum member is written as its value
    return value


def _xlsx_cell(value: Any) -> Any:
    value = cell(value)
    if isinstance(value, str):
        return neutral_text(ILLEGAL_CHARACTERS_RE.sub("", value))  # dropping one may expose a formula start
    return value


def append_row(ws: Worksheet, row: Iterable[Any]) -> None:
    """Append ``row`` to a worksheet built elsewhere (a report), every cell neutralised as above."""
    ws.append([_xlsx_cell(v) for v in row])


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([cell(h) for h in headers])
    for row in rows:
        w.writerow(["" if v is None else cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode()


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1") -> bytes:
    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31]
    append_row(ws, headers)
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        append_row(ws, row)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
