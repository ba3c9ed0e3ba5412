"""Checks of the county's spatial data, each finding with a location a person can go and look at.

* overlaps between grids (and between divisions of one level),
* gaps: parts of the county covered by no grid (or no township/village),
* duplicate codes (grid codes, and grids whose code does not match their village),
* slivers: grids below a minimum area or too thin (compactness 4πA/P² below a threshold),
* grids reaching outside their village.
Areas are measured in the Gauss-Krüger zone of the county.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.geo.models import Division, DivisionLevel, Grid
from countyos.geo.service import crs
from countyos.geo.service.divisions import require_county
from countyos.geo.service.partition import polygonal

MIN_AREA_M2 = 1.0  # overlaps and gaps smaller than this are rounding, not findings


@dataclass(frozen=True)
class Finding:
    kind: str  # overlap | gap | duplicate_code | sliver | outside_parent | code_mismatch
    layer: str  # grid | township | village
    codes: tuple[str, ...]
    lon: float
    lat: float
    area_m2: float = 0.0
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "layer": self.layer,
            "codes": list(self.codes),
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "area_m2": round(self.area_m2, 1),
            "detail": self.detail,
        }


@dataclass
class ValidationReport:
    county_code: str
    grids: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_kind(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.findings))

    def as_dict(self) -> dict[str, Any]:
        return {
            "county_code": self.county_code,
            "grids": self.grids,
            "ok": self.ok,
            "by_kind": self.by_kind(),
            "findings": [f.as_dict() for f in self.findings],
        }


def _where(geom: BaseGeometry) -> tuple[float, float]:
    p = geom.representative_point()
    return float(p.x), float(p.y)


def _overlaps(layer: str, codes: list[str], geoms: list[BaseGeometry]) -> list[Finding]:
    out = []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        inter = polygonal(geoms[i].intersection(geoms[j]))
        if inter.is_empty:
            continue
        a = crs.planar_area_m2(inter)
        if a >= MIN_AREA_M2:
            lon, lat = _where(inter)
            out.append(Finding("overlap", layer, (codes[i], codes[j]), lon, lat, a))
    return out


def _gaps(layer: str, outer: BaseGeometry, geoms: list[BaseGeometry]) -> list[Finding]:
    rest = polygonal(outer.difference(shapely.union_all(geoms))) if geoms else outer
    out = []
    for part in shapely.get_parts(rest):
        a = crs.planar_area_m2(part)
        if a >= MIN_AREA_M2:
            lon, lat = _where(part)
            out.append(Finding("gap", layer, (), lon, lat, a))
    return out


def validate(
    session: Session, *, min_grid_m2: float = 2_000.0, min_compactness: float = 0.05, check_divisions: bool = True
) -> ValidationReport:
    county = require_county(session)
    epsg = crs.gauss_kruger_epsg(county.geom.centroid.x)
    grids = list(session.scalars(select(Grid).order_by(Grid.code)))
    report = ValidationReport(county_code=county.code, grids=len(grids))
    f = report.findings
    divisions = list(session.scalars(select(Division).order_by(Division.code)))
    villages = {d.code: d for d in divisions if d.level == DivisionLevel.VILLAGE}
    if check_divisions:
        for level in (DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE):
            ds = [d for d in divisions if d.level == level]
            if ds:
                f += _overlaps(str(level), [d.code for d in ds], [d.geom for d in ds])
                f += _gaps(str(level), county.geom, [d.geom for d in ds])
    if not grids:
        return report
    codes = [g.code for g in grids]
    geoms = [g.geom for g in grids]
    for code, n in Counter(codes).items():
        if n > 1:
            g = next(x for x in grids if x.code == code)
            lon, lat = _where(g.geom)
            f.append(Finding("duplicate_code", "grid", (code,), lon, lat, detail=f"{n}×"))
    for g in grids:
        if g.code[:12] != g.village_code:
            lon, lat = _where(g.geom)
            f.append(Finding("code_mismatch", "grid", (g.code,), lon, lat, detail=g.village_code))
    f += _overlaps("grid", codes, geoms)
    f += _gaps("grid", county.geom, geoms)
    for g in grids:
        m = crs.to_metres(g.geom, epsg)
        compact = 4 * math.pi * m.area / (m.length**2) if m.length else 0.0
        if m.area < min_grid_m2 or compact < min_compactness:
            lon, lat = _where(g.geom)
            f.append(Finding("sliver", "grid", (g.code,), lon, lat, m.area, f"compactness {compact:.3f}"))
        v = villages.get(g.village_code)
        if v is not None:
            outside = polygonal(g.geom.difference(v.geom))
            if not outside.is_empty:
                a = crs.planar_area_m2(outside)
                if a >= MIN_AREA_M2:
                    lon, lat = _where(outside)
                    f.append(Finding("outside_parent", "grid", (g.code, v.code), lon, lat, a))
    return report
