"""Tables of the assets part of the ecology domain: land-use layers, their areas by class and division,
and the ESV (equivalent-factor) results computed from them.

- ``eco_landuse_layer``: one imported file (name, year, source, kind, CRS, the mapping used, who/when,
  a version per name and year), a small preview for the map.
- ``eco_landuse_area``: hectares of one accounting class in one division (the county, each township,
  each village; "" when no county is set up: the whole file) of a layer.
- ``eco_esv_result``: one ESV account of a layer for a year and a price method, with its unit value
  and where it came from, totals by class, service and division.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class FileKind(StrEnum):
    GEOJSON = "geojson"
    SHAPEFILE = "shapefile"  # zipped
    GEOPACKAGE = "geopackage"
    GEOTIFF = "geotiff"


class PriceMethod(StrEnum):
    """How the standard equivalent value is brought to the accounting year."""

    STANDARD = "standard"  # 3406.5 元/hm² in 2010 prices, unchanged
    CPI = "cpi"  # × CPI(year) / CPI(2010)
    GRAIN = "grain"  # 1/7 of the grain output value per hm² of the year (yield × price)


class LandUseLayer(Base):
    __tablename__ = "eco_landuse_layer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(500), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_kind: Mapped[FileKind] = mapped_column(StrEnumType(FileKind, 16))
    crs: Mapped[str] = mapped_column(String(200))
    class_field: Mapped[str | None] = mapped_column(String(100))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_classes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # source class → ha, target
    unmapped: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # source class → ha (left out)
    features: Mapped[int] = mapped_column(Integer, default=0)
    pixels: Mapped[int] = mapped_column(Integer, default=0)
    total_ha: Mapped[float] = mapped_column(Float, default=0.0)
    projection: Mapped[str] = mapped_column(String(200))
    preview: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("name", "year", "version", name="uq_eco_landuse_layer_version"),)


class LandUseArea(Base):
    __tablename__ = "eco_landuse_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("eco_landuse_layer.id", ondelete="CASCADE"), index=True)
    division_code: Mapped[str] = mapped_column(String(12))
    class_code: Mapped[str] = mapped_column(String(20))
    hectares: Mapped[float] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("layer_id", "division_code", "class_code", name="uq_eco_landuse_area"),)


class EsvResult(Base):
    __tablename__ = "eco_esv_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("eco_landuse_layer.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    method: Mapped[PriceMethod] = mapped_column(StrEnumType(PriceMethod, 16))
    unit_value: Mapped[float] = mapped_column(Float)  # 元/hm² of one equivalent
    unit_source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total_yuan: Mapped[float] = mapped_column(Float)
    by_class: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by_service: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by_division: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("layer_id", "year", "method", name="uq_eco_esv_result"),)
