"""Helpers of the assets tests: land-use files made in the test (GeoJSON, zipped Shapefile, GeoPackage,
GeoTIFF), the reference areas they are checked against (pyproj's geodesic area), and 遂昌县's divisions."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.geo.service import divisions

GEOD = Geod(ellps="GRS80")
COUNTY = "331123"  # 遂昌县


def geodesic_ha(geom_lonlat: BaseGeometry, step: float = 0.0005) -> float:
    """Reference: the geodesic area of a lon/lat polygon (edges densified so that they follow the
    lon/lat straight lines the file means)."""
    area, _ = GEOD.geometry_area_perimeter(shapely.segmentize(geom_lonlat, step))
    return abs(area) / 10_000


def projected_ha(geom: BaseGeometry, crs: str, step: float = 20.0) -> float:
    """Reference for a polygon in a projected CRS: densified, taken to lon/lat, geodesic area."""
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    dense = shapely.segmentize(geom, step)
    ll = shapely.transform(dense, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    area, _ = GEOD.geometry_area_perimeter(ll)
    return abs(area) / 10_000


def box(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    return shapely.box(x0, y0, x1, y1)


def geojson(items: list[tuple[BaseGeometry, dict[str, Any]]], crs: str | None = None) -> bytes:
    fc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(g))}
            for g, props in items
        ],
    }
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(fc, ensure_ascii=False).encode()


def _write(path: Path, items: list[tuple[BaseGeometry, dict[str, Any]]], crs: str, driver: str) -> None:
    from pyogrio import raw

    names = list(items[0][1])
    fields = [np.asarray([props[n] for _, props in items], dtype=object) for n in names]
    geoms = np.asarray([shapely.to_wkb(g) for g, _ in items], dtype=object)
    raw.write(str(path), geoms, fields, names, crs=crs, driver=driver, geometry_type="Polygon", encoding="UTF-8")


def shapefile_zip(tmp: Path, items: list[tuple[BaseGeometry, dict[str, Any]]], crs: str = "EPSG:4326") -> bytes:
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    _write(folder / "landuse.shp", items, crs, "ESRI Shapefile")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(folder.iterdir()):
            z.write(p, p.name)
    return buf.getvalue()


def geopackage(tmp: Path, items: list[tuple[BaseGeometry, dict[str, Any]]], crs: str = "EPSG:4326") -> bytes:
    path = tmp / "landuse.gpkg"
    _write(path, items, crs, "GPKG")
    return path.read_bytes()


def geotiff(arr: np.ndarray[Any, Any], crs: str, transform: Any, nodata: int | None = None) -> bytes:
    from rasterio.io import MemoryFile

    with MemoryFile() as mf:
        with mf.open(driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype=str(arr.dtype),
                     crs=crs, transform=transform, nodata=nodata) as ds:  # fmt: skip
            ds.write(arr, 1)
        return bytes(mf.read())


@dataclass
class County:
    code: str
    township: str
    villages: list[str]
    townships: list[str]


def suichang(db: Database) -> County:
    """遂昌县 with its (approximate) townships and villages."""
    with db.unit_of_work() as s:
        divisions.bootstrap(s, actor=Actor(id=None, name="test"), county_code=COUNTY)
        towns = [d.code for d in divisions.children(s, parent_code=COUNTY)]
        town = next(t for t in towns if len(divisions.children(s, parent_code=t)) >= 2)
        villages = [d.code for d in divisions.children(s, parent_code=town)]
        return County(COUNTY, town, villages, towns)


def county_geom(db: Database, code: str = COUNTY) -> BaseGeometry:
    from sqlalchemy import select

    from countyos.geo.models import Division

    with db.unit_of_work() as s:
        geom: BaseGeometry = s.scalars(select(Division.geom).where(Division.code == code)).one()
        return geom


def test_reference_area_of_a_lonlat_box_matches_the_ellipsoid_formula() -> None:
    """The reference itself: pyproj's geodesic area of a 0.1° box agrees with the analytic area of the
    cell between two parallels on the ellipsoid (the geodesic edges bulge a little: < 0.001 %)."""
    from countyos.eco.service.landuse_read import cell_area_m2

    ref = geodesic_ha(box(119.0, 28.5, 119.1, 28.6))
    exact = float(cell_area_m2(28.5, 28.6, 0.1)) / 10_000
    assert ref == pytest.approx(exact, rel=1e-5)
