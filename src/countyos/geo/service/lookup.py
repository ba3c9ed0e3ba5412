"""Point → (grid, village, township) in one call, for one point or millions.

Every process keeps the county's grids, villages and townships in shapely 2 ``STRtree`` indexes in
memory. The ``geo_state`` row carries a stamp that changes with every geometry write; a lookup reads
it (one tiny query, at most every ``STAMP_TTL_S`` seconds; at once after a geometry write in this
process) and rebuilds the indexes when it differs, so all API workers follow an import.

Points on a shared edge or vertex belong to *every* polygon they touch (``intersects``); the tie is
broken deterministically by taking the lowest code. On PostgreSQL a single :func:`locate` asks
PostGIS (``ST_Intersects``, GiST index, same lowest-code rule) instead of loading the index; batches
always use the in-memory index.
"""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.core.i18n import N_
from countyos.geo.models import Division, DivisionLevel, GeoState, Grid
from countyos.geo.service.crs import normalize_crs, to_wgs84

NONE = -1


class OutsideCounty(ValidationFailed):
    """The point is not inside the county's boundary."""

    code = "outside_county"
    title = N_("The location is outside the county")


@dataclass(frozen=True)
class Place:
    """Where a point is: codes and names of its divisions and grid, and its WGS-84/CGCS2000 lon/lat."""

    county_code: str
    township_code: str | None
    township_name: str | None
    village_code: str | None
    village_name: str | None
    grid_code: str | None
    area_class: str | None  # 'A' | 'B' | 'C' (of the grid) or None
    lon: float
    lat: float


UNKNOWN, EXACT, OUTSIDE = -3, -1, -2
RASTER_FROM = 20_000  # batches at least this large use (and, the first time, build) the raster


@dataclass
class Raster:
    """A fine raster over the county that answers most points with one array read.

    Every cell that any boundary (grid, village, township, county) passes through or comes near is
    marked EXACT; points there take the exact path. Every other cell lies wholly inside one face of
    the boundaries, so one test of its centre holds for all of its points: it stores the grid index
    (lowest code first when grids overlap) or OUTSIDE the county. The result is identical to the exact
    lookup, only faster.
    """

    x0: float
    y0: float
    w: float
    h: float
    labels: NDArray[np.int32]  # (ny, nx)

    def classify(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.int32]:
        ny, nx = self.labels.shape
        fx = np.floor((lons - self.x0) / self.w)
        fy = np.floor((lats - self.y0) / self.h)
        ok = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # NaN compares False: outside
        out = np.full(len(lons), OUTSIDE, dtype=np.int32)
        out[ok] = self.labels[fy[ok].astype(np.intp), fx[ok].astype(np.intp)]
        return out


def build_raster(
    county: BaseGeometry | None,
    layers: list[list[BaseGeometry]],
    grids: list[BaseGeometry],
    *,
    spill: bool = False,
    max_cells: int = 4_000_000,
) -> Raster | None:
    everything = [g for layer in layers for g in layer] + grids + ([county] if county is not None else [])
    if not everything:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(everything)
    lat = np.radians((miny + maxy) / 2)
    width_m = max((maxx - minx) * 111_320.0 * np.cos(lat), 1.0)
    height_m = max((maxy - miny) * 110_574.0, 1.0)
    target = min(max_cells, max(250_000, 600 * len(grids)))
    side_m = max(np.sqrt(width_m * height_m / target), 1.0)
    w, h = side_m / (111_320.0 * np.cos(lat)), side_m / 110_574.0
    x0, y0 = minx - w, miny - h
    nx, ny = int((maxx - x0) / w) + 2, int((maxy - y0) / h) + 2
    labels = np.full((ny, nx), UNKNOWN, dtype=np.int32)
    # Mark every cell near a boundary: samples at most half a cell apart, then a 3×3 dilation.
    rings = shapely.boundary(np.array(everything, dtype=object))
    coords = shapely.get_coordinates(shapely.segmentize(rings, min(w, h) / 2))
    cx = np.clip(np.floor((coords[:, 0] - x0) / w).astype(np.intp), 0, nx - 1)
    cy = np.clip(np.floor((coords[:, 1] - y0) / h).astype(np.intp), 0, ny - 1)
    mark = np.zeros((ny, nx), dtype=bool)
    mark[cy, cx] = True
    grown = mark.copy()
    grown[1:, :] |= mark[:-1, :]
    grown[:-1, :] |= mark[1:, :]
    mark = grown.copy()
    grown[:, 1:] |= mark[:, :-1]
    grown[:, :-1] |= mark[:, 1:]
    labels[grown] = EXACT
    # Label the clean cells of each grid by their centres (grids in code order: the lowest code wins).
    for i, g in enumerate(grids):
        gx0, gy0, gx1, gy1 = g.bounds
        c0, c1 = max(int((gx0 - x0) / w), 0), min(int((gx1 - x0) / w) + 1, nx)
        r0, r1 = max(int((gy0 - y0) / h), 0), min(int((gy1 - y0) / h) + 1, ny)
        sub = labels[r0:r1, c0:c1]
        rr, cc = np.nonzero(sub == UNKNOWN)
        if len(rr) == 0:
            continue
        inside = shapely.contains_xy(g, x0 + (cc + c0 + 0.5) * w, y0 + (rr + r0 + 0.5) * h)
        sub[rr[inside], cc[inside]] = i
    # Clean cells in no grid: outside the county, or inside it (a gap in the grids: exact path). When
    # divisions reach beyond the county, the cells outside it take the exact path too.
    rr, cc = np.nonzero(labels == UNKNOWN)
    if len(rr):
        if county is None or spill:
            inside = np.ones(len(rr), dtype=bool)
        else:
            inside = shapely.contains_xy(county, x0 + (cc + 0.5) * w, y0 + (rr + 0.5) * h)
        labels[rr[inside], cc[inside]] = EXACT
        labels[rr[~inside], cc[~inside]] = OUTSIDE
    return Raster(x0=float(x0), y0=float(y0), w=float(w), h=float(h), labels=labels)


