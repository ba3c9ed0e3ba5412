"""Tables to CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX, for every export; and
workbooks with Chinese headers read back (:func:`read_sheets`) for every import.

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
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from countyos.core import errors
from countyos.core.i18n import N_, gettext

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


def header_sheet(wb: Workbook, title: str, headers: Sequence[str], *, first: bool = False) -> Worksheet:
    """A sheet of WB (its first one when FIRST) titled TITLE with a bold, frozen header row."""
    ws = wb.active if first else wb.create_sheet()
    assert ws is not None
    ws.title = title
    append_row(ws, headers)
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.freeze_panes = "A2"
    return ws


# -- reading workbooks back -----------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A read cell as the text a person typed: whole numbers without ``.0``, and the ``'`` our own
    exports put before a formula-like text taken off again."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@") else text


@dataclass
class Sheet:
    """A sheet with a recognised header row: header → column index, and the rows below it."""

    title: str
    columns: dict[str, int]
    rows: list[tuple[int, tuple[Any, ...]]]  # (row number in the sheet, values)

    def get(self, values: tuple[Any, ...], header: str) -> str:
        i = self.columns.get(header)
        return cell_text(values[i]) if i is not None and i < len(values) else ""


class CellError(ValueError):
    """A cell that cannot be read: the message id and its parameters, said in the import's report."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params


@dataclass
class Problem:
    """One thing wrong in an imported workbook: where (sheet, row, column) and what."""

    sheet: str
    row: int
    column: str | None
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return gettext(self.message_id, **self.params)


def refusal(problems: Sequence[Problem], most: int = 500) -> errors.ValidationFailed:
    """The 422 of an import with bad rows (nothing imported): each problem as a field error with its
    sheet and row, the first MOST of them."""
    return errors.ValidationFailed(
        N_("The file has bad rows; nothing was imported"),
        errors=[
            {"field": p.column or "", "sheet": p.sheet, "row": p.row, "message": p.message} for p in problems[:most]
        ],
    )


@dataclass(frozen=True)
class SheetLimits:
    file_bytes: int = 20_000_000
    unpacked_bytes: int = 400_000_000  # the sheets' XML, unzipped
    rows: int = 20_000  # per sheet
    header_scan_rows: int = 5  # a title or a note may stand above the header row


def read_sheets(
    data: bytes,
    *,
    is_header: Callable[[Mapping[str, int]], bool],
    aliases: Mapping[str, str] | None = None,
    limits: SheetLimits = SheetLimits(),
    header_of: Callable[[str], str] | None = None,
) -> list[Sheet]:
    """The sheets of an .xlsx workbook whose header row (within the first rows) IS_HEADER accepts;
    headers are read without spaces or the ``*`` of a required column, then through ALIASES (or as
    HEADER_OF reads them). Empty rows are skipped. Refused: a file that is not a workbook, too large
    (packed or unpacked) or with too many rows."""
    names = aliases or {}

    def header(value: Any) -> str:
        if header_of is not None:
            return header_of(str(value or ""))
        text = "".join(str(value or "").split()).strip("*＊")
        return names.get(text, text)

    if len(data) > limits.file_bytes:
        raise errors.PayloadTooLarge(N_("The file is too large"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # not an xlsx file
        raise errors.ValidationFailed(N_("The file is not an Excel workbook (.xlsx)")) from exc
    if unpacked > limits.unpacked_bytes:
        wb.close()
        raise errors.PayloadTooLarge(N_("The file is too large"))
    out = []
    try:
        for ws in wb.worksheets:
            columns: dict[str, int] = {}
            body: list[tuple[int, tuple[Any, ...]]] = []
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if not columns:
                    if n > limits.header_scan_rows:
                        break
                    found = {header(v): i for i, v in reversed(list(enumerate(values))) if header(v)}
                    if is_header(found):
                        columns = found
                    continue
                if any(cell_text(v) for v in values):
                    if len(body) >= limits.rows:
                        raise errors.ValidationFailed(N_("The file has too many rows"))
                    body.append((n, tuple(values)))
            if columns:
                out.append(Sheet(ws.title, columns, body))
    finally:
        wb.close()
    return out


def read_csv_rows(
    data: bytes,
    *,
    header: Callable[[str], str],
    is_header: Callable[[Mapping[str, int]], bool],
    missing_header: str,
    max_rows: int,
    max_columns: int = 60,
    max_chars: int = 4000,
    header_scan_rows: int = 5,
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file (UTF-8 with or without a BOM, else GB18030) under the header row that
    IS_HEADER accepts among the first rows (each cell read through HEADER), as (line number, {header:
    text}); cells trimmed and cut at MAX_CHARS, empty rows skipped. Refused (422): a file that is not
    CSV, one without such a header (MISSING_HEADER, a message id) or with more than MAX_ROWS rows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise errors.ValidationFailed(N_("The file is neither a CSV nor an Excel workbook"))
    columns: dict[str, int] = {}
    out: list[tuple[int, dict[str, str]]] = []
    try:
        for n, raw in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in raw[:max_columns]]
            if not columns:
                found = {header(c): i for i, c in reversed(list(enumerate(cells))) if header(c)}
                if is_header(found):
                    columns = found
                elif n >= header_scan_rows:
                    break
                continue
            if not any(cells):
                continue
            if len(out) >= max_rows:
                raise errors.ValidationFailed(N_("The file may have at most %(n)s rows"), n=max_rows)
            out.append((n, {h: cells[i][:max_chars] if i < len(cells) else "" for h, i in columns.items()}))
    except csv.Error as exc:
        raise errors.ValidationFailed(N_("The file is neither a CSV nor an Excel workbook")) from exc
    if not columns:
        raise errors.ValidationFailed(missing_header)
    return out


def read_table_rows(
    data: bytes,
    filename: str,
    *,
    header: Callable[[str], str],
    is_header: Callable[[Mapping[str, int]], bool],
    missing_header: str,
    max_file_bytes: int,
    max_rows: int,
    max_columns: int = 60,
    max_chars: int = 4000,
) -> list[tuple[int, dict[str, str]]]:
    """The rows of an uploaded CSV or XLSX file as (row number, {header: text}), each header read by
    HEADER, bounded in size, rows, columns and characters (413 past the size; 422 for an empty file,
    one of another kind or without the header row, MISSING_HEADER)."""
    if len(data) > max_file_bytes:
        raise errors.PayloadTooLarge(N_("The file is too large"))
    if not data:
        raise errors.ValidationFailed(N_("The file is empty"))
    if data.startswith(b"PK\x03\x04"):
        limits = SheetLimits(file_bytes=max_file_bytes, unpacked_bytes=60_000_000, rows=max_rows)
        sheets = read_sheets(data, is_header=is_header, limits=limits, header_of=header)
        if not sheets:
            raise errors.ValidationFailed(missing_header)
        sheet = sheets[0]
        return [(n, {h: sheet.get(values, h)[:max_chars] for h in sheet.columns}) for n, values in sheet.rows]
    if filename.lower().endswith((".xlsx", ".xls")) or b"\x00" in data[:4096]:
        raise errors.ValidationFailed(N_("The file is neither a CSV nor an Excel workbook"))
    return read_csv_rows(
        data, header=header, is_header=is_header, missing_header=missing_header, max_rows=max_rows,
        max_columns=max_columns, max_chars=max_chars,
    )  # fmt: skip
