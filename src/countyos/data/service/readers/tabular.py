"""A header row, then data rows (CSV, XLSX): the columns named and typed from a sample."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from countyos.core.i18n import N_
from countyos.data.service.readers.base import SAMPLE_ROWS, Cells, FileRefused, ReadFile, Records
from countyos.data.service.readers.types import _infer


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
