"""Pure geometry used to build a county before it has surveyed data.

* :func:`bisect_partition` splits a polygon into parts of given relative areas by recursive
  bisection along the longer side. Consecutive items (consecutive codes) stay neighbours, every
  part is exactly its share of the area, and the parts cover the polygon with no overlap. CountyOS
  uses it for *approximate* township and village boundaries (flagged ``approximate``) and for
  splitting a village into grids by households.
* :func:`lattice_cells` cuts a polygon (in metres) by a square lattice aligned to a common origin, so
  that the grids of neighbouring villages line up, and folds slivers into a neighbour.

Both are deterministic: the same input gives the same output on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

SPECK = 1e-14  # square degrees (~1e-4 m²): parts this small are rounding left-overs of cuts


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the areal part of a geometry, without specks (cuts can add stray lines, points and
    near-zero slivers, which also confuse later predicates)."""
    if geom.is_empty:
        return geom
    if geom.geom_type == "Polygon":
        return geom
    flat: list[Polygon] = []
    for p in shapely.get_parts(geom):
        if isinstance(p, MultiPolygon):
            flat.extend(p.geoms)
        elif isinstance(p, Polygon):
            flat.append(p)
    kept = [p for p in flat if p.area > SPECK] or flat[:1]
    return MultiPolygon(kept) if len(kept) > 1 else (kept[0] if kept else Polygon())


def valid(geom: BaseGeometry) -> BaseGeometry:
    """The geometry made valid (rounding in transforms and cuts can leave tiny self-intersections)."""
    return geom if geom.is_valid else polygonal(shapely.make_valid(geom))


def _cut(geom: BaseGeometry, fraction: float) -> tuple[BaseGeometry, BaseGeometry]:
    """Split ``geom`` across its longer bbox side so that the first part has ``fraction`` of the area.

    A wide shape is cut by a vertical line and its first part lies west; a tall one by a horizontal
    line and its first part lies north (codes then run west → east, north → south).
    """
    minx, miny, maxx, maxy = geom.bounds
    vertical = (maxx - minx) >= (maxy - miny)
    target = geom.area * fraction

    def first(t: float) -> BaseGeometry:  # t in [0, 1]: how far the cut line has moved in
        if vertical:
            b = box(minx - 1, miny - 1, minx + t * (maxx - minx), maxy + 1)
        else:
            b = box(minx - 1, maxy - t * (maxy - miny), maxx + 1, maxy + 1)
        return polygonal(geom.intersection(b))

    a, b = 0.0, 1.0
    for _ in range(40):
        mid = (a + b) / 2
        if first(mid).area < target:
            a = mid
        else:
            b = mid
    part = valid(first((a + b) / 2))
    return part, valid(polygonal(geom.difference(part)))


def bisect_partition(geom: BaseGeometry, weights: Sequence[float]) -> list[BaseGeometry]:
    """Parts of ``geom`` with areas proportional to ``weights``, in the order given."""
    if not weights:
        return []
    if len(weights) == 1:
        return [valid(geom)]
    total = float(sum(weights))
    if total <= 0:
        raise ValueError("weights must add up to more than zero")
    half = total / 2
    acc, split = 0.0, 1
    for i, w in enumerate(weights[:-1], start=1):
        acc += w
        split = i
        if acc >= half:
            break
    left_w = float(sum(weights[:split]))
    first, second = _cut(geom, left_w / total)
    return bisect_partition(first, weights[:split]) + bisect_partition(second, weights[split:])


@dataclass(frozen=True)
class Cell:
    row: int  # counted from the north
    col: int  # counted from the west
    geom: BaseGeometry


def lattice_cells(
    geom: BaseGeometry,
    size: float,
    *,
    size_y: float | None = None,
    origin: tuple[float, float] = (0.0, 0.0),
    min_fraction: float = 0.25,
) -> list[Cell]:
    """``geom`` cut by a lattice of ``size`` × ``size_y`` rectangles anchored at ``origin``.

    Pieces smaller than ``min_fraction`` of a full cell are merged into the neighbouring piece with
    which they share the longest border (or, with no neighbour, kept). Returned in reading order:
    north → south, then west → east.
    """
    if geom.is_empty:
        return []
    geom = valid(geom)
    sx, sy = size, size_y or size
    ox, oy = origin
    minx, miny, maxx, maxy = geom.bounds
    c0, c1 = int((minx - ox) // sx), int((maxx - ox) // sx)
    r0, r1 = int((miny - oy) // sy), int((maxy - oy) // sy)
    squares = [
        box(ox + c * sx, oy + r * sy, ox + (c + 1) * sx, oy + (r + 1) * sy)
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
    ]
    keys = [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    tree = shapely.STRtree(squares)
    hits = sorted(int(h) for h in tree.query(geom, predicate="intersects"))
    parts = shapely.intersection(np.array([squares[i] for i in hits], dtype=object), geom)
    pieces: dict[tuple[int, int], BaseGeometry] = {}
    for i, raw in zip(hits, parts, strict=True):
        part = polygonal(raw)
        if not part.is_empty and part.area > SPECK:
            pieces[keys[i]] = part
    if not pieces:
        return []
    full = sx * sy
    small = sorted((k for k, g in pieces.items() if g.area < min_fraction * full), key=lambda k: pieces[k].area)
    for k in small:
        g = pieces.get(k)
        if g is None or len(pieces) == 1:
            continue
        best, best_len = None, 0.0
        r, c = k
        for nk in (
            (r + 1, c),
            (r - 1, c),
            (r, c + 1),
            (r, c - 1),
            (r + 1, c + 1),
            (r - 1, c - 1),
            (r + 1, c - 1),
            (r - 1, c + 1),
        ):
            n = pieces.get(nk)
            if n is None:
                continue
            shared = g.boundary.intersection(n.boundary).length
            if shared > best_len:
                best, best_len = nk, shared
        if best is not None:
            pieces[best] = polygonal(shapely.union(pieces[best], g))
            del pieces[k]
    return [Cell(row=-r, col=c, geom=g) for (r, c), g in sorted(pieces.items(), key=lambda kv: (-kv[0][0], kv[0][1]))]
