"""Reading a department's file into named, typed columns and rows of text, streaming.

A department sends what it has: CSV (UTF-8 with or without BOM, or GBK/GB18030 from an older system;
``,`` ``;`` tab or ``|``), an Excel workbook (first sheet), JSON (an array of objects, or an object with
one such array, e.g. ``{"data": [...]}``), GeoJSON, or a zipped ESRI Shapefile. :func:`open_file` reads
the header and the first :data:`SAMPLE_ROWS` rows to name and type the columns; :meth:`ReadFile.rows`
reads the whole file again each time it is called, one row at a time, so a million rows never sit in
memory; :meth:`ReadFile.blocks` reads the same rows a thousand at a time, by column (a loader's
way: a CSV is then split and trimmed column by column, not cell by cell). Cells are text (trimmed,
``None`` when empty); :func:`convert` turns one into its column's type, :func:`convert_column` a column.

Column names are safe SQL identifiers made from the headers (``Name`` → ``name``); a header that is
Chinese or otherwise not plain ASCII becomes ``c<position>`` (``姓名`` in column 1 → ``c1``) and keeps
its text as the label. Names never start with ``_`` (the loader's own columns do) and never clash
with an SQL keyword or a PostgreSQL system column.

Types are inferred conservatively: codes keep their leading zeros (``0570``, ``330000`` under a code
header, a mobile number, an 18-digit ID number stay text), ``20240501`` is a date only under a date
header. Geometries (GeoJSON, Shapefile) become one column ``geometry`` holding compact GeoJSON in
WGS-84; a Shapefile's ``.prj`` in another CRS (e.g. CGCS2000 Gauss-Krüger EPSG:4549) is reprojected.

Bounds: zip archives (a Shapefile, an XLSX) are refused past :data:`MAX_ZIP_MEMBERS` members (XLSX:
:data:`MAX_XLSX_MEMBERS`), :data:`MAX_UNCOMPRESSED` bytes in all or a member that expands more than
:data:`MAX_RATIO` times; a CSV line past :data:`MAX_LINE` characters and more than ``max_columns``
columns are refused. The caller bounds the upload's size.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from operator import itemgetter
from pathlib import Path
from struct import error as StructError
from typing import IO, Any, cast

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape as to_shape

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.data.codes import FieldType

SAMPLE_ROWS = 10_000  # rows read by open_file to infer the columns' types
BLOCK_ROWS = 1_000  # rows of a block (ReadFile.blocks): small enough for the processor's cache
MAX_ZIP_MEMBERS = 20  # files in a zipped Shapefile
MAX_XLSX_MEMBERS = 1_000  # parts of a workbook (sheets, styles, drawings …)
MAX_UNCOMPRESSED = 2 * 1024**3  # bytes of all the members of a zip together
MAX_RATIO = 500  # uncompressed : compressed size of one member …
RATIO_FROM = 16 * 1024**2  # … larger than this (small files compress as they like)
MAX_LINE = 4 * 1024**2  # characters in one line of a CSV
CHUNK = 1024**2
GEOMETRY = "geometry"  # the name of the geometry column
CHINA = timezone(timedelta(hours=8))  # date-times are kept in the county's local time (no DST in China)

Cells = list[str | None]
Records = Generator[Cells, None, None]


class FileRefused(ValidationFailed):
    """The file cannot be read: the message id says why in words a person can act on; ``detail``
    keeps the parser's own words (English, not translated) for the operator's log."""

    code = "file_refused"
    title = N_("The file cannot be read")

    def __init__(self, message: str | None = None, /, *, detail: str = "", **params: Any) -> None:
        super().__init__(message, **params)
        self.detail = detail


@dataclass(frozen=True)
class InferredColumn:
    name: str  # a safe SQL identifier [a-z][a-z0-9_]{0,62}; Chinese or odd headers become c<position>
    label: str  # the header as written (e.g. 姓名), trimmed
    type: FieldType  # inferred from the values of the sampled rows
    max_length: int  # longest text seen in the sampled rows


@dataclass(frozen=True)
class Block:
    """Consecutive rows of a file, by column: ``columns[k][i]`` is the cell of column k in the row
    numbered ``numbers[i]`` (the numbers of :meth:`ReadFile.numbered_rows`; blank rows are left out)."""

    numbers: Sequence[int]
    columns: list[list[str | None]]

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass(frozen=True)
class CsvSource:
    """How a CSV file was found to be written (for a reader of its own, ``arrowcsv``)."""

    path: Path
    encoding: str
    delimiter: str
    short_lines: bool  # no line longer than MAX_LINE


@dataclass
class ReadFile:
    """An opened file: its format, its columns, and its rows read afresh on each call."""

    format: str  # "csv" | "xlsx" | "json" | "geojson" | "shapefile"
    columns: list[InferredColumn]
    _records: Callable[[], Iterator[Cells | None]] = field(repr=False, compare=False)
    _blocks: Callable[[int], Iterator[Block]] | None = field(default=None, repr=False, compare=False)
    csv: CsvSource | None = field(default=None, compare=False)  # a CSV file: how it is written

    def rows(self) -> Iterator[Cells]:
        """Each data row's cells in column order (text, ``None`` when empty); blank rows are skipped.

        Reads the file again on every call. Cells past the columns (found in the header and the
        sampled rows) are dropped. A part of the file past the sample that cannot be read raises
        :class:`FileRefused` in the middle of the iteration."""
        for row in self._records():
            if row is not None:
                yield row

    def numbered_rows(self) -> Iterator[tuple[int, Cells]]:
        """Like :meth:`rows`, with each row's 1-based number among the data rows of the file (blank
        rows counted, the header not), the number a person finds when opening the file."""
        for number, row in enumerate(self._records(), start=1):
            if row is not None:
                yield number, row

    def blocks(self, size: int | None = None) -> Iterator[Block]:
        """The rows of :meth:`numbered_rows`, SIZE (:data:`BLOCK_ROWS`) at a time, by column."""
        size = size or BLOCK_ROWS
        if self._blocks is not None:
            yield from self._blocks(size)
            return
        width = len(self.columns)
        rows = self.numbered_rows()
        while chunk := list(islice(rows, size)):
            numbers = [n for n, _ in chunk]
            cells = [r for _, r in chunk]
            yield Block(numbers, [[r[k] for r in cells] for k in range(width)])


# --- opening -----------------------------------------------------------------------------------------


def open_file(path: Path, *, filename: str, max_columns: int = 500) -> ReadFile:
    """Open the file at PATH (sent as FILENAME, whose extension says the format) and infer its columns.

    The file must stay at PATH while the returned :class:`ReadFile` is read."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _open_csv(path, max_columns)
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, max_columns)
    if suffix in (".json", ".geojson"):
        return _open_json(path, max_columns)
    if suffix == ".zip":
        return _open_shapefile(path, max_columns)
    if suffix in (".xls", ".et"):
        raise FileRefused(N_("Old Excel files (.xls) cannot be read; save the workbook as .xlsx"))
    raise FileRefused(
        N_("Files of type %(suffix)s cannot be read; send CSV, XLSX, JSON, GeoJSON or a zipped Shapefile"),
        suffix=suffix or "?",
    )


