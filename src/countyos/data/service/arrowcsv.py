"""A CSV read, trimmed and converted with Arrow: column by column in native code, for the big files.

The loader's fast way through the common large file (UTF-8 text, the header on the first line, every
record as wide as the header, values in the forms most systems write). It gives exactly what the csv
module's way gives for the same rows (``readers.ReadFile.blocks`` then ``readers.convert_column``) or
it gives up, so the csv module's way stays the definition:

- :func:`batches` yields the file's records as Arrow text, a few megabytes at a time; it raises
  :class:`GiveUp` when the file is not one it reads exactly as the csv module does (another encoding, a
  line past ``readers.MAX_LINE``, a record of another width, an empty line): the loader then starts
  again the csv module's way;
- :func:`prepare` trims the cells as ``str.strip`` does, makes empty ones null, leaves blank records
  out and converts each column to its type; it returns None when a value is not in the form the native
  conversion takes exactly (``+5``, ``2024/5/1``, a time of day, ``是``…): that batch then goes the csv
  module's way, value by value (:func:`as_block`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from countyos.data.codes import FieldType
from countyos.data.service import readers

BATCH_BYTES = 8 * 1024**2  # of the file per batch: some 60,000 rows of a register
WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())  # what str.strip removes
# The bytes a whitespace character ends with in UTF-8, and the byte before its last (multi-byte ones).
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[ord(c) for c in WHITESPACE if ord(c) < 128]] = True
_LAST = np.zeros(256, dtype=bool)
_BEFORE_LAST = np.zeros(256, dtype=bool)
for _c in WHITESPACE:
    _b = _c.encode()
    if len(_b) > 1:
        _LAST[_b[-1]] = _BEFORE_LAST[_b[-2]] = True
_LEADS = np.zeros(256, dtype=bool)  # the first byte of a whitespace character
_LEADS[[c.encode()[0] for c in WHITESPACE]] = True

_INTEGER = r"^[+-]?[0-9]{1,18}$"  # Arrow and int() read these alike (int64; more digits: the csv way)
_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$"  # as float() does, finite
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.TEXT: pa.string(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("us"),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.GEOMETRY: pa.string(),
}


class GiveUp(Exception):
    """The file needs the csv module's way of reading."""


@dataclass
class Prepared:
    """A batch's rows that are not blank: their numbers in the file and, for each wanted column, its
    cells as text (trimmed, null when empty) and its values as the column's type (an Arrow array, or
    a list when the type is converted by Python: date-times, booleans)."""

    numbers: np.ndarray
    text: list[pa.Array]
    typed: list[pa.Array | list[Any]]
    _lists: dict[int, list[Any]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.numbers)

    def text_list(self, k: int) -> list[str | None]:
        """Column K's cells as Python strings (made once: a rule and the insert may both want them)."""
        if k not in self._lists:
            self._lists[k] = self.text[k].to_pylist()
        return self._lists[k]

    def only(self, passed: Sequence[bool]) -> Prepared:
        """The rows whose PASSED is true."""
        mask = np.fromiter(passed, dtype=bool, count=len(passed))
        keep = pa.array(mask)
        typed = [
            t.filter(keep) if isinstance(t, pa.Array) else [v for v, k in zip(t, mask, strict=True) if k]
            for t in self.typed
        ]
        return Prepared(numbers=self.numbers[mask], text=[t.filter(keep) for t in self.text], typed=typed)


def batches(source: readers.CsvSource) -> Iterator[tuple[int, pa.RecordBatch]]:
    """The file's records after the header, as text (null when empty), with the number of records
    before each batch. Raises :class:`GiveUp` (also part-way) for a file to read the csv module's way."""
    if source.encoding not in ("utf-8", "utf-8-sig") or not source.short_lines:
        raise GiveUp()
    try:
        with open(source.path, encoding=source.encoding, newline="") as f:
            header = next(csv.reader(f, delimiter=source.delimiter), [])
    except (csv.Error, UnicodeError) as exc:  # the csv way says what is wrong
        raise GiveUp() from exc
    if not any(c.strip() for c in header):  # blank lines before the header: the csv way finds it
        raise GiveUp()
    names = [f"f{n}" for n in range(len(header))]
    try:
        reader = pacsv.open_csv(
            source.path,
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=BATCH_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=source.delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],  # only an empty cell: "NA", "null", "nan" are values (Arrow's default takes them)
                strings_can_be_null=True,
                check_utf8=False,  # the whole file was decoded once when opened (readers.delimited)
            ),
        )
        before = 0
        for batch in reader:
            yield before, batch
            before += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise GiveUp() from exc


def _needs_trim(a: pa.Array) -> bool:
    """Whether a value may start or end with whitespace (a cheap look at first and last bytes; a few
    false alarms, e.g. a value ending in 倀 (U+5000), only cost an exact trim)."""
    offsets_buf, data_buf = a.buffers()[1], a.buffers()[2]
    if data_buf is None or len(a) == 0:
        return False
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[a.offset : a.offset + len(a) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    starts, ends = starts[filled], ends[filled]
    if _LEADS[data[starts]].any() or _ASCII_SPACE[data[ends - 1]].any():
        return True
    long_enough = ends - starts >= 2
    last, before_last = data[ends[long_enough] - 1], data[ends[long_enough] - 2]
    return bool((_LAST[last] & _BEFORE_LAST[before_last]).any())


def _trimmed(a: pa.Array) -> pa.Array:
    """The cells as ``c.strip() or None`` makes them."""
    if _needs_trim(a):
        a = pc.utf8_trim(a, characters=WHITESPACE)
        if pc.any(pc.equal(a, "")).as_py():
            a = pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)
    return a


