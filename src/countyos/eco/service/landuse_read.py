"""Reading a land-use file and measuring it: areas by accounting class (hectares) for the whole file and
for each zone (division polygon) given, computed in an equal-area projection.

No database here: the command line measures a file without one, the stored layers (``landuse.py``)
pass the county's divisions as zones.

- Vectors (GeoJSON, zipped Shapefile, GeoPackage; pyogrio): each polygon in the source CRS (from the
  file; a GeoJSON without one is EPSG:4326 per RFC 7946), densified in lon/lat, projected to the
  Albers equal-area conic for China (``ALBERS``, GRS80 = the CGCS2000 ellipsoid) and intersected with
  each zone there (shapely).
- Rasters (GeoTIFF; rasterio): each pixel's true area: on a lon/lat grid the area of the cell on the
  ellipsoid, exact per row (``cell_area_m2``); on a projected grid the area of the pixel's corners in
  ``ALBERS`` (per block of ``BLOCK`` × ``BLOCK`` pixels, where the scale is constant far below 0.01 %);
  pixels are assigned to zones by their centre, zones rasterized in the raster's CRS
  (``rasterio.features``).

Classes are mapped by a ``Mapping`` (data: a JSON file or a stored mapping); source classes it does not
name are reported with their area, never guessed. A target of ``-`` leaves a source class out on
purpose (no data, clouds).
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.assets import FileKind

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
EXCLUDED = "-"  # a mapping's target that leaves the source class out on purpose
DENSIFY_DEG = 0.01  # lon/lat edges are split to this length before projecting
BLOCK = 16  # projected rasters: pixel area per block of BLOCK x BLOCK pixels
PREVIEW_POINTS = 20_000  # bound of the map preview (vertices, all classes)
PREVIEW_CELLS = 200  # a raster preview is vectorized from at most this many cells a side
M2_PER_HA = 10_000.0

# GRS80 / CGCS2000 ellipsoid
A_AXIS = 6378137.0
FLATTENING = 1 / 298.257222101
E2 = FLATTENING * (2 - FLATTENING)


@dataclass(frozen=True)
class Limits:
    """Bounds of one file: bytes, features, vertices, pixels."""

    max_bytes: int = 64 * 1024 * 1024
    max_features: int = 100_000
    max_vertices: int = 5_000_000
    max_pixels: int = 40_000_000


LIMITS = Limits()


# --- classes and mappings -----------------------------------------------------------------------


def _data_path(*parts: str) -> Path:
    return Path(str(resources.files("countyos.eco").joinpath("data", *parts)))


@dataclass(frozen=True)
class LandClass:
    code: str
    zh: str
    en: str
    group: str
    group_zh: str
    esv: bool
    color: str


@cache
def classes() -> dict[str, LandClass]:
    """The accounting classes (Xie 2015 二级 + 建设用地), in the table's order."""
    raw = json.loads(_data_path("landuse_classes.json").read_text(encoding="utf-8"))
    return {c["code"]: LandClass(**c) for c in raw["classes"]}


@dataclass(frozen=True)
class Mapping:
    """Source class (code or name, as text) → accounting class code (or ``EXCLUDED``); for vectors the
    attribute ``field`` to read, else the first of ``fields`` the file has."""

    classes: dict[str, str]
    field: str | None = None
    fields: tuple[str, ...] = ()
    name: str = ""

    def target(self, source: str) -> str | None:
        s = source.strip()
        return self.classes.get(s) or self.classes.get(s.lower())

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "field": self.field, "fields": list(self.fields), "classes": self.classes}


MAX_MAPPING_ENTRIES = 2_000
DEFAULT_FIELDS = ("class", "class_code", "landuse", "lucc", "lc", "dlbm", "dlmc", "type", "code", "name", "地类")


