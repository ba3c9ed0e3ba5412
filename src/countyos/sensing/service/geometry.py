"""GeoJSON of locations and features: a representative point and a bounding box for plain SQL."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import shapely
import shapely.errors
import shapely.prepared
import shapely.wkt
from shapely.geometry import shape

from countyos.core.errors import ValidationFailed


def geometry_of(value: dict[str, Any]) -> dict[str, Any]:
    """The geometry inside a GeoJSON Feature, or the value itself."""
    if value.get("type") == "Feature":
        return dict(value.get("geometry") or {})
    return value


def describe(value: dict[str, Any] | None) -> dict[str, float | None]:
    """lon/lat of a representative point and the bbox, or all None for a missing geometry."""
    empty: dict[str, float | None] = {k: None for k in ("lon", "lat", "min_x", "min_y", "max_x", "max_y")}
    if not value:
        return empty
    try:
        geom = shape(geometry_of(value))
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise ValidationFailed("The location is not valid GeoJSON: %(error)s", error=str(exc)) from exc
    if geom.is_empty:
        return empty
    point = geom if geom.geom_type == "Point" else shapely.point_on_surface(geom)
    minx, miny, maxx, maxy = geom.bounds
    return {"lon": point.x, "lat": point.y, "min_x": minx, "min_y": miny, "max_x": maxx, "max_y": maxy}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


# --- geometry functions for SensorThings $filter on SQLite (no SpatiaLite) ---------------------------
#
# PostgreSQL answers st_* with PostGIS. SQLite gets one application-defined SQL function,
# ``sta_geo(op, stored GeoJSON text, WKT literal, pattern)``, evaluated by shapely inside the query
# (the query stays one SQL statement: filtering, ordering and paging remain SQLite's); parsed
# geometries are cached, so a location is parsed once however often it is compared.

SQLITE_FUNCTION = "sta_geo"
_PREDICATES = ("intersects", "within", "contains", "equals", "disjoint", "touches", "overlaps", "crosses")


@lru_cache(maxsize=16384)
def _stored(text: str) -> Any:
    return shapely.prepared.prep(shape(geometry_of(json.loads(text)))) if text else None


@lru_cache(maxsize=16384)
def _shape(text: str) -> Any:
    return shape(geometry_of(json.loads(text)))


@lru_cache(maxsize=256)
def _wkt(text: str) -> Any:
    return shapely.wkt.loads(text)


def sta_geo(op: str, stored: str | None, wkt: str | None, pattern: str | None = None) -> float | int | None:
    """``op`` of a stored GeoJSON geometry and a WKT literal: a predicate (1/0), ``relate`` with a DE-9IM
    pattern (1/0), ``distance`` or ``length`` (planar, in the coordinates' units like PostGIS geometry)."""
    if stored is None:
        return None
    try:
        if op == "length":
            return float(_shape(stored).length)
        if wkt is None:
            return None
        other = _wkt(wkt)
        if op == "distance":
            return float(_shape(stored).distance(other))
        if op == "relate":
            return int(_shape(stored).relate_pattern(other, pattern or ""))
        if op in _PREDICATES:
            fn = getattr(_stored(stored), op, None)
            return int(fn(other)) if fn is not None else int(getattr(_shape(stored), op)(other))
    except (ValueError, TypeError, shapely.errors.ShapelyError):
        return None
    return None


def register_sqlite(dbapi_connection: Any) -> None:
    """Make ``sta_geo`` available on a sqlite3 connection (idempotent, cheap)."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 4, sta_geo, deterministic=True)
