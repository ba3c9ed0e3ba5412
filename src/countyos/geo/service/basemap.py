"""The map base layer: raster tiles served by CountyOS itself, configured as data (``core.settings``).

Sources, in this order:

1. ``map_tile_url`` — an upstream XYZ/WMTS template with ``{z}``, ``{x}``, ``{y}`` (the county's own
   tile server, 天地图 with the county's key). The server fetches each tile once and keeps it in
   ``<data_dir>/tilecache.mbtiles``; browsers only ever talk to CountyOS (the key stays on the
   server, the Content-Security-Policy stays ``'self'``, and tiles seen once keep working offline).
   ``map_tile_crs`` names the coordinate system of the pictures: CGCS2000/WGS-84 sources line up
   with the stored data; GCJ-02 sources (高德, 腾讯) need every overlay shifted (``crs.from_wgs84``),
   which the shared front-end module ``basemap.js`` does from the ``crs`` of :func:`config`.
2. A local MBTiles file (``map_mbtiles``, default ``<data_dir>/basemap.mbtiles``), e.g. rendered by
   ``tilerender.render`` from the county's own records (``countyos geo basemap``): no internet at all.
3. Nothing: maps show the boundaries on a plain background.

Tiles are addressed XYZ (y down, as in the URL); MBTiles stores TMS rows (y up).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from countyos.core.errors import NotFound, ServiceUnavailable
from countyos.core.i18n import N_
from countyos.core.settings import Settings

TILE = 256
ROUTE = "/api/v1/geo/tiles/{z}/{x}/{y}.png"
MAX_ZOOM = 22
MAX_TILE_BYTES = 2_000_000  # an upstream answer larger than this is not a map tile
UPSTREAM_TIMEOUT = 8.0
DEFAULT_MAX_TILES = 12_000  # bound of one rendering (≈ 100–250 MB at most); zooms are dropped past it
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
WEBP = b"RIFF"


@dataclass(frozen=True)
class BasemapConfig:
    """What a map needs to draw the base layer (``GET /api/v1/geo/basemap``)."""

    source: str  # "remote" | "local" | "none"
    tiles: str | None  # the CountyOS tile route template, or None without a base layer
    crs: str  # coordinate system of the tile pictures: wgs84 | cgcs2000 | gcj02
    min_zoom: int
    max_zoom: int
    attribution: str
    bounds: tuple[float, float, float, float] | None  # of the tile set (lon/lat), when known
    labelled: bool = False  # the tiles carry township and village names (maps then skip their own)


@dataclass(frozen=True)
class Tile:
    data: bytes
    media_type: str
    etag: str


def local_path(settings: Settings) -> Path:
    return settings.map_mbtiles or (settings.data_dir / "basemap.mbtiles")


def cache_path(settings: Settings) -> Path:
    return settings.data_dir / "tilecache.mbtiles"


@contextmanager
def _read(path: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        yield con
    finally:
        con.close()


def read_metadata(path: Path) -> dict[str, str]:
    """The ``metadata`` table of an MBTiles file ({} when the file is missing or unreadable)."""
    if not path.is_file():
        return {}
    try:
        with _read(path) as con:
            return {str(k): str(v) for k, v in con.execute("SELECT name, value FROM metadata")}
    except sqlite3.Error:
        return {}


def _bounds(text: str | None) -> tuple[float, float, float, float] | None:
    try:
        parts = [float(p) for p in (text or "").split(",")]
    except ValueError:
        return None
    return (parts[0], parts[1], parts[2], parts[3]) if len(parts) == 4 else None


def _int(text: str | None, default: int) -> int:
    try:
        return max(0, min(MAX_ZOOM, int(text or "")))
    except ValueError:
        return default


def config(settings: Settings) -> BasemapConfig:
    """The base layer the settings describe (see the module docstring for the order)."""
    if settings.map_tile_url:
        return BasemapConfig(
            source="remote",
            tiles=ROUTE,
            crs=settings.map_tile_crs,
            min_zoom=settings.map_tile_min_zoom,
            max_zoom=max(settings.map_tile_min_zoom, settings.map_tile_max_zoom),
            attribution=settings.map_tile_attribution,
            bounds=None,
        )
    meta = read_metadata(local_path(settings))
    if meta:
        return BasemapConfig(
            source="local",
            tiles=ROUTE,
            crs="cgcs2000",
            min_zoom=_int(meta.get("minzoom"), 0),
            max_zoom=_int(meta.get("maxzoom"), MAX_ZOOM),
            attribution=settings.map_tile_attribution or meta.get("attribution", ""),
            bounds=_bounds(meta.get("bounds")),
            labelled=meta.get("labels") == "township,village",
        )
    return BasemapConfig(
        source="none", tiles=None, crs="cgcs2000", min_zoom=0, max_zoom=MAX_ZOOM, attribution="", bounds=None
    )


def check_address(z: int, x: int, y: int, cfg: BasemapConfig) -> None:
    """Refuse tile addresses outside the configured zooms or outside the world at that zoom."""
    if not cfg.min_zoom <= z <= cfg.max_zoom:
        raise NotFound(N_("No map tiles at zoom %(z)s"), z=z)
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise NotFound(N_("No map tile at %(z)s/%(x)s/%(y)s"), z=z, x=x, y=y)


def _media_type(data: bytes) -> str | None:
    if data.startswith(PNG):
        return "image/png"
    if data.startswith(JPEG):
        return "image/jpeg"
    if data.startswith(WEBP) and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _lookup(path: Path, z: int, x: int, y: int) -> bytes | None:
    if not path.is_file():
        return None
    try:
        with _read(path) as con:
            row = con.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
    except sqlite3.Error:
        return None
    return bytes(row[0]) if row else None


def _tile(data: bytes, stamp: str) -> Tile:
    media = _media_type(data) or "application/octet-stream"
    return Tile(data=data, media_type=media, etag='"' + hashlib.sha1(stamp.encode() + data).hexdigest()[:20] + '"')


# The fetcher of upstream tiles; tests replace it (no network in tests).
Fetcher = Callable[[str], bytes | None]


def fetch_upstream(url: str) -> bytes | None:
    """One upstream tile: its bytes, None for "no tile here" (204/404), ServiceUnavailable otherwise."""
    try:
        r = httpx.get(url, timeout=UPSTREAM_TIMEOUT, follow_redirects=False, headers={"User-Agent": "CountyOS"})
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(N_("The map tile server did not answer")) from exc
    if r.status_code in (204, 404):
        return None
    if r.status_code != 200 or len(r.content) > MAX_TILE_BYTES or _media_type(r.content) is None:
        raise ServiceUnavailable(N_("The map tile server did not answer"))
    return r.content


_cache_lock = threading.Lock()


def _cache_store(path: Path, z: int, x: int, y: int, data: bytes) -> None:
    with _cache_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as con, con:
            create_schema(con)
            con.execute(
                "INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)",
                (z, x, (1 << z) - 1 - y, data),
            )


def get_tile(settings: Settings, z: int, x: int, y: int, *, fetch: Fetcher | None = None) -> Tile | None:
    """The tile at z/x/y (XYZ), or None when the source has none there (the map shows its background).

    NotFound for an address outside the source's zooms or the world."""
    cfg = config(settings)
    if cfg.source == "none":
        raise NotFound(N_("This county has no map base layer"))
    check_address(z, x, y, cfg)
    if cfg.source == "local":
        path = local_path(settings)
        data = _lookup(path, z, x, y)
        return _tile(data, f"{path.stat().st_mtime_ns}") if data is not None else None
    template = settings.map_tile_url or ""
    path = cache_path(settings)
    data = _lookup(path, z, x, y)
    if data is None:
        url = template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
        url = url.replace("{-y}", str((1 << z) - 1 - y))
        data = (fetch or fetch_upstream)(url)
        if data is None:
            return None
        _cache_store(path, z, x, y, data)
    return _tile(data, template)


def create_schema(con: sqlite3.Connection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS metadata (name TEXT PRIMARY KEY, value TEXT)")
    con.execute(
        "CREATE TABLE IF NOT EXISTS tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
    )
    con.execute("CREATE UNIQUE INDEX IF NOT EXISTS tile_index ON tiles (zoom_level, tile_column, tile_row)")
