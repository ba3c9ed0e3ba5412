"""A zipped ESRI Shapefile: its members checked, its DBF decoded, its geometries reprojected to WGS-84."""

from __future__ import annotations

import codecs
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from itertools import islice
from pathlib import Path
from struct import error as StructError
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape as to_shape

from countyos.core.i18n import N_
from countyos.data.service.readers.base import (
    CHUNK,
    GEOMETRY,
    MAX_ZIP_MEMBERS,
    SAMPLE_ROWS,
    Cells,
    FileRefused,
    ReadFile,
    Records,
    check_zip,
)
from countyos.data.service.readers.jsonfiles import _geometry_column, _reproject, _to_wgs84
from countyos.data.service.readers.tabular import _reading_refused, _shaped
from countyos.data.service.readers.types import _infer
from countyos.data.service.readers.xlsx import _cell_text

# --- zipped Shapefile --------------------------------------------------------------------------------


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

    members = _shapefile_members(check_zip(path, max_members=MAX_ZIP_MEMBERS))
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
