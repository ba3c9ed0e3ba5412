"""GeoJSON of locations and features: a representative point and a bounding box for plain SQL."""

from __future__ import annotations

from typing import Any

import shapely
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
