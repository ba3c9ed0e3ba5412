"""A small SVG outline of the county (or one township) for pages that must stay light: the public map
of reports on a phone. Township (or village) boundaries simplified to a few kilobytes, a projection
from lon/lat to the SVG's coordinates, and each area's name at its representative point.

No tiles and no script: the outline is drawn by the browser from a few path strings, so the page
opens on a slow connection. Equirectangular with the cosine of the middle latitude, which at a
county's size differs from Web Mercator by less than a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.errors import NotFound
from countyos.geo.models import Division, DivisionLevel

WIDTH = 1000.0  # the SVG's own units; it scales to the screen
MAX_PATH_CHARS = 60_000  # bound of the outline's size (the tolerance grows until it fits)


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    d: str  # the SVG path
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Outline:
    code: str
    name: str
    width: float
    height: float
    areas: tuple[Area, ...]
    bounds: tuple[float, float, float, float]  # lon/lat of the frame
    kx: float  # units per degree of longitude
    ky: float

    def project(self, lon: float, lat: float) -> tuple[float, float] | None:
        """The point's SVG coordinates, or None when it lies outside the frame."""
        x0, y0, x1, y1 = self.bounds
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return None
        return round((lon - x0) * self.kx, 1), round((y1 - lat) * self.ky, 1)


def _path(g: BaseGeometry, to_xy: tuple[float, float, float, float]) -> str:
    x0, y1, kx, ky = to_xy
    parts: list[str] = []
    polys = getattr(g, "geoms", [g])
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            pts = [f"{(x - x0) * kx:.1f} {(y1 - y) * ky:.1f}" for x, y in ring.coords]
            if len(pts) >= 3:
                parts.append("M" + "L".join(pts) + "Z")
    return "".join(parts)


def outline(session: Session, *, code: str | None = None) -> Outline:
    """The county (``code`` None) with its townships, or one township with its villages."""
    stamp = session.scalar(select(func.max(Division.updated_at)))
    return _outline(session, code or "", str(stamp))


def _outline(session: Session, code: str, stamp: str) -> Outline:
    key = (code, stamp)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    if code:
        frame = session.scalar(select(Division).where(Division.code == code, Division.level == DivisionLevel.TOWNSHIP))
    else:
        frame = session.scalar(select(Division).where(Division.level == DivisionLevel.COUNTY).limit(1))
    if frame is None:
        raise NotFound("No such area")
    children = list(session.scalars(select(Division).where(Division.parent_code == frame.code).order_by(Division.code)))
    built = build(frame, children)
    _cache.clear()  # one county: keep the newest few frames only
    _cache[key] = built
    return built


_cache: dict[tuple[str, str], Outline] = {}


def build(frame: Division, children: list[Division]) -> Outline:
    x0, y0, x1, y1 = frame.geom.bounds
    pad_x, pad_y = (x1 - x0) * 0.02, (y1 - y0) * 0.02
    x0, y0, x1, y1 = x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y
    kx = WIDTH / (x1 - x0)
    ky = kx / max(math.cos(math.radians((y0 + y1) / 2)), 0.2)
    height = (y1 - y0) * ky
    shapes = [(d.code, d.name, d.geom) for d in children] or [(frame.code, frame.name, frame.geom)]
    tolerance = (x1 - x0) / 800
    while True:
        areas = []
        for c, name, geom in shapes:
            simple = shapely.simplify(geom, tolerance, preserve_topology=True)
            p = geom.representative_point()
            lx, ly = round((p.x - x0) * kx, 1), round((y1 - p.y) * ky, 1)
            areas.append(Area(c, name, _path(simple, (x0, y1, kx, ky)), lx, ly))
        if sum(len(a.d) for a in areas) <= MAX_PATH_CHARS or tolerance > (x1 - x0) / 20:
            break
        tolerance *= 2
    return Outline(frame.code, frame.name, WIDTH, round(height, 1), tuple(areas), (x0, y0, x1, y1), kx, ky)
