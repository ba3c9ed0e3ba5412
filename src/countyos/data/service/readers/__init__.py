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

One module a part: ``base`` (the shapes and limits), ``tabular`` (header and sample), ``delimited`` (CSV),
``xlsx``, ``jsonfiles`` (JSON and GeoJSON), ``shapefile``, ``names`` (safe SQL names), ``types``
(inference, dates as written) and ``convert``; what other modules use is imported from here.

Bounds: zip archives (a Shapefile, an XLSX) are refused past :data:`MAX_ZIP_MEMBERS` members (XLSX:
:data:`MAX_XLSX_MEMBERS`), :data:`MAX_UNCOMPRESSED` bytes in all or a member that expands more than
:data:`MAX_RATIO` times; a CSV line past :data:`MAX_LINE` characters and more than ``max_columns``
columns are refused. The caller bounds the upload's size.
"""

from __future__ import annotations

from pathlib import Path

from countyos.core.i18n import N_
from countyos.data.service.readers.base import (
    BLOCK_ROWS,
    CHUNK,
    GEOMETRY,
    MAX_LINE,
    MAX_RATIO,
    MAX_UNCOMPRESSED,
    MAX_XLSX_MEMBERS,
    MAX_ZIP_MEMBERS,
    RATIO_FROM,
    SAMPLE_ROWS,
    Block,
    CsvSource,
    FileRefused,
    InferredColumn,
    ReadFile,
)
from countyos.data.service.readers.convert import convert, convert_column, converter, iso_dates
from countyos.data.service.readers.delimited import _open_csv, csv_block
from countyos.data.service.readers.jsonfiles import _open_json
from countyos.data.service.readers.names import SQL_WORDS, safe_names
from countyos.data.service.readers.shapefile import _open_shapefile
from countyos.data.service.readers.types import parse_moment
from countyos.data.service.readers.xlsx import _open_xlsx

__all__ = [
    "BLOCK_ROWS",
    "CHUNK",
    "GEOMETRY",
    "MAX_LINE",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "MAX_XLSX_MEMBERS",
    "MAX_ZIP_MEMBERS",
    "RATIO_FROM",
    "SAMPLE_ROWS",
    "SQL_WORDS",
    "Block",
    "CsvSource",
    "FileRefused",
    "InferredColumn",
    "ReadFile",
    "convert",
    "convert_column",
    "converter",
    "csv_block",
    "iso_dates",
    "open_file",
    "parse_moment",
    "safe_names",
]


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
