"""The list published with a notice (惠农补贴名单, 财务公开): read from CSV or XLSX, masked when saved.

A table is kept on the notice as ``{"columns": [{"name", "label", "mask"}], "rows": [[…]]}``. Each
column carries how it is shown (``schemas.ColumnMask``); personal columns are masked here, before the
table reaches the notice, so the unmasked values are never stored. A column the publisher leaves out is
dropped with its values. Marks guessed from the header and the values are the starting point; the
publisher can hide more afterwards (:func:`remark`), never less: a masked value stays masked.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

from countyos.core import tabular
from countyos.core.crypto import mask_phone
from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.portal.schemas import ColumnMask
from countyos.services.service.applications import mask_id
from countyos.services.service.certificates import mask_name

MAX_FILE_BYTES = 2_000_000
MAX_ROWS = 2_000
MAX_COLUMNS = 30
MAX_CELL = 200  # characters kept of a cell
MAX_LABEL = 60

MASKS: dict[ColumnMask, Callable[[str], str]] = {
    ColumnMask.NAME: mask_name,
    ColumnMask.ID_NUMBER: mask_id,
    ColumnMask.PHONE: mask_phone,
}
MASK_NAMES = {
    ColumnMask.SHOWN: N_("Shown as it is"),
    ColumnMask.NAME: N_("Name, masked (张*三)"),
    ColumnMask.ID_NUMBER: N_("ID number, masked"),
    ColumnMask.PHONE: N_("Phone number, masked"),
    ColumnMask.OMITTED: N_("Left out"),
}

# Header words that say a column holds personal data (checked before the values are looked at).
_NAME_WORDS = ("姓名", "户主", "户名", "名字", "领取人", "申请人", "收款人", "补贴对象", "联系人", "name")
_ID_WORDS = ("身份证", "证件号", "公民身份号码", "idnumber", "id_number")
_PHONE_WORDS = ("电话", "手机", "联系方式", "phone", "mobile")
_ACCOUNT_WORDS = ("银行卡", "账号", "卡号", "银行账户", "住址", "地址")  # never published
_ID_VALUE = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_PHONE_VALUE = re.compile(r"^(\+?86[- ]?)?1[3-9]\d{9}$")
TABLE_FIELD = "table_file"


def _refuse(message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": TABLE_FIELD, "message": gettext(message, **params)}], **params)


def guess_mask(label: str, values: Sequence[str]) -> ColumnMask:
    """The mark a column starts with: personal by its header or by what its cells look like."""
    head = label.lower().replace(" ", "")
    if any(w in head for w in _ACCOUNT_WORDS):
        return ColumnMask.OMITTED
    if any(w in head for w in _ID_WORDS):
        return ColumnMask.ID_NUMBER
    if any(w in head for w in _PHONE_WORDS):
        return ColumnMask.PHONE
    if any(w in head for w in _NAME_WORDS):
        return ColumnMask.NAME
    filled = [v for v in values if v]
    if filled and sum(bool(_ID_VALUE.match(v)) for v in filled) * 2 >= len(filled):
        return ColumnMask.ID_NUMBER
    if filled and sum(bool(_PHONE_VALUE.match(v.replace(" ", ""))) for v in filled) * 2 >= len(filled):
        return ColumnMask.PHONE
    return ColumnMask.SHOWN


def _cell(value: Any) -> str:
    return tabular.cell_text(value)[:MAX_CELL]


def _bounded(labels: list[str], rows: list[list[str]]) -> None:
    if not labels:
        raise _refuse(N_("The table has no header row"))
    if len(labels) > MAX_COLUMNS:
        raise _refuse(N_("The table may have at most %(n)s columns"), n=MAX_COLUMNS)
    if len(rows) > MAX_ROWS:
        raise _refuse(N_("The table may have at most %(n)s rows"), n=MAX_ROWS)


def _read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise _refuse(N_("The file is neither a CSV nor an Excel workbook"))
    labels: list[str] = []
    rows: list[list[str]] = []
    try:
        for raw in csv.reader(io.StringIO(text)):
            cells = [c.strip()[:MAX_CELL] for c in raw[: MAX_COLUMNS + 1]]
            if not any(cells):
                continue
            if not labels:
                labels = [c[:MAX_LABEL] for c in cells]
                continue
            rows.append(cells)
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise _refuse(N_("The file is neither a CSV nor an Excel workbook")) from exc
    return labels, rows


def _read_xlsx(data: bytes) -> tuple[list[str], list[list[str]]]:
    limits = tabular.SheetLimits(file_bytes=MAX_FILE_BYTES, unpacked_bytes=40_000_000, rows=MAX_ROWS + 1)
    try:
        sheets = tabular.read_sheets(data, is_header=lambda found: len(found) >= 2, limits=limits)
    except ValidationFailed as exc:
        raise _refuse(exc.message_id, **exc.params) from exc
    if not sheets:
        raise _refuse(N_("The table has no header row"))
    sheet = sheets[0]
    order = sorted(sheet.columns.items(), key=lambda kv: kv[1])[: MAX_COLUMNS + 1]
    labels = [name[:MAX_LABEL] for name, _ in order]
    rows = [[_cell(values[i]) if i < len(values) else "" for _, i in order] for _, values in sheet.rows]
    return labels, rows


def read(data: bytes, filename: str = "") -> tuple[list[str], list[list[str]]]:
    """Header labels and rows (text) of an uploaded CSV or XLSX file, bounded in size, rows and columns."""
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(N_("The table file may be at most %(mb)s MB"), mb=MAX_FILE_BYTES // 1_000_000)
    if not data:
        raise _refuse(N_("The file is empty"))
    if data.startswith(b"PK\x03\x04"):
        labels, rows = _read_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xls")) or b"\x00" in data[:4096]:
        raise _refuse(N_("The file is neither a CSV nor an Excel workbook"))
    else:
        labels, rows = _read_csv(data)
    _bounded(labels, rows)
    width = len(labels)
    return labels, [(r + [""] * width)[:width] for r in rows]


def masked(labels: list[str], rows: list[list[str]], marks: Sequence[ColumnMask | None] = ()) -> dict[str, Any]:
    """The table to store: each column masked by its mark, left-out columns dropped. A column marked
    "shown" whose header or values say it is personal is masked all the same (the guess wins over
    "shown", never over a stricter mark). Nothing unmasked of a personal column survives this."""
    _bounded(labels, rows)
    columns: list[dict[str, str]] = []
    keep: list[tuple[int, ColumnMask]] = []
    for i, label in enumerate(labels):
        given = marks[i] if i < len(marks) else None
        guess = guess_mask(label, [r[i] if i < len(r) else "" for r in rows])
        mark = guess if given is None or given is ColumnMask.SHOWN else given  # a personal column stays masked
        if mark is ColumnMask.OMITTED:
            continue
        columns.append({"name": f"c{i}", "label": label[:MAX_LABEL] or f"#{i + 1}", "mask": mark.value})
        keep.append((i, mark))
    out_rows = []
    for r in rows:
        out = []
        for i, mark in keep:
            text = _cell(r[i] if i < len(r) else "")
            out.append(MASKS[mark](text) if mark in MASKS and text else text)
        out_rows.append(out)
    return {"columns": columns, "rows": out_rows}


def remark(table: dict[str, Any], marks: Sequence[ColumnMask]) -> dict[str, Any]:
    """The stored table with new marks by position: a newly masked column is masked now, a left-out one
    dropped; a column already masked stays masked whatever it is marked now (the mask of a masked value
    is kept as it is)."""
    columns = list(table.get("columns") or [])
    if len(marks) != len(columns):
        raise _refuse(N_("Mark every column of the table"))
    keep: list[tuple[int, dict[str, str]]] = []
    for i, (col, mark) in enumerate(zip(columns, marks, strict=True)):
        if mark is ColumnMask.OMITTED:
            continue
        before = ColumnMask(col.get("mask", ColumnMask.SHOWN))
        now = mark if mark is not ColumnMask.SHOWN or before is ColumnMask.SHOWN else before
        keep.append((i, {**col, "mask": now.value}))
    rows = []
    for r in table.get("rows") or []:
        out = []
        for i, col in keep:
            text = str(r[i]) if i < len(r) else ""
            mark = ColumnMask(col["mask"])
            out.append(MASKS[mark](text) if mark in MASKS and text else text)
        rows.append(out)
    return {"columns": [c for _, c in keep], "rows": rows}


def from_api(columns: Sequence[tuple[str, ColumnMask]], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The table sent through the API, masked by the marks it came with."""
    labels = [label for label, _ in columns]
    text_rows = [[_cell(v) for v in list(r)[: len(labels)]] for r in rows]
    return masked(labels, [(r + [""] * len(labels))[: len(labels)] for r in text_rows], [m for _, m in columns])
