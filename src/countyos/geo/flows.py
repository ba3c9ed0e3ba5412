"""Orchestration of geo work that spans several services: file imports, setting up a county."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.models import DivisionLevel
from countyos.geo.service import components, crs, divisions, grids, importing
from countyos.geo.service.importing import FeatureRow, ImportReport


def rows_of(data: bytes, filename: str, *, source_crs: str | None) -> tuple[list[FeatureRow], str]:
    """Rows of any accepted file: tables (CSV, Excel) have no geometry column of their own."""
    if importing.is_tabular(filename):
        table = importing.read_table(data, filename)
        return [FeatureRow(row=i + 1, properties=r, geom=None) for i, r in enumerate(table)], source_crs or "wgs84"
    return importing.read_features(data, filename, source_crs=source_crs)


def import_file(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    data: bytes,
    filename: str,
    crs: str | None = None,
    skip_bad_rows: bool = False,
    replace: bool = False,
    level: DivisionLevel | None = None,
) -> ImportReport:
    """Import divisions, grids or components from one uploaded or local file."""
    if not data:
        raise ValidationFailed(N_("The file is empty"))
    if kind == "components":
        # Tables carry lon/lat in `crs` (converted per row); GeoJSON is converted when it is read.
        tabular = importing.is_tabular(filename)
        rows, used = rows_of(data, filename, source_crs=None if tabular else crs)
        return components.import_components(
            session,
            actor=actor,
            rows=rows,
            source=filename,
            crs=(crs or "wgs84") if tabular else "wgs84",
            skip_bad_rows=skip_bad_rows,
        )
    if importing.is_tabular(filename):
        raise ValidationFailed(N_("Boundaries come as GeoJSON, a zipped Shapefile or a GeoPackage"))
    rows, used = importing.read_features(data, filename, source_crs=crs)
    if kind == "divisions":
        return divisions.import_divisions(
            session, actor=actor, rows=rows, source=filename, source_crs=used, level=level, skip_bad_rows=skip_bad_rows
        )
    if kind == "grids":
        report = grids.import_grids(
            session, actor=actor, rows=rows, source=filename, skip_bad_rows=skip_bad_rows, replace=replace
        )
        report.source_crs = used
        return report
    raise ValidationFailed(N_("Import divisions, grids or components"))


def import_path(session: Session, *, actor: Actor, kind: str, path: Path, **kwargs: Any) -> ImportReport:
    return import_file(session, actor=actor, kind=kind, data=path.read_bytes(), filename=path.name, **kwargs)


def boundary_from_file(path: Path, source_crs: str | None = None) -> tuple[Any, str]:
    """The union of the polygons in a boundary file, in WGS-84, and the CRS it came in."""
    import shapely

    rows, used = importing.read_features(path.read_bytes(), path.name, source_crs=source_crs)
    polys = [r.geom for r in rows if r.geom is not None and r.geom.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise ValidationFailed(N_("%(file)s has no polygon"), file=path.name)
    return shapely.union_all(polys), used


def summary(session: Session) -> dict[str, Any]:
    county = divisions.the_county(session)
    counts = divisions.counts(session)
    return {
        "county": {
            "code": county.code,
            "name": county.name,
            "bbox": [county.minx, county.miny, county.maxx, county.maxy],
            "area_km2": round(county.area_m2 / 1e6, 1),
        }
        if county
        else None,
        "townships": counts.get("township", 0),
        "villages": counts.get("village", 0),
        "grids": grids.count(session),
        "components": components.counts_by_class(session),
        "crs": list(crs.CRS_NAMES),
    }
