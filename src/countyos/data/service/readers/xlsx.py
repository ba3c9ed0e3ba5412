"""An Excel workbook's first sheet, streamed (read-only openpyxl), its cells as the text a person reads."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from countyos.core.i18n import N_
from countyos.data.service.readers.base import CHINA, MAX_XLSX_MEMBERS, FileRefused, ReadFile, Records, check_zip
from countyos.data.service.readers.tabular import _reading_refused, _tabular

# --- XLSX --------------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    """A spreadsheet's or DBF's typed cell as the text a person reads in it."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        text: str = value
        return text.strip() or None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if kind is datetime:
        moment: datetime = value if value.tzinfo is None else value.astimezone(CHINA).replace(tzinfo=None)
        return moment.date().isoformat() if moment.time() == time() else moment.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip() or None


def _open_xlsx(path: Path, max_columns: int) -> ReadFile:
    check_zip(path, max_members=MAX_XLSX_MEMBERS)
    from openpyxl import load_workbook

    def records() -> Records:
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
            raise _reading_refused(exc) from exc
        try:
            if not book.worksheets:
                raise FileRefused(N_("The workbook has no worksheet"))
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # the stored dimensions may be wrong; read every cell there is
            for row in sheet.iter_rows(values_only=True):
                yield [_cell_text(v) for v in row]
        except FileRefused:
            raise
        except Exception as exc:
            raise _reading_refused(exc) from exc
        finally:
            book.close()

    return _tabular("xlsx", records, max_columns)
