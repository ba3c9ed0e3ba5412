"""Pydantic shapes of the geo API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from countyos.geo.models import AreaClass


class PlaceOut(BaseModel):
    county_code: str
    township_code: str | None
    township_name: str | None
    village_code: str | None
    village_name: str | None
    grid_code: str | None
    area_class: str | None
    lon: float
    lat: float


class LocateBatchIn(BaseModel):
    lons: list[float] = Field(max_length=100_000)
    lats: list[float] = Field(max_length=100_000)
    crs: str = "wgs84"


class LocateBatchOut(BaseModel):
    places: list[PlaceOut | None]  # None where the point is outside the county
    outside: int


class ConvertOut(BaseModel):
    lon: float
    lat: float
    crs: str


class GridPatch(BaseModel):
    area_class: AreaClass | None = None
    name: str | None = Field(default=None, max_length=100)
    department_id: int | None = None
    worker_ids: list[int] | None = None


class GridOut(BaseModel):
    code: str
    village_code: str
    township_code: str
    county_code: str
    name: str | None
    area_class: str
    department_id: int | None
    worker_ids: list[int]
    approximate: bool
    area_m2: float


class GeometryIn(BaseModel):
    """A GeoJSON geometry (Point, LineString or Polygon) in ``crs``."""

    type: Literal["Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


class ComponentCreate(BaseModel):
    class_code: str = Field(pattern=r"^\d{5}$")
    geometry: GeometryIn
    crs: str = "wgs84"
    code: str | None = Field(default=None, pattern=r"^\d{17}$")
    name: str | None = Field(default=None, max_length=30)
    owner_dept_code: str | None = Field(default=None, max_length=18)
    owner_dept_name: str | None = Field(default=None, max_length=100)
    property_unit_code: str | None = Field(default=None, max_length=18)
    property_unit_name: str | None = Field(default=None, max_length=100)
    maintainer_code: str | None = Field(default=None, max_length=18)
    maintainer_name: str | None = Field(default=None, max_length=100)
    status: str = "intact"
    initial_date: date | None = None
    data_source: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=1000)


class ComponentPatch(BaseModel):
    name: str | None = Field(default=None, max_length=30)
    owner_dept_code: str | None = Field(default=None, max_length=18)
    owner_dept_name: str | None = Field(default=None, max_length=100)
    property_unit_code: str | None = Field(default=None, max_length=18)
    property_unit_name: str | None = Field(default=None, max_length=100)
    maintainer_code: str | None = Field(default=None, max_length=18)
    maintainer_name: str | None = Field(default=None, max_length=100)
    status: str | None = None
    data_source: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=1000)
    geometry: GeometryIn | None = None
    crs: str = "wgs84"

    @field_validator("status")
    @classmethod
    def _status(cls, v: str | None) -> str | None:
        return v.strip() if v else v


class ComponentClassOut(BaseModel):
    kind: str
    code: str
    major_code: str
    major_name: str
    name: str


class RowErrorOut(BaseModel):
    row: int
    field: str | None
    code: str | None
    message: str


class ImportReportOut(BaseModel):
    total: int
    imported: int
    skipped: int
    errors: list[RowErrorOut]
    notes: list[str]
    source_crs: str | None


class SearchHit(BaseModel):
    kind: str  # county | township | village | grid | component | address
    kind_name: str  # the kind in the interface language
    code: str
    name: str
    path: list[str]  # county › township › village names above the place
    lon: float  # a point inside the place (CGCS2000 ≈ WGS-84)
    lat: float
    precise: bool  # a surveyed point (component) rather than an area
    approximate: bool = False
    bbox: list[float] = Field(min_length=4, max_length=4)  # west, south, east, north


class BasemapOut(BaseModel):
    source: str  # remote | local | none
    tiles: str | None  # tile URL template on this server, None without a base layer
    crs: str  # wgs84 | cgcs2000 | gcj02: the coordinate system the tile pictures are drawn in
    min_zoom: int
    max_zoom: int
    attribution: str
    bounds: list[float] | None = Field(min_length=4, max_length=4)  # of the tiles, when known
    county_bbox: list[float] | None = Field(min_length=4, max_length=4)  # of the county, when set up
    labelled: bool  # the tiles carry township and village names
    overlays: bool  # the caller may read the boundary collections (geo.read)
    labels: dict[str, str]  # words of the map pick (position-pick.js) in the interface language