def mapping_from(data: Any, *, name: str = "") -> Mapping:
    """A mapping from its JSON: ``{"field": …, "classes": {source: class}}`` or a flat ``{source: class}``."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed(N_("The mapping is not valid JSON"), errors=[_err("mapping", str(exc))]) from exc
    if not isinstance(data, dict):
        raise ValidationFailed(N_("The mapping must be a JSON object"), errors=[_err("mapping", "Not valid")])
    meta_keys = ("field", "fields", "name", "source")
    nested = isinstance(data.get("classes"), dict)
    pairs = data["classes"] if nested else {k: v for k, v in data.items() if k not in meta_keys}
    field_name = data.get("field") if isinstance(data.get("field"), str) and data.get("field") else None
    raw = data.get("fields")
    raw_fields: list[Any] = raw if isinstance(raw, list) else []
    fields = tuple(str(f) for f in raw_fields if isinstance(f, str))
    known = classes()
    out: dict[str, str] = {}
    bad: list[str] = []
    for k, v in pairs.items():
        if not isinstance(v, str) or (v not in known and v != EXCLUDED):
            bad.append(f"{k} → {v}")
            continue
        out[str(k).strip()] = v
    if len(out) > MAX_MAPPING_ENTRIES:
        raise ValidationFailed(N_("The mapping has more than %(max)s entries"), max=MAX_MAPPING_ENTRIES)
    if bad:
        raise ValidationFailed(
            N_("The mapping names classes that are not accounting classes: %(names)s"),
            names=", ".join(bad[:20]),
            errors=[_err("mapping", "Not valid")],
        )
    return Mapping(out, field_name, fields, str(data.get("name") or name))


def default_mapping() -> Mapping:
    """The class code itself, its Chinese and English names."""
    out: dict[str, str] = {}
    for c in classes().values():
        for key in (c.code, c.zh, c.en.lower()):
            out[key] = c.code
    return Mapping(out, None, (), "default")


@cache
def builtin_mappings() -> dict[str, Mapping]:
    """The example mappings kept as data (``data/landuse_mappings/*.json``), by file stem."""
    out = {}
    for p in sorted(_data_path("landuse_mappings").glob("*.json")):
        out[p.stem] = mapping_from(json.loads(p.read_text(encoding="utf-8")), name=p.stem)
    return out


def _err(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message}


# --- file kinds ---------------------------------------------------------------------------------


def detect_kind(data: bytes, filename: str = "") -> FileKind:
    """The kind of a land-use file, by its first bytes (the name only breaks no tie)."""
    head = data[:16]
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return FileKind.GEOTIFF
    if head[:4] == b"PK\x03\x04":
        return FileKind.SHAPEFILE
    if head.startswith(b"SQLite format 3"):
        return FileKind.GEOPACKAGE
    if data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return FileKind.GEOJSON
    raise ValidationFailed(
        N_("%(file)s is not GeoJSON, a zipped Shapefile, a GeoPackage or a GeoTIFF"),
        file=filename or "?",
        errors=[_err("file", "Not valid")],
    )


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    """A division polygon (lon/lat, CGCS2000 ≈ WGS-84) to measure within."""

    code: str
    geom: BaseGeometry


@dataclass
class Measured:
    """A file measured: hectares by class for the whole file ("") and each zone, the source classes
    with their hectares and which of them had no target, the CRS, counts, a small preview."""

    kind: FileKind
    crs: str
    field: str | None
    areas: dict[str, dict[str, float]]  # zone code ("" = the whole file) → class → ha
    source_classes: dict[str, float]  # source class → ha (whole file)
    mapped: dict[str, str]  # source class → target used
    unmapped: dict[str, float]  # source class → ha, not counted
    excluded: dict[str, float]  # source class → ha, left out on purpose
    features: int = 0
    pixels: int = 0
    skipped: int = 0  # features without a polygon
    preview: list[dict[str, Any]] = dc_field(default_factory=list)  # {"c": class, "g": GeoJSON geometry}

    @property
    def total_ha(self) -> float:
        return sum(self.areas.get("", {}).values())


def _source_crs(crs: str | None, kind: FileKind) -> CRS:
    if not crs:
        if kind == FileKind.GEOJSON:
            return CRS.from_epsg(4326)
        raise ValidationFailed(
            N_("The file names no coordinate system; add a .prj (Shapefile) or an SRS"),
            errors=[_err("file", "Not valid")],
        )
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        raise ValidationFailed(N_("Unknown coordinate system %(crs)s"), crs=crs) from exc


def crs_label(c: CRS) -> str:
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else (c.name or c.to_string())


def _xy(t: Transformer) -> Any:
    return lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1]))


def _to_albers(geoms: Sequence[BaseGeometry], src: CRS) -> np.ndarray[Any, Any]:
    arr = np.asarray(geoms, dtype=object)
    if src.is_geographic:
        arr = shapely.segmentize(arr, DENSIFY_DEG)
    t = Transformer.from_crs(src, CRS.from_proj4(ALBERS), always_xy=True)
    out = np.asarray(shapely.transform(arr, _xy(t)), dtype=object)
    bad = ~shapely.is_valid(out)
    if bad.any():  # a ring that touches itself after projecting
        out[bad] = [_polygonal(g) or shapely.Polygon() for g in shapely.make_valid(out[bad])]
    return out


def _lonlat(geoms: Sequence[BaseGeometry], src: CRS) -> np.ndarray[Any, Any]:
    arr = np.asarray(geoms, dtype=object)
    if src.is_geographic:
        return arr
    t = Transformer.from_crs(src, CRS.from_epsg(4326), always_xy=True)
    return np.asarray(shapely.transform(arr, _xy(t)), dtype=object)


def _polygonal(g: BaseGeometry | None) -> BaseGeometry | None:
    if g is None or g.is_empty:
        return None
    if g.geom_type not in ("Polygon", "MultiPolygon"):
        if g.geom_type != "GeometryCollection":
            return None
        parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            return None
        g = shapely.union_all(parts)
    if not g.is_valid:
        g = shapely.make_valid(g)
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            return _polygonal(g) if g.geom_type == "GeometryCollection" else None
    return g


def _source_key(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if math.isnan(float(value)):
            return ""
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def _sum_by(keys: Iterable[str], values: Iterable[float]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for k, v in zip(keys, values, strict=True):
        out[k] += float(v)
    return dict(out)


def _split(by_source: dict[str, float], mapping: Mapping) -> tuple[dict[str, str], dict[str, float], dict[str, float]]:
    mapped: dict[str, str] = {}
    unmapped: dict[str, float] = {}
    excluded: dict[str, float] = {}
    for s, ha in by_source.items():
        t = mapping.target(s)
        if t is None:
            unmapped[s] = ha
        elif t == EXCLUDED:
            excluded[s] = ha
        else:
            mapped[s] = t
    return mapped, unmapped, excluded


# --- vectors ------------------------------------------------------------------------------------


def _choose_field(names: list[str], values: dict[str, list[str]], mapping: Mapping) -> str:
    lower = {n.lower(): n for n in names}
    if mapping.field:
        if mapping.field in names:
            return mapping.field
        if mapping.field.lower() in lower:
            return lower[mapping.field.lower()]
        raise ValidationFailed(
            N_("The file has no attribute %(field)s; it has %(names)s"),
            field=mapping.field,
            names=", ".join(names[:30]),
            errors=[_err("mapping", "Not valid")],
        )
    preferred = [lower[f.lower()] for f in (*mapping.fields, *DEFAULT_FIELDS) if f.lower() in lower]
    hits = {n: sum(1 for v in set(values[n]) if v and mapping.target(v) is not None) for n in names}
    best = max(
        names, key=lambda n: (hits[n], n in preferred, -preferred.index(n) if n in preferred else 0), default=None
    )
    if best is not None and hits[best] > 0:
        return best  # the attribute whose values the mapping knows best
    if preferred:
        return preferred[0]  # its classes are then reported as unmapped
    raise ValidationFailed(
        N_('No attribute of the file holds the classes; name it in the mapping ("field")'),
        errors=[_err("mapping", "Not valid")],
    )


def _read_vector(
    data: bytes, kind: FileKind, mapping: Mapping, limits: Limits
) -> tuple[list[Any], list[str], CRS, str]:
    from pyogrio import raw
    from pyogrio.errors import DataSourceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            info = raw.read(io.BytesIO(data), read_geometry=False, max_features=0)[0]
            names = [str(n) for n in info["fields"]]
            meta, _fids, wkb, field_data = raw.read(io.BytesIO(data), max_features=limits.max_features + 1)
    except (DataSourceError, ValueError, RuntimeError) as exc:
        raise ValidationFailed(
            N_("The file could not be read as GeoJSON, a zipped Shapefile or a GeoPackage: %(reason)s"),
            reason=str(exc),
            errors=[_err("file", "Not valid")],
        ) from exc
    if len(wkb) > limits.max_features:
        raise PayloadTooLarge(N_("The file has more than %(max)s features; split it"), max=limits.max_features)
    names = [str(n) for n in meta["fields"]]
    values = {n: [_source_key(v) for v in field_data[j]] for j, n in enumerate(names)}
    field_name = _choose_field(names, values, mapping)
    src = _source_crs(meta.get("crs"), kind)
    return list(wkb), values[field_name], src, field_name


def _measure_vector(
    data: bytes, kind: FileKind, mapping: Mapping, zones: Sequence[Zone], limits: Limits, preview: bool
) -> Measured:
    wkb, keys, src, field_name = _read_vector(data, kind, mapping, limits)
    geoms: list[BaseGeometry] = []
    source: list[str] = []
    skipped = 0
    vertices = 0
    for g, k in zip(wkb, keys, strict=True):
        poly = _polygonal(shapely.from_wkb(g) if g is not None else None)
        if poly is None:
            skipped += 1
            continue
        vertices += int(shapely.get_num_coordinates(poly))
        if vertices > limits.max_vertices:
            raise PayloadTooLarge(N_("The file has more than %(max)s vertices; split it"), max=limits.max_vertices)
        geoms.append(poly)
        source.append(k)
    projected = _to_albers(geoms, src) if geoms else np.asarray([], dtype=object)
    ha = shapely.area(projected) / M2_PER_HA if geoms else np.asarray([])
    by_source = _sum_by(source, ha)
    mapped, unmapped, excluded = _split(by_source, mapping)
    target = [mapped.get(s) for s in source]
    areas: dict[str, dict[str, float]] = {
        "": _sum_by((t for t in target if t), (a for a, t in zip(ha, target, strict=True) if t))
    }
    if zones and geoms:
        keep = np.asarray([t is not None for t in target])
        kept = projected[keep]
        kept_class = [t for t in target if t is not None]
        tree = shapely.STRtree(kept)
        zone_geoms = _to_albers([z.geom for z in zones], CRS.from_epsg(4326))
        for z, zg in zip(zones, zone_geoms, strict=True):
            hits = tree.query(zg, predicate="intersects")
            if len(hits) == 0:
                areas[z.code] = {}
                continue
            inside = shapely.area(shapely.intersection(kept[hits], zg)) / M2_PER_HA
            areas[z.code] = {k: v for k, v in _sum_by((kept_class[i] for i in hits), inside).items() if v > 0}
    out = Measured(kind, crs_label(src), field_name, areas, by_source, mapped, unmapped, excluded,
                   features=len(wkb), skipped=skipped)  # fmt: skip
    if preview and geoms:
        order = np.argsort(-ha)
        out.preview = _preview([geoms[i] for i in order], [target[i] or "" for i in order], src)
    return out


def _preview(geoms: Sequence[BaseGeometry], cls: Sequence[str], src: CRS) -> list[dict[str, Any]]:
    """The largest polygons first, simplified in lon/lat until the whole fits ``PREVIEW_POINTS``."""
    lonlat = _lonlat(geoms, src)
    if len(lonlat) == 0:
        return []
    x0, y0, x1, y1 = shapely.total_bounds(lonlat)
    tolerance = max(x1 - x0, y1 - y0) / 2000 or 1e-6
    for _ in range(8):
        simple = shapely.simplify(lonlat, tolerance, preserve_topology=True)
        counts = shapely.get_num_coordinates(simple)
        if int(counts.sum()) <= PREVIEW_POINTS:
            break
        tolerance *= 2
    out: list[dict[str, Any]] = []
    used = 0
    for g, c, n in zip(simple, cls, counts, strict=True):
        if not c or g is None or g.is_empty:
            continue
        if used + int(n) > PREVIEW_POINTS:
            break
        used += int(n)
        out.append({"c": c, "g": json.loads(shapely.to_geojson(shapely.set_precision(g, 1e-5)))})
    return out


# --- rasters ------------------------------------------------------------------------------------


def _authalic(lat_rad: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Area on the ellipsoid between the equator and latitude φ per radian of longitude (m²)."""
    e = math.sqrt(E2)
    s = np.sin(lat_rad)
    b2 = A_AXIS * A_AXIS * (1 - E2)
    return np.asarray(b2 / 2 * (s / (1 - E2 * s * s) + np.log((1 + e * s) / (1 - e * s)) / (2 * e)))


def cell_area_m2(lat1: Any, lat2: Any, dlon_deg: float) -> Any:
    """Area on the GRS80 ellipsoid of the cell between two parallels and ``dlon_deg`` of longitude."""
    a1 = _authalic(np.radians(np.asarray(lat1, dtype=float)))
    a2 = _authalic(np.radians(np.asarray(lat2, dtype=float)))
    return np.abs(a2 - a1) * math.radians(abs(dlon_deg))


def _pixel_areas(transform: Any, width: int, height: int, src: CRS) -> np.ndarray[Any, Any]:
    """Each pixel's area in m² (height x width)."""
    if src.is_geographic:
        rows = np.arange(height + 1, dtype=float)
        lats = transform.f + rows * transform.e
        per_row = cell_area_m2(lats[:-1], lats[1:], transform.a)
        return np.broadcast_to(per_row[:, None], (height, width))
    t = Transformer.from_crs(src, CRS.from_proj4(ALBERS), always_xy=True)
    rb = np.arange(0, height, BLOCK) + np.minimum(BLOCK, height - np.arange(0, height, BLOCK)) / 2 - 0.5
    cb = np.arange(0, width, BLOCK) + np.minimum(BLOCK, width - np.arange(0, width, BLOCK)) / 2 - 0.5
    cc, rr = np.meshgrid(cb, rb)
    corners = []
    for dr, dc in ((0, 0), (0, 1), (1, 1), (1, 0)):
        x = transform.c + (cc + dc) * transform.a + (rr + dr) * transform.b
        y = transform.f + (cc + dc) * transform.d + (rr + dr) * transform.e
        corners.append(t.transform(x, y))
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    block = 0.5 * np.abs(sum(xs[i] * ys[(i + 1) % 4] - xs[(i + 1) % 4] * ys[i] for i in range(4)))
    full = np.repeat(np.repeat(block, BLOCK, axis=0), BLOCK, axis=1)
    return np.asarray(full[:height, :width])


def _measure_raster(data: bytes, mapping: Mapping, zones: Sequence[Zone], limits: Limits, preview: bool) -> Measured:
    from rasterio import features
    from rasterio.errors import RasterioError
    from rasterio.io import MemoryFile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mem = MemoryFile(data)
            ds = mem.open()
    except (RasterioError, ValueError) as exc:
        raise ValidationFailed(
            N_("The file could not be read as a GeoTIFF: %(reason)s"),
            reason=str(exc),
            errors=[_err("file", "Not valid")],
        ) from exc
    with mem, ds:
        if ds.width * ds.height > limits.max_pixels:
            raise PayloadTooLarge(N_("The raster has more than %(max)s pixels; split it"), max=limits.max_pixels)
        if ds.crs is None:
            raise ValidationFailed(N_("The raster names no coordinate system"), errors=[_err("file", "Not valid")])
        tr = ds.transform
        if tr.b != 0 or tr.d != 0:
            raise ValidationFailed(N_("Rotated rasters are not supported; warp it to a north-up grid"))
        src = CRS.from_user_input(ds.crs.to_wkt())
        band = ds.read(1)
        nodata = ds.nodata
        height, width = band.shape
    valid = np.ones(band.shape, dtype=bool) if nodata is None else band != nodata
    if np.issubdtype(band.dtype, np.floating):
        valid &= ~np.isnan(band)
    area = _pixel_areas(tr, width, height, src) / M2_PER_HA
    values, inverse = np.unique(band[valid], return_inverse=True)
    src_keys = [_source_key(v) for v in values]
    w = area[valid]
    by_source = {
        k: float(v) for k, v in zip(src_keys, np.bincount(inverse, weights=w, minlength=len(values)), strict=True)
    }
    mapped, unmapped, excluded = _split(by_source, mapping)
    known = sorted(set(mapped.values()))
    class_index = np.asarray([known.index(mapped[k]) if k in mapped else -1 for k in src_keys], dtype=np.int64)
    pix_class = class_index[inverse] if len(values) else np.asarray([], dtype=np.int64)
    counted = pix_class >= 0
    areas: dict[str, dict[str, float]] = {
        "": _classes_of(np.bincount(pix_class[counted], weights=w[counted], minlength=len(known)), known)
    }
    if zones and known:
        levels: dict[int, list[Zone]] = defaultdict(list)
        for z in zones:
            levels[len(z.code)].append(z)
        to_src = Transformer.from_crs(CRS.from_epsg(4326), src, always_xy=True)
        for group in levels.values():
            shapes = []
            for i, z in enumerate(group, start=1):
                g = shapely.transform(shapely.segmentize(z.geom, DENSIFY_DEG), _xy(to_src))
                if not g.is_empty:
                    shapes.append((g, i))
            if not shapes:
                continue
            burned = features.rasterize(shapes, out_shape=(height, width), transform=tr, fill=0, dtype="int32")
            zone_of = burned[valid][counted]
            n = len(known)
            sums = np.bincount(zone_of * n + pix_class[counted], weights=w[counted], minlength=(len(group) + 1) * n)
            sums = sums.reshape(len(group) + 1, n)
            for i, z in enumerate(group, start=1):
                areas[z.code] = {k: v for k, v in _classes_of(sums[i], known).items() if v > 0}
    elif zones:
        areas.update({z.code: {} for z in zones})
    out = Measured(FileKind.GEOTIFF, crs_label(src), None, areas, by_source, mapped, unmapped, excluded,
                   pixels=int(valid.sum()))  # fmt: skip
    if preview:
        out.preview = _raster_preview(band, valid, tr, src, mapped, src_keys, values)
    return out


def _classes_of(sums: np.ndarray[Any, Any], known: list[str]) -> dict[str, float]:
    return {k: float(v) for k, v in zip(known, sums, strict=True)}


def _raster_preview(
    band: np.ndarray[Any, Any],
    valid: np.ndarray[Any, Any],
    tr: Any,
    src: CRS,
    mapped: dict[str, str],
    src_keys: list[str],
    values: np.ndarray[Any, Any],
) -> list[dict[str, Any]]:
    """The raster sampled to at most ``PREVIEW_CELLS`` a side, its classes vectorized."""
    from affine import Affine
    from rasterio import features

    step = max(1, math.ceil(max(band.shape) / PREVIEW_CELLS))
    known = sorted(set(mapped.values()))
    lut = {
        v.item() if hasattr(v, "item") else v: known.index(mapped[k]) + 1
        for k, v in zip(src_keys, values, strict=True)
        if k in mapped
    }
    small = band[::step, ::step]
    ok = valid[::step, ::step]
    cls = np.zeros(small.shape, dtype="int32")
    for v, i in lut.items():
        cls[(small == v) & ok] = i
    small_tr = tr @ Affine.scale(step, step)
    geoms, names = [], []
    for geom, value in features.shapes(cls, mask=cls > 0, transform=small_tr):
        geoms.append(shapely.geometry.shape(geom))
        names.append(known[int(value) - 1])
    if not geoms:
        return []
    areas = shapely.area(np.asarray(geoms, dtype=object))
    order = np.argsort(-areas)
    return _preview([geoms[i] for i in order], [names[i] for i in order], src)


# --- entry point --------------------------------------------------------------------------------


def measure(
    data: bytes,
    *,
    filename: str = "",
    mapping: Mapping | None = None,
    zones: Sequence[Zone] = (),
    limits: Limits = LIMITS,
    preview: bool = False,
) -> Measured:
    """Areas of a land-use file by accounting class, in hectares, for the file and each zone."""
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(N_("The file is too large"))
    kind = detect_kind(data, filename)
    m = mapping or default_mapping()
    if kind == FileKind.GEOTIFF:
        return _measure_raster(data, m, zones, limits, preview)
    return _measure_vector(data, kind, m, zones, limits, preview)


def rounded(areas: AbcMapping[str, float], digits: int = 4) -> dict[str, float]:
    """Hectares by class in the classes' order, rounded."""
    order = list(classes())
    return {k: round(areas[k], digits) for k in sorted(areas, key=lambda k: order.index(k) if k in order else 99)}