def _reading_refused(exc: BaseException) -> FileRefused:
    return FileRefused(N_("The file is damaged or not in the format its name says"), detail=str(exc)[:500])


def _shaped(records: Iterable[Cells], width: int) -> Iterator[Cells | None]:
    """Each record padded or cut to WIDTH cells; ``None`` for a blank record."""
    pad: Cells = [None] * width
    for cells in records:
        if len(cells) != width:
            cells = (cells + pad)[:width]
        yield cells if any(cells) else None


def _last_filled(cells: Cells) -> int:
    n = len(cells)
    while n and cells[n - 1] is None:
        n -= 1
    return n


def _tabular(fmt: str, records: Callable[[], Records], max_columns: int) -> ReadFile:
    """A header row, then data rows (CSV, XLSX): the first non-blank record is the header."""

    def data() -> Iterator[Cells]:
        it = records()
        for header in it:
            if any(header):
                break
        yield from it

    it = records()
    try:
        header: Cells | None = next((r for r in it if any(r)), None)
        if header is None:
            raise FileRefused(N_("The file has no header row"))
        width = _last_filled(header)
        sample = []
        for row in islice(it, SAMPLE_ROWS):
            width = max(width, _last_filled(row))
            if width > max_columns:
                break
            sample.append(row)
    finally:
        it.close()
    if width > max_columns:
        raise FileRefused(N_("The file has more than %(max)s columns"), max=max_columns)
    labels = [(header[i] or "") if i < len(header) else "" for i in range(width)]
    rows = [r for r in _shaped(sample, width) if r is not None]
    columns = _infer(labels, rows)
    return ReadFile(format=fmt, columns=columns, _records=lambda: _shaped(data(), width))


# --- CSV ---------------------------------------------------------------------------------------------


