"""Coordinate systems: WGS-84 / CGCS2000 ↔ GCJ-02 (高德, 腾讯) ↔ BD-09 (百度), and projected metres.

CountyOS stores lon/lat in CGCS2000 (EPSG:4490), which differs from WGS-84 (EPSG:4326) by well under a
metre, so the two are treated as one datum. GCJ-02 ("火星坐标") and BD-09 exist only at the edge: phone
SDKs and commercial web maps send them, and CountyOS converts on the way in and out. Outside China
the GCJ-02 offset is not applied, so conversions there are the identity.

For areas and distances the CGCS2000 3-degree Gauss-Krüger zone is picked from the longitude
(EPSG:4534 … 4554, central meridians 75°E … 135°E).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal, TypeVar, overload

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_

CrsName = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
CRS_NAMES: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Accepted spellings, including the EPSG and OGC URI forms used by the collections API.
_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "crs84": "wgs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": "wgs84",
    "http://www.opengis.net/def/crs/epsg/0/4326": "wgs84",
    "cgcs2000": "cgcs2000",
    "epsg:4490": "cgcs2000",
    "4490": "cgcs2000",
    "http://www.opengis.net/def/crs/epsg/0/4490": "cgcs2000",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "amap": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "baidu": "bd09",
}

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

F = TypeVar("F", float, NDArray[np.float64])


def normalize_crs(crs: str | None) -> str:
    """``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09`` for any accepted spelling; a 422 otherwise."""
    key = (crs or "wgs84").strip().lower()
    if key not in _ALIASES:
        raise ValidationFailed(
            N_("Unknown coordinate system %(crs)s; use EPSG:4326, EPSG:4490, gcj02 or bd09"), crs=crs or ""
        )
    return _ALIASES[key]


def in_china(lon: F, lat: F) -> F:
    """True where GCJ-02 applies (the rough mainland box that the common implementations use)."""
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)  # type: ignore[return-value]


def _transform_lat(x: F, y: F) -> F:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret  # type: ignore[no-any-return]


def _transform_lon(x: F, y: F) -> F:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret  # type: ignore[no-any-return]


def _gcj_offset(lon: F, lat: F) -> tuple[F, F]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: F, lat: F) -> tuple[F, F]:
    dlon, dlat = _gcj_offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon)[()], np.where(inside, lat + dlat, lat)[()]  # type: ignore[return-value]


def gcj02_to_wgs84(lon: F, lat: F) -> tuple[F, F]:
    """Inverse by fixed-point iteration: converges to ~1e-9 degrees (millimetres) in a few steps."""
    wlon, wlat = lon, lat
    for _ in range(6):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon = wlon - (glon - lon)
        wlat = wlat - (glat - lat)
    inside = in_china(lon, lat)
    return np.where(inside, wlon, lon)[()], np.where(inside, wlat, lat)[()]  # type: ignore[return-value]


def gcj02_to_bd09(lon: F, lat: F) -> tuple[F, F]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: F, lat: F) -> tuple[F, F]:
    """Inverse of :func:`gcj02_to_bd09` by iteration (the textbook closed form is off by ~1 m)."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(4):
        blon, blat = gcj02_to_bd09(glon, glat)
        glon, glat = glon - (blon - lon), glat - (blat - lat)
    return glon, glat


@overload
def to_wgs84(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]: ...
@overload
def to_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64], crs: str = "wgs84"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def to_wgs84(lon, lat, crs="wgs84"):  # type: ignore[no-untyped-def]
    """Convert coordinates given in ``crs`` to WGS-84/CGCS2000 lon/lat (scalars or numpy arrays)."""
    name = normalize_crs(crs)
    scalar = np.isscalar(lon)
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if name == "gcj02":
        x, y = gcj02_to_wgs84(x, y)
    elif name == "bd09":
        x, y = gcj02_to_wgs84(*bd09_to_gcj02(x, y))
    return (float(x), float(y)) if scalar else (np.asarray(x), np.asarray(y))


@overload
def from_wgs84(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]: ...
@overload
def from_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64], crs: str = "wgs84"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def from_wgs84(lon, lat, crs="wgs84"):  # type: ignore[no-untyped-def]
    """Convert WGS-84/CGCS2000 lon/lat to ``crs`` (scalars or numpy arrays)."""
    name = normalize_crs(crs)
    scalar = np.isscalar(lon)
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if name == "gcj02":
        x, y = wgs84_to_gcj02(x, y)
    elif name == "bd09":
        x, y = gcj02_to_bd09(*wgs84_to_gcj02(x, y))
    return (float(x), float(y)) if scalar else (np.asarray(x), np.asarray(y))


def transform_geometry(geom: BaseGeometry, *, to: str = "wgs84", source: str = "wgs84") -> BaseGeometry:
    """A geometry with every vertex converted from ``source`` to ``to`` (both lon/lat CRS names)."""
    src, dst = normalize_crs(source), normalize_crs(to)
    if src == dst or {src, dst} == {"wgs84", "cgcs2000"}:
        return geom

    def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = to_wgs84(coords[:, 0], coords[:, 1], src)
        x, y = from_wgs84(x, y, dst)
        return np.column_stack([x, y])

    return shapely.transform(geom, convert)


# --- projected metres -------------------------------------------------------------------------


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (no zone prefix) containing ``lon``."""
    cm = round(lon / 3.0) * 3
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


@lru_cache(maxsize=32)
def _transformer(epsg: int, inverse: bool) -> Transformer:
    if inverse:
        return Transformer.from_crs(epsg, 4490, always_xy=True)
    return Transformer.from_crs(4490, epsg, always_xy=True)


def to_metres(geom: BaseGeometry, epsg: int | None = None) -> BaseGeometry:
    """The geometry in the Gauss-Krüger zone of its centre (or the zone given), in metres."""
    epsg = epsg or gauss_kruger_epsg(geom.centroid.x)
    t = _transformer(epsg, False)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def from_metres(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    t = _transformer(epsg, True)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def area_m2(geom: BaseGeometry) -> float:
    """Area in square metres, measured in the geometry's Gauss-Krüger zone."""
    if geom.is_empty:
        return 0.0
    return float(to_metres(geom).area)


def planar_area_m2(geom: BaseGeometry) -> float:
    """Area of a small lon/lat shape in square metres, scaled at its latitude without projecting.

    Topology (overlaps, gaps, slivers) lives in lon/lat, where CountyOS cuts and stores polygons; a
    projection bends their straight edges by centimetres, which would turn collinear rounding specks
    into square metres. This measure keeps a speck a speck.
    """
    if geom.is_empty:
        return 0.0
    lat = math.radians(geom.representative_point().y)
    return float(geom.area * 111_320.0 * math.cos(lat) * 110_574.0)


_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by 0.1 mm in the flattening


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ellipsoidal distance in metres between two WGS-84/CGCS2000 points."""
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])
