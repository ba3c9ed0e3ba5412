"""Downloads of an open resource's rows: CSV, XLSX, JSON and GeoJSON, only the 信息项 marked open.

A download is planned first (:func:`plan`: is the resource's data open, is the format offered, is it
within :data:`MAX_DOWNLOAD_ROWS`) and then written in pieces (:func:`write`) from its own read session,
so that a large file never sits in memory whole: the rows are fetched in batches and CSV, JSON and GeoJSON
go out as they are written. An XLSX file is a zip that is finished only at the end: it is written to a
temporary file (openpyxl's write-only mode) and then sent from there.

CSV and XLSX go through ``core.tabular`` like every export (a cell that starts like a formula stays
text), CSV in UTF-8 with a BOM so that Excel opens Chinese correctly, both with the items' Chinese
names as headers. JSON (an array of objects) and GeoJSON (a FeatureCollection; the first open
geometry column is each feature's geometry) use the items' English names as keys.

Each download is recorded (:func:`record`, a ``Download``: resource, load, format, rows, when, and the
user only when someone logged in downloaded — nothing of an anonymous visitor). The record is itself the
trace of a public read, a usage figure like the platform's usage counts: it is not audited (the audit
log's hash chain would otherwise take one link per anonymous download). 数据沉淀 counts the records per
department and month with the conditions its list uses (:class:`Filter`, :func:`where`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import ColumnElement, func, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session

from countyos.core import errors, tabular
from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.data.codes import FieldType
from countyos.data.models import Download, Load, Resource
from countyos.data.service import opendata, tables
from countyos.org.models import Department, User

MAX_DOWNLOAD_ROWS = 1_000_000  # rows in one download; a larger resource is read through the API in pages
BATCH_ROWS = 2_000  # rows fetched and written at a time
FILE_CHUNK = 256 * 1024  # bytes sent at a time from a finished XLSX file

EXTENSIONS = {"csv": "CSV", "xlsx": "XLSX", "json": "JSON", "geojson": "GeoJSON"}  # URL suffix → format
MEDIA_TYPES = {
    "CSV": "text/csv; charset=utf-8",
    "XLSX": tabular.XLSX_MEDIA_TYPE,
    "JSON": "application/json",
    "GeoJSON": "application/geo+json",
}
UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class TooManyRows(errors.Conflict):
    code = "download_too_large"
    title = N_("This dataset is too large to download as one file")


@dataclass(frozen=True)
class Column:
    """An open 信息项 as a download writes it."""

    name: str  # 英文名称 (JSON and GeoJSON keys)
    label: str  # 中文名称 (CSV and XLSX headers)
    type: FieldType


@dataclass(frozen=True)
class Plan:
    """What one download writes: from which table, which columns, in which format, under which name."""

    table_name: str
    columns: tuple[Column, ...]
    format: str  # a key of MEDIA_TYPES
    rows: int
    filename: str  # the UTF-8 name (the resource's title)
    fallback_filename: str  # the ASCII name (the resource's URL name)
    resource_id: int = 0
    load_id: int | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def content_disposition(self) -> str:
        """``attachment`` with an ASCII name and the UTF-8 name of RFC 5987 / RFC 6266."""
        return f"attachment; filename=\"{self.fallback_filename}\"; filename*=UTF-8''{quote(self.filename, safe='')}"


def too_large(load: Load | None) -> bool:
    return load is not None and load.rows_loaded > MAX_DOWNLOAD_ROWS


def plan(session: Session, res: Resource, *, ext: str) -> Plan:
    """The download of ``res`` as ``ext`` (csv, xlsx, json, geojson), or why there is none: NotFound when
    its rows are not open or the format is not offered (GeoJSON needs an open geometry column),
    TooManyRows past :data:`MAX_DOWNLOAD_ROWS`."""
    fmt = EXTENSIONS.get(ext)
    if fmt is None or not opendata.rows_open(res) or fmt not in opendata.formats_of(res):
        raise errors.NotFound(N_("Not found"))
    load = session.get(Load, res.current_load_id)
    if load is None or load.table_name is None:
        raise errors.NotFound(N_("Not found"))
    if too_large(load):
        raise TooManyRows(
            N_(
                "This dataset has %(rows)s rows, more than the %(most)s a download holds. "
                "Read it in pages through the CKAN API."
            ),
            rows=load.rows_loaded,
            most=MAX_DOWNLOAD_ROWS,
        )
    columns = tuple(Column(i.name, i.label, i.type) for i in opendata.open_items(res))
    return Plan(
        table_name=load.table_name,
        columns=columns,
        format=fmt,
        rows=load.rows_loaded,
        filename=f"{_safe_name(res.title) or res.name}.{ext}",
        fallback_filename=f"{_ascii_name(res.name)}.{ext}",
        resource_id=res.id,
        load_id=load.id,
    )


def _safe_name(text: str) -> str:
    return UNSAFE_IN_FILENAME.sub("_", text).strip(" ._")[:120]


def _ascii_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:100] or "data"


def _batches(session: Session, p: Plan) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows of the plan's open columns in file order, a batch at a time (a server-side cursor on
    PostgreSQL), never more than :data:`MAX_DOWNLOAD_ROWS`."""
    table = sql_table(
        p.table_name, sql_column(tables.ROW_ID), *[sql_column(c.name, tables.SQL_TYPES[c.type]) for c in p.columns]
    )
    stmt = (
        select(*[table.c[c.name] for c in p.columns])
        .order_by(table.c[tables.ROW_ID])
        .limit(MAX_DOWNLOAD_ROWS)
        .execution_options(yield_per=BATCH_ROWS)
    )
    yield from session.execute(stmt).partitions(BATCH_ROWS)


