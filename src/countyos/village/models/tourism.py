"""Tables of the tourism part of the village domain (文旅).

- ``village_spot``: a scenic spot (景区) with its A-level, outline (GeoJSON polygon, WGS-84), 最大承载量
  (瞬时 and 日), opening hours, manager and public description; ``crowding`` is its current level.
- ``village_spot_counter``: a pair of sensing datastreams (entries, exits; persons per interval) counting
  the spot's gates; a spot has one pair per gate.
- ``village_spot_daily``: the day's totals of a spot (local day), recomputed by a job from the
  observations, and the revenue its manager reported.
- ``village_homestay`` and ``village_homestay_report``: the 民宿/农家乐 register and the keeper's daily
  occupancy report (one per house and day).
- ``village_tourism_event``: the events calendar.
- ``village_heritage_item``, ``village_heritage_inheritor``, ``village_traditional_village``: culture
  resources (非遗 items and their 传承人, 传统村落).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class ALevel(StrEnum):
    """A级旅游景区 grade (GB/T 17775)."""

    NONE = "none"
    A1 = "A"
    A2 = "AA"
    A3 = "AAA"
    A4 = "AAAA"
    A5 = "AAAAA"


class Crowding(StrEnum):
    """A spot's crowding level (thresholds in ``data/tourism_crowding.json``)."""

    NORMAL = "normal"
    WARN = "l75"  # 75 % of the instantaneous capacity
    HIGH = "l90"  # 90 %
    FULL = "l100"  # 100 %


class StayKind(StrEnum):
    HOMESTAY = "homestay"  # 民宿
    FARMSTAY = "farmstay"  # 农家乐


class EventKind(StrEnum):
    FESTIVAL = "festival"  # 节庆
    PERFORMANCE = "performance"  # 演出
    SPORTS = "sports"  # 体育赛事
    EXHIBITION = "exhibition"  # 展览
    FARMING = "farming"  # 农事体验
    OTHER = "other"


class HeritageLevel(StrEnum):
    NATIONAL = "national"  # 国家级
    PROVINCIAL = "provincial"  # 省级
    MUNICIPAL = "municipal"  # 市级
    COUNTY = "county"  # 县级


class Spot(Base):
    __tablename__ = "village_spot"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    a_level: Mapped[ALevel] = mapped_column(StrEnumType(ALevel, 8), default=ALevel.NONE)
    outline: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # GeoJSON Polygon/MultiPolygon, WGS-84
    lon: Mapped[float | None] = mapped_column(Float)  # a point inside the outline (or the entrance)
    lat: Mapped[float | None] = mapped_column(Float)
    capacity_instant: Mapped[int] = mapped_column(Integer)  # 瞬时最大承载量 (persons)
    capacity_daily: Mapped[int] = mapped_column(Integer)  # 日最大承载量 (persons)
    opens: Mapped[str] = mapped_column(String(5), default="08:00")  # local time HH:MM
    closes: Mapped[str] = mapped_column(String(5), default="17:30")
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")  # public
    crowding: Mapped[Crowding] = mapped_column(StrEnumType(Crowding, 8), default=Crowding.NORMAL)
    crowding_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it entered its level
    in_park: Mapped[int] = mapped_column(Integer, default=0)  # at the last evaluation
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SpotCounter(Base):
    __tablename__ = "village_spot_counter"
    __table_args__ = (UniqueConstraint("entry_datastream_id", name="uq_village_spot_counter_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_id: Mapped[int] = mapped_column(ForeignKey("village_spot.id", ondelete="CASCADE"), index=True)
    entry_datastream_id: Mapped[int] = mapped_column(ForeignKey("sensing_datastream.id", ondelete="CASCADE"))
    exit_datastream_id: Mapped[int] = mapped_column(ForeignKey("sensing_datastream.id", ondelete="CASCADE"))


class SpotDaily(Base):
    """The totals of one spot on one local day; counts are recomputed, the revenue is reported."""

    __tablename__ = "village_spot_daily"
    __table_args__ = (UniqueConstraint("spot_id", "day", name="uq_village_spot_daily"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_id: Mapped[int] = mapped_column(ForeignKey("village_spot.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    exits: Mapped[int] = mapped_column(Integer, default=0)
    peak: Mapped[int] = mapped_column(Integer, default=0)  # most in park at once (clipped at 0)
    peak_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clipped: Mapped[bool] = mapped_column(Boolean, default=False)  # exits ran ahead of entries at some point
    revenue: Mapped[float | None] = mapped_column(Float)  # 元, reported by the manager
    revenue_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Homestay(Base):
    """A 民宿 or 农家乐."""

    __tablename__ = "village_homestay"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[StayKind] = mapped_column(StrEnumType(StayKind, 10))
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    village_name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    rooms: Mapped[int] = mapped_column(Integer)
    beds: Mapped[int] = mapped_column(Integer)
    keeper_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"), index=True)
    license_no: Mapped[str | None] = mapped_column(String(40))
    grade: Mapped[str | None] = mapped_column(String(20))  # 星级/等级, optional
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HomestayReport(Base):
    __tablename__ = "village_homestay_report"
    __table_args__ = (UniqueConstraint("homestay_id", "day", name="uq_village_homestay_report"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    homestay_id: Mapped[int] = mapped_column(ForeignKey("village_homestay.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    rooms_occupied: Mapped[int] = mapped_column(Integer)
    guests: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[float | None] = mapped_column(Float)  # 元
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TourismEvent(Base):
    __tablename__ = "village_tourism_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[EventKind] = mapped_column(StrEnumType(EventKind, 12))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    spot_id: Mapped[int | None] = mapped_column(ForeignKey("village_spot.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HeritageItem(Base):
    """A 非物质文化遗产 representative item."""

    __tablename__ = "village_heritage_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    level: Mapped[HeritageLevel] = mapped_column(StrEnumType(HeritageLevel, 12))
    category: Mapped[str] = mapped_column(String(30))  # code in data/tourism_heritage_categories.json
    description: Mapped[str] = mapped_column(Text, default="")
    listed_year: Mapped[int | None] = mapped_column(Integer)


class HeritageInheritor(Base):
    """A representative 传承人 of an item (the name is public in the lists)."""

    __tablename__ = "village_heritage_inheritor"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("village_heritage_item.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[HeritageLevel] = mapped_column(StrEnumType(HeritageLevel, 12))


class TraditionalVillage(Base):
    """A 中国传统村落 (listed by batch)."""

    __tablename__ = "village_traditional_village"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    village_code: Mapped[str | None] = mapped_column(String(12))
    town: Mapped[str] = mapped_column(String(60), default="")
    batch: Mapped[int] = mapped_column(Integer)  # 第几批
    listed_year: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
