"""Tables of the traffic part: road segments (imported lines) — read by the resources part for distances
along roads; (the traffic part adds parking lots, their occupancy and road incidents).

- ``safety_road``: one road segment, a line (PostGIS ``geometry`` on PostgreSQL, WKB on SQLite) with its
  length in metres (measured in an equal-area/metric projection when imported), its ends as plain
  coordinates so a network can be built from the ends that meet, and whether it is one-way.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime
from countyos.geo.models import Geometry


class RoadClass(StrEnum):
    EXPRESSWAY = "expressway"  # 高速公路
    NATIONAL = "national"  # 国道
    PROVINCIAL = "provincial"  # 省道
    COUNTY = "county"  # 县道
    TOWNSHIP = "township"  # 乡道
    VILLAGE = "village"  # 村道
    URBAN = "urban"  # 城市道路
    OTHER = "other"


class RoadSegment(Base):
    __tablename__ = "safety_road"
    __table_args__ = (Index("gix_safety_road_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), index=True)  # 路线编码, e.g. G235 or X501
    name: Mapped[str] = mapped_column(String(200), default="")
    road_class: Mapped[RoadClass] = mapped_column(StrEnumType(RoadClass, 12), default=RoadClass.OTHER)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry())  # LineString, WGS 84
    length_m: Mapped[float] = mapped_column(Float)
    start_lon: Mapped[float] = mapped_column(Float)
    start_lat: Mapped[float] = mapped_column(Float)
    end_lon: Mapped[float] = mapped_column(Float)
    end_lat: Mapped[float] = mapped_column(Float)
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
