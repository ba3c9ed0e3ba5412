"""CSV text: its encoding, delimiter and lines, read by the csv module a block at a time."""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import IO

from countyos.core.i18n import N_
from countyos.data.service.readers.base import CHUNK, MAX_LINE, Block, CsvSource, FileRefused, ReadFile, Records
from countyos.data.service.readers.tabular import _reading_refused, _tabular

# --- CSV ---------------------------------------------------------------------------------------------


def _text_encoding(path: Path) -> tuple[str, bool]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK) — the whole file
    must decode, so that a Chinese value past the first megabyte cannot break the load half-way — and
    whether every line is known to be at most :data:`MAX_LINE` characters long."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            f.seek(0)
            text = codecs.getincrementaldecoder("utf-8-sig")()
            lines = _Lines()
            try:
                while chunk := f.read(CHUNK):
                    text.decode(chunk)
                    lines.feed(chunk)
                text.decode(b"", final=True)
            except UnicodeDecodeError:
                raise FileRefused(N_("The file is not text in UTF-8 or GBK")) from None
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