def write(session: Session, p: Plan) -> Iterator[bytes]:
    """The file's bytes, in pieces, read through ``session`` (kept open until the last piece)."""
    batches = _batches(session, p)
    if p.format == "CSV":
        return _csv(p, batches)
    if p.format == "XLSX":
        return _xlsx(p, batches)
    if p.format == "JSON":
        return _json(p, batches)
    return _geojson(p, batches)


# -- CSV and XLSX (core.tabular) ----------------------------------------------------------------------------


def _csv(p: Plan, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    """Like ``tabular.to_csv`` (BOM, every cell through ``tabular.cell``), a batch of rows at a time."""
    buf = io.StringIO()
    out = csv.writer(buf)
    buf.write("\ufeff")
    out.writerow([tabular.cell(c.label) for c in p.columns])
    for batch in batches:
        for row in batch:
            out.writerow(["" if v is None else tabular.cell(v) for v in row])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


def _xlsx(p: Plan, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    """Rows appended through ``tabular.append_row`` to a write-only workbook, saved to a temporary file
    (openpyxl keeps the rows on disk as it goes), then sent from the file."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(p.filename))
    ws.freeze_panes = "A2"
    sheet = cast(Worksheet, ws)  # append_row only appends, which the write-only sheet does too
    tabular.append_row(sheet, [c.label for c in p.columns])
    for batch in batches:
        for row in batch:
            tabular.append_row(sheet, row)
    with tempfile.TemporaryFile(prefix="countyos-download-", suffix=".xlsx") as f:
        wb.save(f)
        f.seek(0)
        while chunk := f.read(FILE_CHUNK):
            yield chunk


def _sheet_title(filename: str) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", filename.rsplit(".", 1)[0])[:31]
    return title or "data"


# -- JSON and GeoJSON ------------------------------------------------------------------------------------------


def _json_value(value: Any, kind: FieldType) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if kind == FieldType.GEOMETRY and isinstance(value, str):
        return _geometry(value)
    return value


def _geometry(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None  # not GeoJSON: the loads store only checked geometries, so this is not expected


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json(p: Plan, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    names = [c.name for c in p.columns]
    kinds = [c.type for c in p.columns]
    first = True
    yield b"["
    for batch in batches:
        parts = []
        for row in batch:
            record = {n: _json_value(v, k) for n, v, k in zip(names, row, kinds, strict=True)}
            parts.append(("\n" if first else ",\n") + _dumps(record))
            first = False
        yield "".join(parts).encode()
    yield b"\n]\n"


def _geojson(p: Plan, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    where = next(n for n, c in enumerate(p.columns) if c.type == FieldType.GEOMETRY)
    names = [c.name for c in p.columns]
    kinds = [c.type for c in p.columns]
    first = True
    yield b'{"type":"FeatureCollection","features":['
    for batch in batches:
        parts = []
        for row in batch:
            properties = {
                n: _json_value(v, k) for i, (n, v, k) in enumerate(zip(names, row, kinds, strict=True)) if i != where
            }
            geometry = _geometry(row[where]) if isinstance(row[where], str) else None
            feature = {"type": "Feature", "geometry": geometry, "properties": properties}
            parts.append(("\n" if first else ",\n") + _dumps(feature))
            first = False
        yield "".join(parts).encode()
    yield b"\n]}\n"


# -- the record of downloads ---------------------------------------------------------------------------------

MONTH = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")  # YYYY-MM, a month in the county's time


def record(session: Session, *, plan: Plan, user_id: int | None, now: datetime | None = None) -> Download:
    """Record one download as planned; ``user_id`` only for someone logged in (the caller commits)."""
    d = Download(resource_id=plan.resource_id, load_id=plan.load_id, format=plan.format, rows=plan.rows,
                 at=now or utcnow(), user_id=user_id)  # fmt: skip
    session.add(d)
    session.flush()
    return d


@dataclass(frozen=True)
class Filter:
    """Which downloads: of one department's resources, of one resource, in one format, in one month."""

    provider_id: int | None = None
    resource_id: int | None = None
    format: str = ""  # a value of EXTENSIONS
    month: str = ""  # YYYY-MM in the county's time


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The month ``YYYY-MM`` of the county's time as UTC instants [start, end)."""
    if not MONTH.match(month):
        raise errors.ValidationFailed(N_("Not a month (YYYY-MM)."))
    tz = ZoneInfo(get_settings().timezone)
    start = datetime(int(month[:4]), int(month[5:]), 1, tzinfo=tz)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def where(f: Filter) -> list[ColumnElement[bool]]:
    """The conditions of ``f``: the list and every count of 数据沉淀 use these."""
    cond: list[ColumnElement[bool]] = []
    if f.provider_id is not None:
        cond.append(Download.resource_id.in_(select(Resource.id).where(Resource.provider_id == f.provider_id)))
    if f.resource_id is not None:
        cond.append(Download.resource_id == f.resource_id)
    if f.format:
        cond.append(Download.format == f.format)
    if f.month:
        start, end = month_bounds(f.month)
        cond += [Download.at >= start, Download.at < end]
    return cond


def count(session: Session, f: Filter) -> int:
    return session.scalar(select(func.count(Download.id)).where(*where(f))) or 0


@dataclass(frozen=True)
class Listed:
    """One download as the list shows it."""

    at: datetime
    resource_id: int
    title: str
    department: str
    format: str
    load_number: int | None
    rows: int
    user: str | None  # None: anonymous


def listing(session: Session, f: Filter, *, limit: int, offset: int) -> list[Listed]:
    """The downloads of ``f``, newest first."""
    stmt = (
        select(
            Download.at,
            Resource.id,
            Resource.title,
            Department.name,
            Download.format,
            Load.number,
            Download.rows,
            User.display_name,
        )
        .join(Resource, Resource.id == Download.resource_id)
        .join(Department, Department.id == Resource.provider_id)
        .outerjoin(Load, Load.id == Download.load_id)
        .outerjoin(User, User.id == Download.user_id)
        .where(*where(f))
        .order_by(Download.at.desc(), Download.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [Listed(*row) for row in session.execute(stmt)]


def per_department(session: Session) -> dict[int, int]:
    """Downloads of each department's resources (``Filter(provider_id=…)`` counts the same)."""
    stmt = (
        select(Resource.provider_id, func.count(Download.id))
        .join(Resource, Resource.id == Download.resource_id)
        .group_by(Resource.provider_id)
    )
    return {dept: n for dept, n in session.execute(stmt)}