def _all_match(a: pa.Array, pattern: str) -> bool:
    if a.null_count == len(a):
        return True
    return bool(pc.all(pc.match_substring_regex(a, pattern)).as_py())


def _converted(a: pa.Array, kind: FieldType) -> pa.Array | list[Any] | None:
    """The column as KIND, as ``readers.convert_column`` converts it; None when a value needs the csv
    module's way (for its conversion or for its refusal)."""
    try:
        if kind is FieldType.TEXT:
            return a
        if kind is FieldType.INTEGER:
            return pc.cast(a, pa.int64()) if _all_match(a, _INTEGER) else None
        if kind is FieldType.NUMBER:
            if not _all_match(a, _NUMBER):
                return None
            numbers = pc.cast(a, pa.float64())
            return numbers if pc.all(pc.is_finite(numbers)).as_py() is not False else None
        if kind is FieldType.DATE:
            if not _all_match(a, _ISO_DATE) or pc.any(pc.starts_with(a, "0000")).as_py():
                return None  # year 0 is no date in Python
            return pc.cast(a, pa.date32())  # ArrowInvalid for 2024-02-30
        if kind is FieldType.GEOMETRY:
            return a if a.null_count == len(a) or pc.all(pc.starts_with(a, "{")).as_py() else None
        return readers.convert_column(a.to_pylist(), kind)  # date-times, booleans
    except (pa.ArrowInvalid, ValueError):
        return None


_PLAIN = frozenset({FieldType.INTEGER, FieldType.NUMBER, FieldType.DATE})  # their forms hold no whitespace


def prepare(
    batch: pa.RecordBatch, before: int, width: int, positions: Sequence[int], types: Sequence[FieldType]
) -> Prepared | None:
    """BATCH (its first record the file's record number BEFORE + 1) trimmed and converted: the columns
    at POSITIONS (among the file's first WIDTH) as TYPES. None: the csv module's way for this batch."""
    n = batch.num_rows
    present = batch.num_columns

    def column(k: int) -> pa.Array:
        return _trimmed(batch.column(k)) if k < present else pa.nulls(n, pa.string())

    wanted: dict[int, pa.Array] = {}
    converted: dict[int, pa.Array | list[Any] | None] = {}
    for p, kind in zip(positions, types, strict=True):
        if kind in _PLAIN and p < present:  # a number or date in its plain form needs no trimming
            converted[p] = _converted(batch.column(p), kind)
            if converted[p] is not None:
                wanted[p] = batch.column(p)
                continue
        wanted[p] = column(p)
        converted[p] = None
    numbers = np.arange(before + 1, before + n + 1, dtype=np.int64)
    keep: pa.Array | None = None
    if all(a.null_count for a in wanted.values()):  # some record may be blank: look at every column
        blank = pa.array(np.ones(n, dtype=bool))
        for k in range(width):
            blank = pc.and_(blank, pc.is_null(wanted[k] if k in wanted else column(k)))
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            numbers = numbers[keep.to_numpy(zero_copy_only=False)]
    text = [wanted[p] if keep is None else wanted[p].filter(keep) for p in positions]
    typed: list[pa.Array | list[Any]] = []
    for a, p, kind in zip(text, positions, types, strict=True):
        values = converted[p] if keep is None else None
        if values is None:
            values = _converted(a, kind)
            if values is None:
                return None
        typed.append(values)
    return Prepared(numbers=numbers, text=text, typed=typed)


def as_block(batch: pa.RecordBatch, before: int, width: int) -> readers.Block:
    """BATCH as the csv module's way makes its block (``readers.csv_block`` of the records as parsed)."""
    columns = [batch.column(k).to_pylist() for k in range(batch.num_columns)]
    raw = [["" if c is None else c for c in record] for record in zip(*columns, strict=True)]
    return readers.csv_block(raw, before, width)


def python_column(values: pa.Array | list[Any]) -> list[Any]:
    """A typed column as Python values (numbers through numpy when none is missing: faster)."""
    if isinstance(values, list):
        return values
    if values.null_count == 0 and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return values.to_numpy().tolist()  # type: ignore[no-any-return]
    return values.to_pylist()  # type: ignore[no-any-return]


def arrow_column(values: pa.Array | list[Any], kind: FieldType) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values, type=ARROW_TYPES[kind])


def distinct(values: pa.Array | list[Any]) -> list[Any] | pa.Array:
    """The distinct values of a column (Python's list as it is: a set takes it)."""
    return values if isinstance(values, list) else pc.unique(values).to_pylist()


def arrow_columns(prepared: Prepared, types: Sequence[FieldType]) -> list[pa.Array]:
    """The rows as Arrow arrays of the table's column types: the row's number (``int4``), then its values."""
    return [pa.array(prepared.numbers, type=pa.int32())] + [
        arrow_column(t, kind) for t, kind in zip(prepared.typed, types, strict=True)
    ]
