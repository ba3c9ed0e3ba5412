"""The shapes every reader shares: limits, a read file, its columns and blocks, the refusal."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import Any

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


def check_zip(path: Path, *, max_members: int) -> list[zipfile.ZipInfo]:
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
