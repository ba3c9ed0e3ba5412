"""Tables of the producers part of the village domain.

- ``village_entity``: a 经营主体 — a producer (企业, 合作社, 家庭农场, 种养大户, 农户) or a buyer (食堂, 超市,
  电商, 批发商) — with its 主体码 type, 统一社会信用代码 or ID number (an ID number is personal: stored
  encrypted with a blind index, shown masked), village and contact (encrypted, masked).
- ``village_entity_member``: the people (org users) who act for an entity; a producer or buyer sees and
  writes only the entities they are a member of.
- ``village_base``: a 基地/地块 of a producer, a polygon (PostGIS ``geometry`` on PostgreSQL, WKB on SQLite,
  bounding box in four plain columns) with its area in square metres computed in an equal-area projection,
  what is grown or raised there and its 设施.
- ``village_certification``: 绿色食品, 有机产品, 地理标志 certificates of an entity with their validity.
- ``village_base_device``: sensing devices (Things) attached to a base.
- ``village_task``: a task for a producer made from a sensing alarm on a device of one of their bases.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime
from countyos.geo.models import Geometry


class EntityKind(StrEnum):
    # producers
    ENTERPRISE = "enterprise"  # 企业
    COOPERATIVE = "cooperative"  # 农民专业合作社
    FAMILY_FARM = "family_farm"  # 家庭农场
    LARGE_GROWER = "large_grower"  # 种养大户
    FARMER = "farmer"  # 农户
    # buyers
    SCHOOL_CANTEEN = "school_canteen"  # 学校食堂
    HOSPITAL_CANTEEN = "hospital_canteen"  # 医院食堂
    SUPERMARKET = "supermarket"  # 超市
    ECOMMERCE = "ecommerce"  # 电商
    WHOLESALER = "wholesaler"  # 批发商


PRODUCER_KINDS = frozenset(
    {EntityKind.ENTERPRISE, EntityKind.COOPERATIVE, EntityKind.FAMILY_FARM, EntityKind.LARGE_GROWER, EntityKind.FARMER}
)
BUYER_KINDS = frozenset(set(EntityKind) - PRODUCER_KINDS)


class SubjectCodeType(StrEnum):
    """主体码 types of the national agricultural product traceability platform."""

    NODE = "node"  # 节点主体码
    OPERATOR = "operator"  # 经营者主体码
    PERSON = "person"  # 自然人主体码


class IdKind(StrEnum):
    USCC = "uscc"  # 统一社会信用代码 (18 characters, check character)
    RESIDENT = "resident"  # 居民身份证号码 (18 characters, check character; personal)


class Facility(StrEnum):
    OPEN_FIELD = "open_field"  # 露地
    GREENHOUSE = "greenhouse"  # 大棚/温室
    ORCHARD = "orchard"  # 果园
    TEA_GARDEN = "tea_garden"  # 茶园
    POND = "pond"  # 养殖池塘
    PEN = "pen"  # 畜禽圈舍
    FOREST_LAND = "forest_land"  # 林地 (竹笋, 林下经济)


class Entity(Base):
    __tablename__ = "village_entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntityKind] = mapped_column(StrEnumType(EntityKind, 20), index=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    subject_code_type: Mapped[SubjectCodeType] = mapped_column(StrEnumType(SubjectCodeType, 10))
    subject_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    id_kind: Mapped[IdKind] = mapped_column(StrEnumType(IdKind, 10))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)  # public for an organisation
    id_number_enc: Mapped[str | None] = mapped_column(String(200))  # a person's ID number, encrypted
    id_number_index: Mapped[str | None] = mapped_column(String(64), unique=True)  # blind index
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    legal_person: Mapped[str | None] = mapped_column(String(60))
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    village_name: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    gs1_prefix: Mapped[str | None] = mapped_column(String(12))  # GS1 company prefix when it has GTINs
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class EntityMember(Base):
    __tablename__ = "village_entity_member"
    __table_args__ = (UniqueConstraint("entity_id", "user_id", name="uq_village_entity_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)


class ProductionBase(Base):
    """A 基地 or 地块 of a producer."""

    __tablename__ = "village_base"
    __table_args__ = (
        Index("ix_village_base_bbox", "minx", "maxx", "miny", "maxy"),
        Index("gix_village_base_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    facility: Mapped[Facility] = mapped_column(StrEnumType(Facility, 16))
    product_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # what is grown or raised (products.json)
    village_code: Mapped[str | None] = mapped_column(String(12), index=True)
    village_name: Mapped[str | None] = mapped_column(String(100))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry())
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class CertKind(StrEnum):
    """Certifications of a producer's products (三品一标 as kept today)."""

    GREEN = "green"  # 绿色食品
    ORGANIC = "organic"  # 有机产品
    GEO_INDICATION = "geo_indication"  # 农产品地理标志


class Certification(Base):
    """A certificate held by an entity: number, issuer, the products covered and its validity."""

    __tablename__ = "village_certification"
    __table_args__ = (UniqueConstraint("kind", "number", name="uq_village_certification_kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CertKind] = mapped_column(StrEnumType(CertKind, 16), index=True)
    number: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(120))
    product_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class BaseDevice(Base):
    """A sensing device (Thing) attached to a base; a device is on one base at a time."""

    __tablename__ = "village_base_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("village_base.id", ondelete="CASCADE"), index=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), unique=True)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attached_by: Mapped[str] = mapped_column(String(100), default="")


class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"


class Task(Base):
    """Work for a producer made from a sensing alarm on a device attached to one of their bases (one
    task per alarm); the producer closes it."""

    __tablename__ = "village_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("village_entity.id", ondelete="CASCADE"), index=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("village_base.id", ondelete="CASCADE"), index=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_alarm.id", ondelete="SET NULL"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[TaskState] = mapped_column(StrEnumType(TaskState, 8), default=TaskState.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
