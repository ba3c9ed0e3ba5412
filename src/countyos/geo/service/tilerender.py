"""Drawing the county's base layer into an MBTiles file from its own records (``countyos geo basemap``).

Land coloured by township, township/village/grid boundaries and township and village names, drawn
with Pillow and the machine's CJK font at twice the size and reduced (smooth lines and text). Labels
are placed once per zoom in world pixels, collisions resolved there, so a name continues across tile
edges. Only tiles touching the county are written, transparent outside it; ``max_tiles`` bounds the
work (the highest zooms are dropped and reported). Served by :mod:`geo.service.basemap`.
"""

from __future__ import annotations

import io
import math
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import ConfigError, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.models import Division, DivisionLevel, Grid
from countyos.geo.service.basemap import DEFAULT_MAX_TILES, TILE, create_schema
from countyos.org.service import audit

SS = 2  # supersampling: drawn at 512 px, reduced to 256 (smooth lines and text)
OUTSIDE = (222, 226, 231, 0)  # transparent: maps show their own background outside the county
LAND = [(246, 243, 232), (240, 244, 230), (246, 238, 230), (236, 242, 236), (243, 240, 234), (238, 240, 230)]
GRID_LINE = (214, 208, 192)
VILLAGE_LINE = (170, 162, 146)
TOWN_LINE = (120, 108, 90)
COUNTY_LINE = (80, 70, 58)
TEXT_TOWN = (40, 52, 82)
TEXT_VILLAGE = (70, 70, 70)
HALO = (255, 255, 255)


@dataclass
class RenderReport:
    path: Path
    tiles: int
    min_zoom: int
    max_zoom: int
    bytes: int
    seconds: float
    dropped_zooms: list[int] = field(default_factory=list)


def find_cjk_font(bold: bool = False) -> tuple[str, int]:
    """A font file (and its index in a collection) with Chinese glyphs, asked of fontconfig."""
    pattern = "Noto Sans CJK SC:bold" if bold else "Noto Sans CJK SC"
    for pat in (pattern, ":lang=zh"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}:%{index}", pat], capture_output=True, text=True, timeout=10, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        file, _, index = out.rpartition(":")
        if file and Path(file).is_file():
            return file, int(index or 0)
    raise ConfigError(N_("No font with Chinese characters was found; install fonts-noto-cjk"))


def _merc(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """lon/lat → Web Mercator in world units (0..1, y down)."""
    lon = coords[:, 0]
    lat = np.clip(coords[:, 1], -85.05112878, 85.05112878)
    x = (lon + 180.0) / 360.0
    y = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0
    return np.column_stack([x, y])


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """XYZ tile columns and rows (inclusive) covering a lon/lat box at zoom z."""
    (x0, y0), (x1, y1) = _merc(np.array([[bounds[0], bounds[3]], [bounds[2], bounds[1]]]))
    n = 1 << z
    return (
        max(0, int(x0 * n)),
        max(0, int(y0 * n)),
        min(n - 1, int(x1 * n)),
        min(n - 1, int(y1 * n)),
    )


@dataclass
class _Layer:
    geoms: list[BaseGeometry]  # in world units
    names: list[str]


def _load(session: Session) -> tuple[BaseGeometry, _Layer, _Layer, _Layer]:
    def merc(g: BaseGeometry) -> BaseGeometry:
        g = shapely.transform(g, _merc)
        if not g.is_valid:  # a self-touching boundary would fill the tile's outside when drawn
            parts = [p for p in shapely.get_parts(shapely.make_valid(g)) if p.geom_type == "Polygon"]
            g = MultiPolygon(parts) if len(parts) != 1 else parts[0]
        return g

    county = session.scalars(select(Division).where(Division.level == DivisionLevel.COUNTY)).first()
    if county is None:
        raise ValidationFailed(N_("The county is not set up yet; run countyos geo bootstrap first"))
    towns = list(
        session.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP).order_by(Division.code))
    )
    villages = list(
        session.scalars(select(Division).where(Division.level == DivisionLevel.VILLAGE).order_by(Division.code))
    )
    grid_geoms = [merc(g) for g in session.scalars(select(Grid.geom).order_by(Grid.code))]
    return (
        merc(county.geom),
        _Layer([merc(t.geom) for t in towns], [t.name for t in towns]),
        _Layer([merc(v.geom) for v in villages], [v.name for v in villages]),
        _Layer(grid_geoms, [""] * len(grid_geoms)),
    )


def _label_name(name: str) -> str:
    """Village names as people say them (东红村委会 → 东红村)."""
    from countyos.geo.service.addresses import aliases

    short = sorted((a for a in aliases(name) if a != name), key=len)
    return short[0] if short else name


