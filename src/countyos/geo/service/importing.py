"""Reading files that counties bring: GeoJSON, Shapefile (zipped), GeoPackage (through pyogrio/GDAL),
CSV and Excel; and the row-by-row report that every import returns.

Geometries come back in WGS-84/CGCS2000 lon/lat: the source CRS is taken from the file (``.prj``,
GeoPackage SRS, GeoJSON = EPSG:4326) or from the caller, and projected CRS (e.g. CGCS2000
Gauss-Krüger EPSG:4549) are converted with pyproj; GCJ-02/BD-09 with :mod:`crs`.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.geo.service import crs as crs_mod

MAX_ROWS = 200_000


@dataclass
class RowError:
    row: int  # 1-based row (feature) number in the file; 0 for the file itself
    message: str  # English message id, translated when reported
    field: str | None = None
    code: str | None = None
    params: dict[str, Any] = dc_field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "message": gettext(self.message, **self.params),
        }


@dataclass
class ImportReport:
    """What an import did: rows read, written, skipped, and an error per bad row."""

    total: int = 0
    imported: int = 0
    skipped: int = 0
    errors: list[RowError] = dc_field(default_factory=list)
    notes: list[str] = dc_field(default_factory=list)
    source_crs: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "imported": self.imported,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
            "notes": self.notes,
            "source_crs": self.source_crs,
        }

    def fail_if_bad(self, skip_bad_rows: bool) -> None:
        """Refuse the whole file when a row is bad, unless the caller asked to skip bad rows."""
        if self.errors and not skip_bad_rows:
            raise ValidationFailed(
                N_(
                    "%(count)s of %(total)s rows are not valid; nothing was imported. Fix them, or import with "
                    "skip_bad_rows to load only the valid rows."
                ),
                count=len({e.row for e in self.errors}),
                total=self.total,
                errors=[e.as_dict() for e in self.errors[:1000]],
            )


@dataclass
class FeatureRow:
    row: int
    properties: dict[str, Any]
    geom: BaseGeometry | None


def _clean(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _lonlat_transformer(source: str) -> Transformer | None:
    """A transformer to EPSG:4326 for a pyproj-known source CRS that is not lon/lat already."""
    try:
        c = CRS.from_user_input(source)
    except CRSError as exc:
        raise ValidationFailed(N_("Unknown coordinate system %(crs)s"), crs=source) from exc
    if c.is_geographic:
        return None
    return Transformer.from_crs(c, 4326, always_xy=True)


def read_features(data: bytes, filename: str, *, source_crs: str | None = None) -> tuple[list[FeatureRow], str]:
    """Features of a GeoJSON, zipped Shapefile or GeoPackage, in WGS-84, and the CRS they came in."""
    from pyogrio import raw
    from pyogrio.errors import DataSourceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _fids, wkb, field_data = raw.read(io.BytesIO(data), max_features=MAX_ROWS + 1)
    except (DataSourceError, ValueError, RuntimeError) as exc:
        raise ValidationFailed(
            N_("%(file)s could not be read as GeoJSON, a zipped Shapefile or a GeoPackage: %(reason)s"),
            file=filename,
            reason=str(exc),
        ) from exc
    if len(wkb) > MAX_ROWS:
        raise ValidationFailed(N_("The file has more than %(max)s features; split it"), max=MAX_ROWS)
    detected = meta.get("crs")
    given = source_crs or detected or "EPSG:4326"
    names = [str(n) for n in meta["fields"]]
    geoms = [shapely.from_wkb(g) if g is not None else None for g in wkb]
    key = given.strip().lower()
    if key in ("gcj02", "gcj-02", "bd09", "bd-09"):
        geoms = [crs_mod.transform_geometry(g, to="wgs84", source=key) if g is not None else None for g in geoms]
    else:
        t = _lonlat_transformer(given)
        if t is not None:
            geoms = [
                shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
                if g is not None
                else None
                for g in geoms
            ]
    rows = []
    for i, g in enumerate(geoms):
        props = {n: _clean(field_data[j][i]) for j, n in enumerate(names)}
        rows.append(FeatureRow(row=i + 1, properties=props, geom=g))
    return rows, given


def read_table(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a CSV (UTF-8, with or without BOM; GBK accepted) or an Excel workbook's first sheet."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a bad file
            raise ValidationFailed(N_("%(file)s is not a readable Excel workbook"), file=filename) from exc
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            return []
        keys = [str(h).strip() if h is not None else "" for h in header]
        out = []
        for values in it:
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            out.append({k: v for k, v in zip(keys, values, strict=False) if k})
            if len(out) > MAX_ROWS:
                raise ValidationFailed(N_("The file has more than %(max)s rows; split it"), max=MAX_ROWS)
        return out
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed(N_("%(file)s is neither UTF-8 nor GBK text"), file=filename)
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for r in reader:
        rows.append({(k or "").strip(): v for k, v in r.items() if k})
        if len(rows) > MAX_ROWS:
            raise ValidationFailed(N_("The file has more than %(max)s rows; split it"), max=MAX_ROWS)
    return rows


def is_tabular(filename: str) -> bool:
    return filename.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm"))


def pick(props: dict[str, Any], *names: str) -> Any:
    """The first present, non-empty value among several accepted column names (case-insensitive)."""
    lower = {k.lower(): v for k, v in props.items()}
    for n in names:
        v = lower.get(n.lower())
        if v is not None and str(v).strip() != "":
            return v
    return None
