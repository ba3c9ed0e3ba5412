"""JSON (an array of objects, or an object holding one) and GeoJSON, streamed; geometries as WGS-84 GeoJSON."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Generator, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape as to_shape

from countyos.core.i18n import N_
from countyos.data.codes import FieldType
from countyos.data.service.readers.base import (
    CHUNK,
    GEOMETRY,
    SAMPLE_ROWS,
    Cells,
    FileRefused,
    InferredColumn,
    ReadFile,
    Records,
)
from countyos.data.service.readers.tabular import _shaped
from countyos.data.service.readers.types import _infer

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