def render(
    session: Session,
    *,
    actor: Actor,
    path: Path,
    min_zoom: int = 8,
    max_zoom: int = 15,
    max_tiles: int = DEFAULT_MAX_TILES,
    font: tuple[str, int] | None = None,
) -> RenderReport:
    """Draw raster tiles of the county (land by township, village and grid boundaries, township and
    village names) into an MBTiles file at PATH, replacing it atomically. Only tiles touching the
    county are written; past ``max_tiles`` the highest zooms are dropped (and reported)."""
    from PIL import Image, ImageDraw, ImageFont

    if not 0 <= min_zoom <= max_zoom <= 18:
        raise ValidationFailed(N_("Zooms must satisfy 0 ≤ min ≤ max ≤ 18"))
    started = time.perf_counter()
    county, towns, villages, grid_layer = _load(session)
    cx0, cy0, cx1, cy1 = county.bounds
    # tiles touching the county, per zoom, within the bound
    prepared = county
    shapely.prepare(prepared)
    plan: dict[int, list[tuple[int, int]]] = {}
    total = 0
    dropped: list[int] = []
    for z in range(min_zoom, max_zoom + 1):
        n = 1 << z
        tx0, ty0, tx1, ty1 = int(cx0 * n), int(cy0 * n), min(n - 1, int(cx1 * n)), min(n - 1, int(cy1 * n))
        xs, ys = np.meshgrid(np.arange(tx0, tx1 + 1), np.arange(ty0, ty1 + 1))
        boxes = shapely.box(xs.ravel() / n, ys.ravel() / n, (xs.ravel() + 1) / n, (ys.ravel() + 1) / n)
        hit = shapely.intersects(prepared, boxes)
        tiles = list(zip(xs.ravel()[hit].tolist(), ys.ravel()[hit].tolist(), strict=True))
        if total + len(tiles) > max_tiles:
            dropped = list(range(z, max_zoom + 1))
            break
        plan[z] = tiles
        total += len(tiles)
    if not plan:
        raise ValidationFailed(N_("Too many tiles at the lowest zoom; raise max tiles or lower the zoom"))

    regular = font or find_cjk_font()
    bold = font or find_cjk_font(bold=True)
    fonts: dict[tuple[bool, int], Any] = {}

    def font_of(is_bold: bool, size: int) -> Any:
        key = (is_bold, size)
        if key not in fonts:
            file, index = bold if is_bold else regular
            fonts[key] = ImageFont.truetype(file, size * SS, index=index)
        return fonts[key]

    town_points = [t.representative_point() for t in towns.geoms]
    village_points = [v.representative_point() for v in villages.geoms]
    town_colors = [LAND[i % len(LAND)] for i in range(len(towns.geoms))]

    tmp = path.with_name(path.name + ".part")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    written = 0
    size = TILE * SS
    with closing(sqlite3.connect(tmp)) as con:
        create_schema(con)
        for z, tiles in plan.items():
            scale = float(TILE * SS * (1 << z))
            tol = 0.6 / scale  # simplify to about half a pixel

            def prep(geoms: list[BaseGeometry], tolerance: float = tol) -> NDArray[Any]:
                arr = np.array(geoms, dtype=object)
                return shapely.simplify(arr, tolerance, preserve_topology=True) if len(arr) else arr

            t_geoms = prep(towns.geoms)
            v_geoms = prep(villages.geoms) if z >= 11 else np.array([], dtype=object)
            g_geoms = prep(grid_layer.geoms) if z >= 13 else np.array([], dtype=object)
            c_geom = shapely.simplify(county, tol, preserve_topology=True)
            t_tree = shapely.STRtree(t_geoms)
            v_tree = shapely.STRtree(v_geoms) if len(v_geoms) else None
            g_tree = shapely.STRtree(g_geoms) if len(g_geoms) else None
            labels = _place_labels(
                z, scale, towns.names, town_points, villages.names, village_points, font_of
            )  # global pixel positions, collisions resolved once per zoom
            label_pts = np.array([[lb[1], lb[2]] for lb in labels]) if labels else np.zeros((0, 2))
            t_width, v_width, c_width = (1.2 if z < 11 else 2.0) * SS, (0.8 if z < 14 else 1.2) * SS, 2.6 * SS
            batch: list[tuple[int, int, int, bytes]] = []
            for tx, ty in tiles:
                ox, oy = tx * size, ty * size
                world = box(tx / (1 << z), ty / (1 << z), (tx + 1) / (1 << z), (ty + 1) / (1 << z))
                pad = world.buffer(8 / scale)
                img = Image.new("RGBA", (size, size), OUTSIDE)
                draw = ImageDraw.Draw(img)

                def px(coords: Any, ox: int = ox, oy: int = oy, scale: float = scale) -> list[tuple[float, float]]:
                    a = np.asarray(coords)
                    return list(map(tuple, a * scale - (ox, oy)))

                def polys(g: BaseGeometry) -> Iterator[Any]:
                    if g.is_empty:
                        return
                    yield from (getattr(g, "geoms", None) or [g])

                for i in t_tree.query(pad, predicate="intersects"):
                    part = shapely.clip_by_rect(t_geoms[i], *pad.bounds)
                    for p in polys(part):
                        if p.geom_type != "Polygon":
                            continue
                        draw.polygon(px(p.exterior.coords), fill=town_colors[i])
                        for hole in p.interiors:
                            draw.polygon(px(hole.coords), fill=OUTSIDE)
                for tree, geoms, color, width in (
                    (g_tree, g_geoms, GRID_LINE, 1 * SS),
                    (v_tree, v_geoms, VILLAGE_LINE, v_width),
                    (t_tree, t_geoms, TOWN_LINE, t_width),
                ):
                    if tree is None:
                        continue
                    for i in tree.query(pad, predicate="intersects"):
                        _lines(draw, shapely.clip_by_rect(geoms[i].boundary, *pad.bounds), px, color, int(width))
                _lines(draw, shapely.clip_by_rect(c_geom.boundary, *pad.bounds), px, COUNTY_LINE, int(c_width))
                if len(label_pts):
                    near = np.nonzero(
                        (label_pts[:, 0] > ox - 300 * SS)
                        & (label_pts[:, 0] < ox + size + 300 * SS)
                        & (label_pts[:, 1] > oy - 60 * SS)
                        & (label_pts[:, 1] < oy + size + 60 * SS)
                    )[0]
                    for k in near:
                        text, gx, gy, is_bold, fsize = labels[k]
                        color = TEXT_TOWN if is_bold else TEXT_VILLAGE
                        draw.text(
                            (gx - ox, gy - oy),
                            text,
                            font=font_of(is_bold, fsize),
                            fill=color,
                            anchor="mm",
                            stroke_width=2 * SS,
                            stroke_fill=HALO,
                        )
                out = img.reduce(SS)
                if out.getchannel("A").getextrema()[0] == 255:  # wholly inside: 64 colours are plenty
                    out = out.convert("RGB").quantize(
                        colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
                    )  # (at the county's edge the quantizer would blur the transparent outside)
                buf = io.BytesIO()
                out.save(buf, "PNG", optimize=False, compress_level=6)
                batch.append((z, tx, (1 << z) - 1 - ty, buf.getvalue()))
                if len(batch) >= 200:
                    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", batch)
                    written += len(batch)
                    batch = []
            con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", batch)
            written += len(batch)
        lon_bounds = _lonlat_bounds(county.bounds)
        z0, z1 = min(plan), max(plan)
        meta = {
            "name": "CountyOS basemap",
            "format": "png",
            "type": "baselayer",
            "version": "1",
            "minzoom": str(z0),
            "maxzoom": str(z1),
            "bounds": ",".join(f"{v:.6f}" for v in lon_bounds),
            "center": f"{(lon_bounds[0] + lon_bounds[2]) / 2:.6f},{(lon_bounds[1] + lon_bounds[3]) / 2:.6f},{z0 + 2}",
            "attribution": "CountyOS",
            "labels": "township,village",
            "description": "Rendered by CountyOS from the county's own boundaries and place names (CGCS2000)",
        }
        con.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
        con.commit()
    tmp.replace(path)
    report = RenderReport(
        path=path,
        tiles=written,
        min_zoom=min(plan),
        max_zoom=max(plan),
        bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
        dropped_zooms=dropped,
    )
    audit.record(
        session,
        actor=actor,
        action="geo.basemap.render",
        target_type="basemap",
        detail={"tiles": written, "min_zoom": report.min_zoom, "max_zoom": report.max_zoom, "bytes": report.bytes},
    )
    return report