@dataclass
class SpatialIndex:
    """The county's lookup structures, built from one consistent read of the database."""

    stamp: str
    county_code: str | None
    county_geom: BaseGeometry | None
    township_codes: NDArray[np.str_]
    township_names: NDArray[np.str_]
    township_tree: shapely.STRtree
    village_codes: NDArray[np.str_]
    village_names: NDArray[np.str_]
    village_township: NDArray[np.int64]  # index into townships, or -1
    village_tree: shapely.STRtree
    grid_codes: NDArray[np.str_]
    grid_area_class: NDArray[np.str_]
    grid_village: NDArray[np.int64]  # index into villages, or -1
    grid_tree: shapely.STRtree
    grid_geoms: NDArray[np.object_] = field(repr=False)
    village_geoms: NDArray[np.object_] = field(repr=False)
    township_geoms: NDArray[np.object_] = field(repr=False)
    divisions_spill: bool = False  # some township or village reaches outside the county boundary
    raster: Raster | None = field(default=None, repr=False)
    _raster_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _raster_tried: bool = field(default=False, repr=False)

    def fast_raster(self) -> Raster | None:
        """The raster, built on first use (about a second for a county; small batches never need it)."""
        if not self._raster_tried:
            with self._raster_lock:
                if not self._raster_tried:
                    self.raster = build_raster(
                        self.county_geom,
                        [list(self.township_geoms), list(self.village_geoms)],
                        list(self.grid_geoms),
                        spill=self.divisions_spill,
                    )
                    self._raster_tried = True
        return self.raster

    @property
    def has_grids(self) -> bool:
        return len(self.grid_codes) > 0

    def lookup(
        self, lons: NDArray[np.float64], lats: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """Indexes of (grid, village, township) for WGS-84 points (−1 where none) and an inside mask."""
        n = len(lons)
        raster = self.fast_raster() if n >= RASTER_FROM else None
        if raster is None:
            return self.lookup_exact(lons, lats)
        label = raster.classify(lons, lats)
        grid = np.where(label >= 0, label, NONE).astype(np.int64)
        village = (
            np.where(grid >= 0, self.grid_village[np.maximum(grid, 0)], NONE)
            if len(self.grid_codes)
            else np.full(n, NONE, np.int64)
        )
        township = (
            np.where(village >= 0, self.village_township[np.maximum(village, 0)], NONE)
            if len(self.village_codes)
            else np.full(n, NONE, np.int64)
        )
        inside = label >= 0
        exact = np.flatnonzero(label == EXACT)
        if len(exact):
            g, v, t, ins = self.lookup_exact(lons[exact], lats[exact])
            grid[exact], village[exact], township[exact], inside[exact] = g, v, t, ins
        return grid, village, township, inside

    def lookup_exact(
        self, lons: NDArray[np.float64], lats: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """The same answer as :meth:`lookup`, by STRtree queries for every point."""
        n = len(lons)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # a million short-lived Points would otherwise trigger needless collections
        try:
            pts = shapely.points(lons, lats)
        finally:
            if gc_was_enabled:
                gc.enable()
        grid = _first_hit(self.grid_tree, self.grid_geoms, pts, n)
        village = (
            np.where(grid >= 0, self.grid_village[np.maximum(grid, 0)], NONE)
            if len(self.grid_codes)
            else np.full(n, NONE, np.int64)
        )
        inside = grid >= 0
        miss = np.flatnonzero(~inside)
        if len(miss) and self.county_geom is not None:
            inside[miss] = shapely.intersects(self.county_geom, pts[miss])
        # Points in no grid: look in the villages and townships. Outside the county that is needed only
        # when some division reaches beyond the county boundary (imported surveyed data may).
        miss = np.flatnonzero((grid < 0) & (inside | self.divisions_spill))
        if len(miss):
            village[miss] = _first_hit(self.village_tree, self.village_geoms, pts[miss], len(miss))
        township = (
            np.where(village >= 0, self.village_township[np.maximum(village, 0)], NONE)
            if len(self.village_codes)
            else np.full(n, NONE, np.int64)
        )
        miss = miss[township[miss] < 0]
        if len(miss):
            township[miss] = _first_hit(self.township_tree, self.township_geoms, pts[miss], len(miss))
        inside |= township >= 0
        return grid, village, township, inside


def _first_hit(
    tree: shapely.STRtree, geoms: NDArray[np.object_], pts: NDArray[np.object_], n: int
) -> NDArray[np.int64]:
    """For each point the lowest tree index it intersects (trees are built in code order), or −1.

    The tree answers by bounding box; the exact test runs on the tree's prepared polygons, which is
    faster than a predicate query (that prepares the points, not the polygons)."""
    if len(geoms) == 0 or n == 0:
        return np.full(n, NONE, dtype=np.int64)
    inp, hit = tree.query(pts)
    keep = shapely.intersects(geoms[hit], pts[inp])
    inp, hit = inp[keep], hit[keep]
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    out[inp] = hit
    if len(inp) > 1:
        dup = inp[1:] == inp[:-1]
        if dup.any():  # a point on a shared edge: keep the lowest index among its hits
            many = np.zeros(len(inp), dtype=bool)
            many[1:] |= dup
            many[:-1] |= dup
            np.minimum.at(out, inp[many], hit[many])
    out[out == np.iinfo(np.int64).max] = NONE
    return out


# --- the geometry stamp ---------------------------------------------------------------------------


def geometry_changed(session: Session) -> None:
    """Record that division or grid geometry changed (call in the same transaction as the change)."""
    stamp = uuid.uuid4().hex
    row = session.get(GeoState, 1)
    if row is None:
        session.add(GeoState(id=1, version=1, stamp=stamp, changed_at=utcnow()))
    else:
        session.execute(
            update(GeoState)
            .where(GeoState.id == 1)
            .values(version=GeoState.version + 1, stamp=stamp, changed_at=utcnow())
        )
    session.flush()


def current_stamp(session: Session) -> str:
    return session.execute(select(GeoState.stamp).where(GeoState.id == 1)).scalar_one_or_none() or ""


_cache: dict[str, SpatialIndex] = {}
_lock = threading.Lock()


def _cache_key(session: Session) -> str:
    return str(session.get_bind().engine.url)


STAMP_TTL_S = 2.0
_STAMPS: HotCache[str] = HotCache("geometry stamp", tables=(GeoState.__tablename__,), ttl=STAMP_TTL_S)


def index(session: Session) -> SpatialIndex:
    """The spatial index of this database, rebuilt when the geometry stamp has changed."""
    stamp = _STAMPS.get(session, None, lambda: current_stamp(session))
    key = _cache_key(session)
    cached = _cache.get(key)
    if cached is not None and cached.stamp == stamp:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached
        built = build_index(session, stamp)
        _cache[key] = built
        return built


def _prepared(geoms: list[BaseGeometry]) -> NDArray[np.object_]:
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    shapely.prepare(arr)
    return arr


def build_index(session: Session, stamp: str) -> SpatialIndex:
    divisions = session.execute(
        select(Division.code, Division.name, Division.level, Division.geom).order_by(Division.code)
    ).all()
    county = next((d for d in divisions if d.level == DivisionLevel.COUNTY), None)
    towns = [d for d in divisions if d.level == DivisionLevel.TOWNSHIP]
    villages = [d for d in divisions if d.level == DivisionLevel.VILLAGE]
    town_pos = {d.code: i for i, d in enumerate(towns)}
    village_pos = {d.code: i for i, d in enumerate(villages)}
    grids = session.execute(select(Grid.code, Grid.area_class, Grid.village_code, Grid.geom).order_by(Grid.code)).all()
    grid_geoms = _prepared([g.geom for g in grids])
    village_geoms = _prepared([d.geom for d in villages])
    township_geoms = _prepared([d.geom for d in towns])
    county_geom = county.geom if county else None
    spill = False
    if county_geom is not None:
        shapely.prepare(county_geom)
        others = np.concatenate([village_geoms, township_geoms])
        # 1e-7° (~1 cm) absorbs the rounding of cuts; a surveyed division reaching further out counts
        spill = bool(len(others)) and not bool(shapely.covers(county_geom.buffer(1e-7), others).all())
    return SpatialIndex(
        stamp=stamp,
        county_code=county.code if county else None,
        county_geom=county_geom,
        township_codes=np.array([d.code for d in towns], dtype=str),
        township_names=np.array([d.name for d in towns], dtype=str),
        township_tree=shapely.STRtree(list(township_geoms)),
        village_codes=np.array([d.code for d in villages], dtype=str),
        village_names=np.array([d.name for d in villages], dtype=str),
        village_township=np.array([town_pos.get(d.code[:9], NONE) for d in villages], dtype=np.int64),
        village_tree=shapely.STRtree(list(village_geoms)),
        grid_codes=np.array([g.code for g in grids], dtype=str),
        grid_area_class=np.array([str(g.area_class) for g in grids], dtype=str),
        grid_village=np.array([village_pos.get(g.village_code, NONE) for g in grids], dtype=np.int64),
        grid_tree=shapely.STRtree(list(grid_geoms)),
        grid_geoms=grid_geoms,
        village_geoms=village_geoms,
        township_geoms=township_geoms,
        divisions_spill=spill,
    )


# --- the service interface -------------------------------------------------------------------


def _pick(values: NDArray[np.str_], i: int) -> str | None:
    return str(values[i]) if i >= 0 else None


@dataclass(frozen=True)
class PlaceBatch:
    """The result of :func:`locate_many`: column arrays, with :class:`Place` objects on demand."""

    ix: SpatialIndex = field(repr=False)
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    grid: NDArray[np.int64]
    village: NDArray[np.int64]
    township: NDArray[np.int64]
    inside: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.lon)

    def __getitem__(self, i: int) -> Place | None:
        """The place of point ``i``, or None when it is outside the county."""
        if not self.inside[i]:
            return None
        g, v, t = int(self.grid[i]), int(self.village[i]), int(self.township[i])
        return Place(
            county_code=self.ix.county_code or "",
            township_code=_pick(self.ix.township_codes, t),
            township_name=_pick(self.ix.township_names, t),
            village_code=_pick(self.ix.village_codes, v),
            village_name=_pick(self.ix.village_names, v),
            grid_code=_pick(self.ix.grid_codes, g),
            area_class=_pick(self.ix.grid_area_class, g),
            lon=float(self.lon[i]),
            lat=float(self.lat[i]),
        )

    def __iter__(self) -> Iterator[Place | None]:
        return (self[i] for i in range(len(self)))

    @property
    def grid_codes(self) -> NDArray[np.str_]:
        """15-digit grid code per point ('' where none)."""
        return (
            np.where(self.grid >= 0, self.ix.grid_codes[np.maximum(self.grid, 0)], "")
            if len(self.ix.grid_codes)
            else np.full(len(self), "", dtype=str)
        )


def _require_county(ix: SpatialIndex) -> None:
    if ix.county_code is None:
        raise NotFound(N_("No county has been set up yet; run `countyos geo bootstrap --county <code>` first"))


def _as_array(values: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValidationFailed(N_("Coordinates must be given as flat lists"))
    return arr


def locate_many(session: Session, lons: ArrayLike, lats: ArrayLike, crs: str = "wgs84") -> PlaceBatch:
    """Locate many points at once (numpy arrays or sequences; converted from ``crs`` first)."""
    ix = index(session)
    _require_county(ix)
    x, y = _as_array(lons), _as_array(lats)
    if len(x) != len(y):
        raise ValidationFailed(N_("As many latitudes as longitudes are needed"))
    if normalize_crs(crs) in ("gcj02", "bd09"):
        x, y = to_wgs84(x, y, crs)
    grid, village, township, inside = ix.lookup(x, y)
    return PlaceBatch(ix=ix, lon=x, lat=y, grid=grid, village=village, township=township, inside=inside)


def outside_error(lon: float, lat: float) -> OutsideCounty:
    return OutsideCounty(
        N_(
            "The point %(lon).6f, %(lat).6f is outside the county. Check that longitude and "
            "latitude are not swapped and that the coordinate system (WGS-84, GCJ-02 or "
            "BD-09) is the one your map or device uses."
        ),
        lon=lon,
        lat=lat,
    )


def _check_number(lon: float, lat: float) -> None:
    if not (np.isfinite(lon) and np.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationFailed(N_("Longitude must be between -180 and 180 and latitude between -90 and 90"))


def locate(session: Session, *, lon: float, lat: float, crs: str = "wgs84") -> Place:
    """The place of one point; :class:`OutsideCounty` (422, ``outside_county``) when it is outside."""
    _check_number(lon, lat)
    wlon, wlat = to_wgs84(float(lon), float(lat), crs)
    if session.get_bind().dialect.name == "postgresql":
        return _locate_postgis(session, wlon, wlat)
    batch = locate_many(session, np.array([wlon]), np.array([wlat]))
    place = batch[0]
    if place is None:
        raise outside_error(wlon, wlat)
    return place


_PG_HIT = {
    "grid": "SELECT code, area_class FROM geo_grid WHERE ST_Intersects(geom, {p}) ORDER BY code LIMIT 1",
    "division": "SELECT code, name FROM geo_division WHERE level = :level AND ST_Intersects(geom, {p}) "
    "ORDER BY code LIMIT 1",
}
_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"


def _locate_postgis(session: Session, lon: float, lat: float) -> Place:
    params = {"lon": lon, "lat": lat}
    county = session.execute(
        text(_PG_HIT["division"].format(p=_POINT)), {**params, "level": DivisionLevel.COUNTY.value}
    ).first()
    if county is None:
        if session.execute(select(Division.id).where(Division.level == DivisionLevel.COUNTY)).first() is None:
            raise NotFound(N_("No county has been set up yet; run `countyos geo bootstrap --county <code>` first"))
        raise outside_error(lon, lat)
    grid = session.execute(text(_PG_HIT["grid"].format(p=_POINT)), params).first()
    names = {}
    if grid is not None:
        codes = [grid.code[:9], grid.code[:12]]
        names = dict(session.execute(select(Division.code, Division.name).where(Division.code.in_(codes))).all())
        village: tuple[str, str] | None = (grid.code[:12], names.get(grid.code[:12], ""))
        township: tuple[str, str] | None = (grid.code[:9], names.get(grid.code[:9], ""))
    else:
        v = session.execute(
            text(_PG_HIT["division"].format(p=_POINT)), {**params, "level": DivisionLevel.VILLAGE.value}
        ).first()
        village = (v.code, v.name) if v else None
        if v is not None:
            t_name = session.execute(select(Division.name).where(Division.code == v.code[:9])).scalar_one_or_none()
            township = (v.code[:9], t_name or "")
        else:
            t = session.execute(
                text(_PG_HIT["division"].format(p=_POINT)), {**params, "level": DivisionLevel.TOWNSHIP.value}
            ).first()
            township = (t.code, t.name) if t else None
    return Place(
        county_code=county.code,
        township_code=township[0] if township else None,
        township_name=township[1] if township else None,
        village_code=village[0] if village else None,
        village_name=village[1] if village else None,
        grid_code=grid.code if grid else None,
        area_class=str(grid.area_class) if grid else None,
        lon=lon,
        lat=lat,
    )


def locate_geometries(session: Session, geoms: Sequence[BaseGeometry]) -> PlaceBatch:
    """Locate the representative points of geometries (lines use their middle point)."""
    pts = [
        g
        if g.geom_type == "Point"
        else g.interpolate(0.5, normalized=True)
        if g.geom_type == "LineString"
        else g.representative_point()
        for g in geoms
    ]
    return locate_many(session, np.array([p.x for p in pts]), np.array([p.y for p in pts]))
