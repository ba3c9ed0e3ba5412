"""Where a case is: one call into the geo domain (``geo.service.locate``), replaceable in tests.

The geo domain resolves a point (WGS-84, CGCS2000, GCJ-02 or BD-09) to its township, village, unit
grid and area class, and rejects a point outside the county (``OutsideCounty``, a 422).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.errors import ValidationFailed

CRS_VALUES = ("wgs84", "cgcs2000", "gcj02", "bd09")


@dataclass(frozen=True)
class Place:
    county_code: str
    township_code: str | None
    township_name: str | None
    village_code: str | None
    village_name: str | None
    grid_code: str | None
    area_class: str | None
    lon: float
    lat: float


Locator = Callable[..., Any]
_override: Locator | None = None


@contextmanager
def using(locator: Locator) -> Iterator[None]:
    """Use another locator (tests, the benchmark's baseline) inside the block."""
    global _override
    before, _override = _override, locator
    try:
        yield
    finally:
        _override = before


def _geo_locate() -> Locator:
    from countyos.geo import service as geo_service

    fn: Locator = geo_service.locate
    return fn


def locate(session: Session, *, lon: float, lat: float, crs: str = "wgs84") -> Place:
    if crs not in CRS_VALUES:
        raise ValidationFailed(
            "Unknown coordinate system %(crs)s; use one of %(all)s", crs=crs, all=", ".join(CRS_VALUES)
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationFailed("The position %(lon)s, %(lat)s is not a longitude/latitude pair", lon=lon, lat=lat)
    p = (_override or _geo_locate())(session, lon=lon, lat=lat, crs=crs)
    return Place(
        county_code=p.county_code,
        township_code=p.township_code,
        township_name=p.township_name,
        village_code=p.village_code,
        village_name=p.village_name,
        grid_code=p.grid_code,
        area_class=p.area_class,
        lon=p.lon,
        lat=p.lat,
    )


def grid_worker_ids(session: Session, *, grid_code: str | None) -> list[int]:
    """The grid workers of a unit grid (geo); empty when the grid is unknown."""
    if not grid_code:
        return []
    from countyos.core.errors import NotFound
    from countyos.geo import service as geo_service

    try:
        return list(geo_service.grid_for_code(session, grid_code).worker_ids)
    except NotFound:
        return []


def grids_of_worker(session: Session, *, user_id: int) -> list[str]:
    """The codes of the unit grids a grid worker is responsible for (geo)."""
    from countyos.geo import service as geo_service

    return [g.code for g in geo_service.grids_of_worker(session, user_id)]


@dataclass(frozen=True)
class AddressSpot:
    name: str
    lon: float
    lat: float


def place_address(session: Session, *, text: str) -> AddressSpot | None:
    """A point inside the village (or township) a free-text address names, or None (``geo.place_address``)."""
    from countyos.geo import service as geo_service

    got = geo_service.place_address(session, text=text)
    return AddressSpot(name=got.name, lon=got.lon, lat=got.lat) if got else None