def _lonlat_bounds(world: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    def lon(x: float) -> float:
        return x * 360.0 - 180.0

    def lat(y: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))

    return (lon(world[0]), lat(world[3]), lon(world[2]), lat(world[1]))


def _lines(draw: Any, g: BaseGeometry, px: Callable[[Any], list[tuple[float, float]]], color: Any, width: int) -> None:
    if g.is_empty:
        return
    for part in getattr(g, "geoms", None) or [g]:
        if part.geom_type in ("LineString", "LinearRing") and len(part.coords) > 1:
            draw.line(px(part.coords), fill=color, width=width, joint="curve")
        elif hasattr(part, "geoms"):
            _lines(draw, part, px, color, width)


def _place_labels(
    z: int,
    scale: float,
    town_names: list[str],
    town_points: list[BaseGeometry],
    village_names: list[str],
    village_points: list[BaseGeometry],
    font_of: Callable[[bool, int], Any],
) -> list[tuple[str, float, float, bool, int]]:
    """Labels in global pixels at zoom z: townships first, then villages where they do not collide."""
    wanted: list[tuple[str, BaseGeometry, bool, int]] = []
    if z >= 9:
        wanted += [(n, p, True, 13 if z < 12 else 15) for n, p in zip(town_names, town_points, strict=True)]
    if z >= 12:
        size = 11 if z < 14 else 13
        wanted += [(_label_name(n), p, False, size) for n, p in zip(village_names, village_points, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[str, float, float, bool, int]] = []
    for text, point, is_bold, size in wanted:
        gx, gy = point.x * scale, point.y * scale
        x0, y0, x1, y1 = font_of(is_bold, size).getbbox(text, anchor="mm")
        rect = (gx + x0 - 4 * SS, gy + y0 - 4 * SS, gx + x1 + 4 * SS, gy + y1 + 4 * SS)
        if any(rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3] for r in placed):
            continue
        placed.append(rect)
        out.append((text, gx, gy, is_bold, size))
    return out
