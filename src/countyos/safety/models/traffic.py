"""Tables of the traffic part: road segments (imported lines) — read by the resources part for distances
along roads; parking lots whose occupied spaces come from a sensing datastream; road incidents published as notices.

- ``safety_road``: one road segment, a line (PostGIS ``geometry`` on PostgreSQL, WKB on SQLite) with its
  length in metres (measured in an equal-area/metric projection when imported), its ends as plain
  coordinates so a network can be built from the ends that meet, and whether it is one-way.
- ``safety_parking_lot``: a parking lot with its capacity and the datastream of its occupied spaces.
- ``safety_road_incident``: a road incident (事故, 拥堵, 施工, 封闭) draft → published → ended.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
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


# --- parking lots (停车场) --------------------------------------------------------------------------


class ParkingKind(StrEnum):
    PUBLIC = "public"  # 公共停车场
    STREET = "street"  # 路内停车
    SCENIC = "scenic"  # 景区停车场
    HOSPITAL = "hospital"  # 医院停车场
    MARKET = "market"  # 市场停车场
    OTHER = "other"


class ParkingLot(Base):
    """A parking lot; its occupied spaces come from a sensing datastream (when one is attached)."""

    __tablename__ = "safety_parking_lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[ParkingKind] = mapped_column(StrEnumType(ParkingKind, 12), default=ParkingKind.PUBLIC)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="")
    township: Mapped[str] = mapped_column(String(60), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    charging: Mapped[int] = mapped_column(Integer, default=0)
    fee: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[str] = mapped_column(String(100), default="")
    datastream_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_datastream.id", ondelete="SET NULL"), index=True
    )
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- road incidents (道路事件) ----------------------------------------------------------------------


class IncidentKind(StrEnum):
    ACCIDENT = "accident"  # 事故
    CONGESTION = "congestion"  # 拥堵
    CONSTRUCTION = "construction"  # 施工
    CLOSURE = "closure"  # 封闭
    OTHER = "other"


class IncidentSeverity(StrEnum):
    MINOR = "minor"  # 一般: slower traffic
    MAJOR = "major"  # 较重: one lane or one direction
    SEVERE = "severe"  # 严重: the road closed


class IncidentState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ENDED = "ended"


class RoadIncident(Base):
    """A road incident (道路事件): a draft the bureau prepares, published as a public notice until it ends
    (by hand, or when ``ends_at`` passes). ``token`` names it on public pages (never the id); ``note`` is
    internal and never leaves the staff pages."""

    __tablename__ = "safety_road_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[IncidentKind] = mapped_column(StrEnumType(IncidentKind, 14))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[IncidentSeverity] = mapped_column(StrEnumType(IncidentSeverity, 8), default=IncidentSeverity.MINOR)
    road_id: Mapped[int | None] = mapped_column(ForeignKey("safety_road.id", ondelete="SET NULL"), index=True)
    from_words: Mapped[str] = mapped_column(String(120), default="")
    to_words: Mapped[str] = mapped_column(String(120), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    line: Mapped[list[list[float]] | None] = mapped_column(JSON)  # [[lon, lat], …] WGS 84, drawn or typed
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detour: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")  # internal
    state: Mapped[IncidentState] = mapped_column(
        StrEnumType(IncidentState, 10), default=IncidentState.DRAFT, index=True
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