def _text_encoding(path: Path) -> tuple[str, bool]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK) — the whole file
    must decode, so that a Chinese value past the first megabyte cannot break the load half-way — and
    whether every line is known to be at most :data:`MAX_LINE` characters long."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            f.seek(0)
            lines = _Lines()
            while chunk := f.read(CHUNK):
                lines.feed(chunk)
            return "utf-8-sig", lines.short()
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", False
        if head.startswith(b"PK\x03\x04"):
            raise FileRefused(N_("This is a zip or Excel file, not CSV text; name it .xlsx or .zip"))
        for encoding in ("utf-8", "gb18030"):
            f.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            lines = _Lines()
            try:
                while chunk := f.read(CHUNK):
                    if b"\0" in chunk:  # binary, and a NUL cannot be stored in PostgreSQL text
                        raise FileRefused(N_("The file holds NUL characters; it is not a text table"))
                    decoder.decode(chunk)
                    lines.feed(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding, lines.short()
    raise FileRefused(N_("The file is not text in UTF-8 or GBK"))


class _Lines:
    """The longest line of UTF-8 or GB18030 text fed in chunks, in bytes: there a byte 0x0A is a line
    feed and nothing else, and a character takes one byte or more. Lines between a chunk's first and
    last line feed are shorter than a chunk; only those across chunks are counted."""

    def __init__(self) -> None:
        self.longest = self.open = 0  # the open line: bytes since the last line feed

    def feed(self, chunk: bytes) -> None:
        first = chunk.find(b"\n")
        if first < 0:
            self.open += len(chunk)
        else:
            self.longest = max(self.longest, self.open + first + 1)
            self.open = len(chunk) - chunk.rfind(b"\n") - 1

    def short(self) -> bool:
        """Whether no line is longer than MAX_LINE characters (lines ended by a carriage return alone
        are shorter still than what lies between line feeds)."""
        return max(self.longest, self.open) <= MAX_LINE and CHUNK <= MAX_LINE


def _sniff(text: str, preferred: str) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most consistent columns."""
    if "\n" in text:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    best, best_score = preferred, (0.0, 0)
    for delimiter in dict.fromkeys((preferred, ",", ";", "\t", "|")):
        try:
            widths = [len(r) for r in islice(csv.reader(io.StringIO(text), delimiter=delimiter), 50) if r]
        except csv.Error:
            continue
        if not widths:
            continue
        width, seen = Counter(widths).most_common(1)[0]
        score = (seen / len(widths), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _bounded_lines(f: IO[str]) -> Iterator[str]:
    while line := f.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise FileRefused(N_("A line of the file is longer than %(max)s characters"), max=MAX_LINE)
        yield line


def _open_csv(path: Path, max_columns: int) -> ReadFile:
    encoding, short_lines = _text_encoding(path)
    with open(path, encoding=encoding, newline="") as f:
        head = f.read(64 * 1024)
    delimiter = _sniff(head, "\t" if head.count("\t") > head.count(",") else ",")

    def records() -> Records:
        with open(path, encoding=encoding, newline="") as f:
            try:
                for row in csv.reader(_bounded_lines(f), delimiter=delimiter):
                    yield [c.strip() or None for c in row]
            except (csv.Error, UnicodeError) as exc:
                raise _reading_refused(exc) from exc

    read = _tabular("csv", records, max_columns)
    width = len(read.columns)

    def blocks(size: int) -> Iterator[Block]:
        with open(path, encoding=encoding, newline="") as f:
            try:  # lines known to be short need no counting
                reader = csv.reader(f if short_lines else _bounded_lines(f), delimiter=delimiter)
                if not any(any(c.strip() for c in row) for row in reader):  # up to the header
                    return
                before = 0  # data records read (blank ones too): the numbers of numbered_rows
                while raw := list(islice(reader, size)):
                    yield csv_block(raw, before, width)
                    before += len(raw)
            except (csv.Error, UnicodeError) as exc:
                raise _reading_refused(exc) from exc

    read._blocks = blocks
    read.csv = CsvSource(path=path, encoding=encoding, delimiter=delimiter, short_lines=short_lines)
    return read


def csv_block(raw: list[list[str]], before: int, width: int) -> Block:
    """Records as the csv module parsed them → a block of trimmed cells (``None`` when empty), WIDTH
    columns, blank records left out: what :meth:`ReadFile.numbered_rows` yields, column by column."""
    if set(map(len, raw)) != {width}:
        pad = [""] * width
        raw = [r if len(r) == width else (r + pad)[:width] for r in raw]
    columns: list[list[str | None]] = []
    for k in range(width):
        column: list[str | None] = list(map(str.strip, map(itemgetter(k), raw)))
        if "" in column:
            column = [c or None for c in column]
        columns.append(column)
    numbers: Sequence[int] = range(before + 1, before + len(raw) + 1)
    if all(None in c for c in columns):  # a blank record needs an empty cell in every column
        kept = [n for n, cells in enumerate(zip(*columns, strict=True)) if any(cells)]
        if len(kept) < len(raw):
            numbers = [before + 1 + n for n in kept]
            columns = [[c[n] for n in kept] for c in columns]
    return Block(numbers, columns)


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
    _check_zip(path, max_members=MAX_XLSX_MEMBERS)
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


# --- JSON and GeoJSON --------------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")


class _JsonStream:
    """Reads a JSON document piece by piece: the records of a large array one at a time."""

    def __init__(self, f: IO[str]) -> None:
        self._f, self._buf, self._pos, self._eof = f, "", 0, False
        self._decoder = json.JSONDecoder()

    def _more(self, at_least: int = CHUNK) -> bool:
        if self._eof:
            return False
        chunk = self._f.read(max(CHUNK, at_least))
        if not chunk:
            self._eof = True
            return False
        self._buf, self._pos = self._buf[self._pos :] + chunk, 0
        return True

    def peek(self) -> str:
        """The next character that is not white space, '' at the end."""
        while True:
            space = _SPACE.match(self._buf, self._pos)
            if space:
                self._pos = space.end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more():
                return ""

    def starts_array_of_objects(self) -> bool:
        """At a ``[``: whether the array's first element is an object (the ``[`` stays current)."""
        at = self._pos + 1
        while True:
            space = _SPACE.match(self._buf, at)
            if space:
                at = space.end()
            if at < len(self._buf):
                return self._buf[at] == "{"
            at -= self._pos  # reading more moves the buffer to start at the current character
            if not self._more():
                return False

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise FileRefused(N_("The JSON of the file is malformed"), detail=f"expected {char!r}")
        self._pos += 1

    def value(self) -> Any:
        if not self.peek():
            raise FileRefused(N_("The JSON of the file is malformed"), detail="unexpected end")
        while True:
            try:
                obj, end = self._decoder.raw_decode(self._buf, self._pos)
                if end < len(self._buf) or self._eof:
                    self._pos = end
                    return obj
            except json.JSONDecodeError as exc:
                if self._eof:
                    raise FileRefused(N_("The JSON of the file is malformed"), detail=str(exc)) from exc
            except RecursionError as exc:
                raise FileRefused(N_("The JSON of the file is nested too deeply")) from exc
            self._more(len(self._buf) - self._pos)  # a value cut by the buffer's end: read twice as much

    def items(self) -> Iterator[Any]:
        """The elements of the array that starts here."""
        self.take("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            c = self.peek()
            self._pos += 1
            if c == "]":
                return
            if c != ",":
                raise FileRefused(N_("The JSON of the file is malformed"), detail="expected , or ]")


def _json_items(path: Path, meta: dict[str, Any]) -> Generator[Any, None, None]:
    """The records of a JSON file: the top-level array, or the first member of the top-level object
    whose value is an array of objects. Members read before it are put in META (GeoJSON's ``crs``)."""
    with open(path, encoding=_json_encoding(path)) as f:
        s = _JsonStream(f)
        first = s.peek()
        if first == "[":
            yield from s.items()
            return
        if first != "{":
            raise FileRefused(N_("The JSON of the file is not an array of records"))
        s.take("{")
        while s.peek() == '"':
            key = s.value()
            s.take(":")
            if s.peek() == "[" and s.starts_array_of_objects():
                meta["member"] = key
                yield from s.items()
                return
            meta[key] = s.value()
            if s.peek() == ",":
                s.take(",")
        raise FileRefused(N_("The JSON of the file is not an array of records"))


def _json_encoding(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return "utf-8"  # RFC 8259: JSON exchanged between systems is UTF-8


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        text: str = value.replace("\0", "") if "\0" in value else value  # "\u0000": not storable as text
        return text.strip() or None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    return _compact(value)


def _compact(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _open_json(path: Path, max_columns: int) -> ReadFile:
    meta: dict[str, Any] = {}
    items = _json_items(path, meta)
    try:
        sample = list(islice(items, SAMPLE_ROWS))
    except UnicodeError as exc:
        raise FileRefused(N_("The file is not UTF-8 text")) from exc
    finally:
        items.close()
    if not sample:
        raise FileRefused(N_("The file holds no records"))
    if not all(type(r) is dict for r in sample):
        raise FileRefused(N_("Each record of the JSON file must be an object"))
    geo = sample[0].get("type") == "Feature"
    transformer = _geojson_transformer(meta.get("crs")) if geo else None
    if geo:
        props = (r.get("properties") for r in sample)
        keys = list(dict.fromkeys(k for p in props if type(p) is dict for k in p))
    else:
        keys = list(dict.fromkeys(k for r in sample for k in r))
    width = len(keys) + geo
    if width > max_columns:
        raise FileRefused(N_("The file has more than %(max)s columns"), max=max_columns)

    def cells_of(item: Any) -> Cells:
        if type(item) is not dict:
            raise FileRefused(N_("Each record of the JSON file must be an object"))
        if not geo:
            return [_json_text(item.get(k)) for k in keys]
        props = item.get("properties")
        props = props if type(props) is dict else {}
        geometry = item.get("geometry")
        cells = [_json_text(props.get(k)) for k in keys]
        cells.append(None if geometry is None else _geojson_geometry(geometry, transformer))
        return cells

    def records() -> Records:
        try:
            for item in _json_items(path, {}):
                yield cells_of(item)
        except UnicodeError as exc:
            raise FileRefused(N_("The file is not UTF-8 text")) from exc

    labels = [k.strip() for k in keys]
    rows = [r for r in _shaped(map(cells_of, sample), width) if r is not None]
    if not geo:
        return ReadFile(format="json", columns=_infer(labels, rows), _records=lambda: _shaped(records(), width))
    columns = _infer(labels, [r[:-1] for r in rows], reserved={GEOMETRY})
    columns.append(_geometry_column(rows))
    return ReadFile(format="geojson", columns=columns, _records=lambda: _shaped(records(), width))


def _geometry_column(rows: Sequence[Cells]) -> InferredColumn:
    longest = max((len(r[-1] or "") for r in rows), default=0)
    return InferredColumn(name=GEOMETRY, label=GEOMETRY, type=FieldType.GEOMETRY, max_length=longest)


def _geojson_transformer(crs: Any) -> Transformer | None:
    """Old GeoJSON (2008) may name its CRS; RFC 7946 GeoJSON is always WGS-84 lon/lat."""
    props = crs.get("properties") if isinstance(crs, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    return _to_wgs84(str(name)[:10_000]) if name else None


def _geojson_geometry(geometry: Any, transformer: Transformer | None) -> str:
    if transformer is None or not isinstance(geometry, dict):
        return _compact(geometry)
    try:
        geom = to_shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
        return _compact(geometry)
    return str(shapely.to_geojson(_reproject(np.array([geom], dtype=object), transformer)[0]))


def _to_wgs84(source: str) -> Transformer | None:
    """A transformer to WGS-84 lon/lat from a CRS named or written as WKT; None when already there."""
    try:
        crs = CRS.from_user_input(source)
    except CRSError as exc:
        raise FileRefused(N_("The file's coordinate system is not known"), detail=str(exc)[:500]) from exc
    if crs.is_geographic:
        return None  # WGS-84 and CGCS2000 lon/lat agree within centimetres
    return Transformer.from_crs(crs, 4326, always_xy=True)


def _reproject(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    def lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 8)  # 1 mm; full float digits only lengthen the text

    moved: np.ndarray = shapely.transform(geoms, lonlat)
    return moved


# --- zipped Shapefile --------------------------------------------------------------------------------


def _check_zip(path: Path, *, max_members: int) -> list[zipfile.ZipInfo]:
    """The members of a zip, refused when it could expand beyond the bounds (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused(N_("The file is not a valid zip archive"), detail=str(exc)[:500]) from exc
    if len(infos) > max_members:
        raise FileRefused(N_("The archive holds more than %(max)s files"), max=max_members)
    if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise FileRefused(N_("The archive expands to more than %(max)s GiB"), max=MAX_UNCOMPRESSED // 1024**3)
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRefused(N_("The archive is encrypted"))
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileRefused(N_("The archive expands suspiciously much and is refused"))
    return infos


def _shapefile_members(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The one layer's members by extension (.shp .shx .dbf .prj .cpg)."""
    files = [i for i in infos if not i.is_dir() and "__MACOSX" not in i.filename]
    files = [i for i in files if not Path(i.filename).name.startswith("._")]
    layers = [i for i in files if i.filename.lower().endswith(".shp")]
    if not layers:
        raise FileRefused(N_("The zip file holds no Shapefile (.shp)"))
    if len(layers) > 1:
        raise FileRefused(N_("The zip file holds more than one Shapefile; send one layer per file"))
    stem = layers[0].filename[:-4].lower()
    found = {}
    for info in files:
        base, dot, ext = info.filename.rpartition(".")
        if dot and base.lower() == stem and ext.lower() in ("shp", "shx", "dbf", "prj", "cpg"):
            found[ext.lower()] = info
    if "dbf" not in found:
        raise FileRefused(N_("The Shapefile has no .dbf file of attributes"))
    return found


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> Path:
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > info.file_size:  # zipfile stops at the declared size; never trust it alone
                raise FileRefused(N_("The archive expands suspiciously much and is refused"))
            dst.write(chunk)
    return target


def _decodes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, skip: int, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with zf.open(info) as f:
        f.read(skip)
        try:
            while chunk := f.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _dbf_encoding(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> str:
    """The .cpg's encoding if the DBF's records decode with it, else UTF-8 if they do, else GB18030
    (a superset of GBK, which Chinese desktop GIS write without saying so)."""
    candidates = []
    if "cpg" in members:
        named = zf.read(members["cpg"])[:100].decode("ascii", "replace").strip().lower()
        named = named.removeprefix("ansi").strip()  # "ANSI 936"
        with suppress(LookupError):
            candidates.append(codecs.lookup("cp" + named if named.isdigit() else named).name)
    with zf.open(members["dbf"]) as f:
        header = f.read(32)
    skip = int.from_bytes(header[8:10], "little") if len(header) == 32 else 0  # the header's length
    for encoding in dict.fromkeys([*candidates, "utf-8"]):
        if _decodes(zf, members["dbf"], skip, encoding):
            return encoding
    return "gb18030"


def _open_shapefile(path: Path, max_columns: int) -> ReadFile:
    import shapefile

    members = _shapefile_members(_check_zip(path, max_members=MAX_ZIP_MEMBERS))
    with zipfile.ZipFile(path) as zf:
        encoding = _dbf_encoding(zf, members)
        prj = zf.read(members["prj"]).decode("utf-8", "replace").strip() if "prj" in members else ""
    transformer = _to_wgs84(prj) if prj else None
    labels: list[str] = []  # the DBF's field names, known once the first reading has begun

    def records() -> Records:
        with tempfile.TemporaryDirectory(prefix="countyos-shp-") as tmp, ExitStack() as files:
            with zipfile.ZipFile(path) as zf:
                opened = {
                    ext: files.enter_context(open(_extract(zf, info, Path(tmp) / f"layer.{ext}"), "rb"))
                    for ext, info in members.items()
                    if ext in ("shp", "shx", "dbf")
                }
            try:
                reader = shapefile.Reader(
                    shp=opened["shp"],
                    shx=opened.get("shx"),
                    dbf=opened["dbf"],
                    encoding=encoding,
                    encodingErrors="replace",
                )
                if not labels:
                    labels.extend(f.name for f in reader.fields[1:])  # [0] is the deletion flag
                    if not prj:
                        _refuse_unprojected(reader.bbox)
                batch: list[tuple[Any, Any]] = []
                shapes_records = zip(reader.iterShapes(), reader.iterRecords(deleted_as_None=True), strict=False)
                for geometry, record in shapes_records:
                    if record is None:
                        continue  # a deleted record
                    batch.append((geometry, record))
                    if len(batch) == 4096:
                        yield from _shapefile_rows(batch, transformer, shapefile.NULL)
                        batch = []
                yield from _shapefile_rows(batch, transformer, shapefile.NULL)
            except FileRefused:
                raise
            except (shapefile.ShapefileException, OSError, ValueError, TypeError, StructError, IndexError) as exc:
                raise _reading_refused(exc) from exc

    it = records()
    try:
        sample = list(islice(it, SAMPLE_ROWS))
    finally:
        it.close()
    width = len(labels) + 1
    if width > max_columns:
        raise FileRefused(N_("The file has more than %(max)s columns"), max=max_columns)
    rows = [r for r in _shaped(sample, width) if r is not None]
    columns = _infer([label.strip() for label in labels], [r[:-1] for r in rows], reserved={GEOMETRY})
    columns.append(_geometry_column(rows))
    return ReadFile(format="shapefile", columns=columns, _records=lambda: _shaped(records(), width))


def _refuse_unprojected(bbox: Any) -> None:
    """Without a .prj, coordinates are taken as lon/lat — refused when they cannot be."""
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox)
    except (TypeError, ValueError):
        return
    if min(x0, x1) < -180 or max(x0, x1) > 180 or min(y0, y1) < -90 or max(y0, y1) > 90:
        raise FileRefused(N_("The Shapefile has no .prj and its coordinates are not longitude and latitude"))


_POINT_TYPES = frozenset({1, 11, 21})  # pyshp's POINT, POINTZ, POINTM


def _shapefile_rows(batch: list[tuple[Any, Any]], transformer: Transformer | None, null: int) -> Iterator[Cells]:
    if not batch:
        return
    geoms = np.full(len(batch), None, dtype=object)
    points = [n for n, (s, _) in enumerate(batch) if s.shapeType in _POINT_TYPES and s.points]
    if points:  # built in one call: a million points would spend seconds one by one
        geoms[points] = shapely.points(np.array([batch[n][0].points[0][:2] for n in points], dtype=float))
    for n, (s, _) in enumerate(batch):
        if s.shapeType != null and s.shapeType not in _POINT_TYPES:
            geoms[n] = to_shape(s.__geo_interface__)
    if transformer is not None:
        geoms = _reproject(geoms, transformer)
    texts = shapely.to_geojson(geoms).tolist()
    for (_, record), text in zip(batch, texts, strict=True):
        cells = [_cell_text(v) for v in record]
        cells.append(text)
        yield cells


# --- names -------------------------------------------------------------------------------------------

# SQLite keywords, PostgreSQL reserved words and system columns, and a few SQL type names.
_SQL_WORDS = """
    abort action add after all alter always analyse analyze and any array as asc asymmetric attach
    authorization autoincrement before begin between binary both by cascade case cast check collate
    collation column commit concurrently conflict constraint create cross current current_catalog
    current_date current_role current_schema current_time current_timestamp current_user database
    default deferrable deferred delete desc detach distinct do drop each else end escape except exclude
    exclusive exists explain fail false fetch filter first following for foreign freeze from full
    generated glob grant group groups having if ignore ilike immediate in index indexed initially inner
    insert instead intersect into is isnull join key last lateral leading left like limit localtime
    localtimestamp match materialized natural no not nothing notnull null nulls of offset on only or
    order others outer over overlaps partition placing plan pragma preceding primary query raise range
    recursive references regexp reindex release rename replace restrict returning right rollback row
    rows savepoint select session_user set similar some symmetric system_user table tablesample temp
    temporary then ties to trailing transaction trigger true unbounded union unique update user using
    vacuum values variadic verbose view virtual when where window with without
    oid rowid ctid xmin xmax cmin cmax tableoid date time timestamp interval
"""
SQL_WORDS = frozenset(_SQL_WORDS.split())
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def _ascii_name(label: str) -> str | None:
    if not label.isascii():
        return None
    name = _NOT_NAME.sub("_", label.lower()).strip("_")
    if not name:
        return None
    if name[0].isdigit():
        name = "c_" + name
    name = name[:63].rstrip("_")
    return name + "_" if name in SQL_WORDS else name


def safe_names(labels: Sequence[str], *, reserved: Iterable[str] = ()) -> list[str]:
    """A unique SQL identifier for each header (see the module's docstring); RESERVED are taken."""
    taken = set(reserved)
    names = []
    for position, label in enumerate(labels, start=1):
        base = _ascii_name(label) or f"c{position}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base[: 63 - len(str(n)) - 1]}_{n}"
        taken.add(name)
        names.append(name)
    return names


# --- types -------------------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]{0,14})", re.ASCII)  # no leading zero, at most 15 digits
_NUMBER = re.compile(r"[+-]?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)
_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_BOOLEANS = {"true": True, "false": False, "是": True, "否": False}
_CODE_HEADER = re.compile(
    r"代码|编码|编号|号码|电话|手机|邮编|身份证|证件|账号|帐号|卡号|区划|工号|学号|"
    r"(?:^|[^a-z])(?:code|tel|phone|mobile|zip|zipcode|postcode)(?:$|[^a-z])",
    re.IGNORECASE,
)
_DATE_HEADER = re.compile(r"日期|date", re.IGNORECASE)
_MOMENT = re.compile(
    r"([0-9]{4})(?:([-/.])([0-9]{1,2})\2([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日)"
    r"(?:(?:\s+|T)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?)?",
)


def parse_moment(text: str, *, eight_digits: bool = True) -> tuple[datetime, bool] | None:
    """A date or date-time as written in Chinese files, as a naive local datetime and whether a time of
    day was written; None when TEXT is not one (or not a real calendar date).

    Accepted: ``2024-05-01``, ``2024/5/1``, ``2024.5.1``, ``2024年5月1日``, each optionally followed by
    ``08:30[:00[.000000]]`` and a zone (``Z``, ``+08:00``: converted to UTC+8); ``20240501`` when
    EIGHT_DIGITS."""
    m = _MOMENT.fullmatch(text)
    if m is None:
        if eight_digits and len(text) == 8 and text.isascii() and text.isdigit():
            try:
                return datetime(int(text[:4]), int(text[4:6]), int(text[6:])), False
            except ValueError:
                return None
        return None
    try:
        day = datetime(int(m[1]), int(m[3] or m[5]), int(m[4] or m[6]))
        if m[7] is None:
            return day, False
        moment = day.replace(
            hour=int(m[7]), minute=int(m[8]), second=int(m[9] or 0), microsecond=int((m[10] or "0").ljust(6, "0"))
        )
    except ValueError:
        return None
    if m[11]:
        zone = m[11]
        if zone == "Z":
            offset = timedelta(0)
        else:
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            offset = -offset if zone[0] == "-" else offset
        moment = moment.replace(tzinfo=timezone(offset)).astimezone(CHINA).replace(tzinfo=None)
    return moment, True


class _Guess:
    """What the sampled values of one column could all be."""

    __slots__ = ("boolean", "code", "date", "datetime", "eight", "integer", "longest", "mobile", "number", "seen")

    def __init__(self, label: str) -> None:
        self.code = bool(_CODE_HEADER.search(label))
        self.eight = bool(_DATE_HEADER.search(label))
        self.boolean = self.integer = self.number = self.date = self.datetime = self.mobile = True
        self.seen = False
        self.longest = 0

    def add(self, value: str) -> None:
        self.seen = True
        self.longest = max(self.longest, len(value))
        if self.boolean and value.lower() not in _BOOLEANS:
            self.boolean = False
        if self.integer and _INTEGER.fullmatch(value) is None:
            self.integer = False
        if self.number and _NUMBER.fullmatch(value) is None:
            self.number = False
        if self.mobile and _MOBILE.fullmatch(value) is None:
            self.mobile = False
        if self.datetime:
            moment = parse_moment(value, eight_digits=self.eight)
            if moment is None:
                self.date = self.datetime = False
            elif moment[1]:
                self.date = False

    def type(self) -> FieldType:
        if not self.seen:
            return FieldType.TEXT
        if self.boolean:
            return FieldType.BOOLEAN
        if self.date and self.eight:
            return FieldType.DATE  # 20240501 under a date header is a date, not a number
        if self.number and not (self.code or self.mobile):
            return FieldType.INTEGER if self.integer else FieldType.NUMBER
        if self.date:
            return FieldType.DATE
        if self.datetime:
            return FieldType.DATETIME
        return FieldType.TEXT


def _infer(labels: Sequence[str], rows: Sequence[Cells], *, reserved: Iterable[str] = ()) -> list[InferredColumn]:
    """Name each column and choose the narrowest type all its sampled non-empty values fit."""
    guesses = [_Guess(label) for label in labels]
    for row in rows:
        for guess, value in zip(guesses, row, strict=False):
            if value is not None:
                guess.add(value)
    names = safe_names(labels, reserved=reserved)
    return [
        InferredColumn(name=name, label=label, type=guess.type(), max_length=guess.longest)
        for name, label, guess in zip(names, labels, guesses, strict=True)
    ]


# --- conversion --------------------------------------------------------------------------------------

NOT_INTEGER = N_("Not a whole number")
NOT_NUMBER = N_("Not a number")
NOT_DATE = N_("Not a date")
NOT_DATETIME = N_("Not a date and time")
NOT_BOOLEAN = N_("Not true or false")
NOT_GEOMETRY = N_("Not a GeoJSON geometry")
_TRUTH = {**_BOOLEANS, "yes": True, "no": False, "y": True, "n": False, "t": True, "f": False, "1": True, "0": False}
_BIGINT = 2**63


def _to_integer(value: str) -> int:
    if value.isascii() and "_" not in value:
        try:
            number = int(value)
        except ValueError:
            pass
        else:
            if -_BIGINT <= number < _BIGINT:
                return number
    raise ValueError(NOT_INTEGER)


def _to_number(value: str) -> float:
    if value.isascii() and "_" not in value:
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise ValueError(NOT_NUMBER)


def _to_date(value: str) -> date:
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    moment = parse_moment(value)
    if moment is None or moment[1]:
        raise ValueError(NOT_DATE)
    return moment[0].date()


def _to_datetime(value: str) -> datetime:
    if len(value) >= 16 and value[4] == "-" and value[7] == "-" and value[10] in " T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment.astimezone(CHINA).replace(tzinfo=None) if moment.tzinfo else moment
    found = parse_moment(value)
    if found is None:
        raise ValueError(NOT_DATETIME)
    return found[0]


def _to_boolean(value: str) -> bool:
    try:
        return _TRUTH[value.lower()]
    except KeyError:
        raise ValueError(NOT_BOOLEAN) from None


def _to_geometry(value: str) -> str:
    if not value.startswith("{"):
        raise ValueError(NOT_GEOMETRY)
    return value


def _to_text(value: str) -> str:
    return value


_CONVERTERS: dict[FieldType, Callable[[str], object]] = {
    FieldType.INTEGER: _to_integer,
    FieldType.NUMBER: _to_number,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.TEXT: _to_text,
    FieldType.GEOMETRY: _to_geometry,
}


def converter(type: FieldType) -> Callable[[str], object]:
    """The function :func:`convert` applies to a non-empty value of TYPE (for a loop over many rows)."""
    return _CONVERTERS[type]


_ISO_DATES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}\x1f)*")


def convert_column(values: Sequence[str | None], type: FieldType) -> list[Any]:
    """``[convert(v, TYPE) for v in VALUES]``, faster for a column of many values (a TEXT column: VALUES
    itself when it is a list); raises ValueError as :func:`convert` does."""
    if None in values or "" in values:
        conv = _CONVERTERS[type]
        return [conv(v) if v else None for v in values]
    texts = cast(Sequence[str], values)
    if type is FieldType.TEXT:
        return values if isinstance(values, list) else list(values)
    try:
        fast = _fast_column(texts, type)
    except ValueError:
        fast = None  # the value-by-value conversion below raises with the message of the first bad one
    if fast is not None:
        return fast
    conv = _CONVERTERS[type]
    return [conv(v) for v in texts]


def _fast_column(texts: Sequence[str], type: FieldType) -> list[Any] | None:
    """The converted column when every value is in the form most files write, else None."""
    if type in (FieldType.NUMBER, FieldType.INTEGER):
        joined = "".join(texts)
        if not joined.isascii() or "_" in joined:  # what _to_number and _to_integer ask of each value
            return None
        if type is FieldType.NUMBER:
            floats = list(map(float, texts))
            return floats if math.isfinite(sum(floats)) else None  # no inf, no nan (nor a sum past 1.8e308)
        ints = list(map(int, texts))
        return ints if not ints or (min(ints) >= -_BIGINT and max(ints) < _BIGINT) else None
    if type is FieldType.DATE and iso_dates(texts):
        return list(map(date.fromisoformat, texts))  # ValueError for 2024-02-30
    return None


def iso_dates(values: Sequence[str | None]) -> bool:
    """Whether every value is written as 2024-05-01 (a date's form in :func:`convert`; not whether it is
    a real date). ``date.fromisoformat`` alone would take other forms too (20240501, 2024-W18-3)."""
    if None in values:
        return False
    return _ISO_DATES.fullmatch("\x1f".join(cast(Sequence[str], values)) + "\x1f") is not None


def convert(value: str | None, type: FieldType) -> object:
    """VALUE as TYPE: int, float, date, datetime (naive, the county's local time), bool or str; None
    when empty. A value that is not of the type raises ValueError whose message is an English message id
    (``Not a whole number`` …). NUMBER takes whole numbers too, DATETIME takes dates (at midnight)."""
    if not value:
        return None
    return _CONVERTERS[type](value)
