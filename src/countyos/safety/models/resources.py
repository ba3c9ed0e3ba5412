"""Tables of the resources (物资仓库, 救援队伍, 避难场所, 专家) of the plans part of the safety domain.

- ``safety_res_warehouse``: a store of emergency materials (where, who keeps it, a phone kept encrypted);
  ``safety_res_stock``: its stock lines (a material of ``data/resources_materials.json``, quantity,
  expiry date).
- ``safety_res_team``: a rescue team (kind, base, leader, phone, members count, equipment);
  ``safety_res_team_member``: its members (name, role, phone).
- ``safety_res_shelter``: an emergency shelter (capacity in persons, area, facilities, township).
- ``safety_res_expert``: an expert (field, unit, phone): personal data, masked in lists.

Phones are kept encrypted (``core.crypto.FieldCipher``) and shown masked; an unmasked view is audited.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class Warehouse(Base):
    __tablename__ = "safety_res_warehouse"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    keeper_department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="SET NULL"))
    contact: Mapped[str] = mapped_column(String(100), default="")
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockLine(Base):
    __tablename__ = "safety_res_stock"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("safety_res_warehouse.id", ondelete="CASCADE"), index=True)
    material: Mapped[str] = mapped_column(String(40))  # a code of data/resources_materials.json
    quantity: Mapped[float] = mapped_column(Float)
    expires_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")


class TeamKind(StrEnum):
    PROFESSIONAL = "professional"  # 专业
    COMPREHENSIVE = "comprehensive"  # 综合
    VOLUNTEER = "volunteer"  # 志愿
    MILITIA = "militia"  # 民兵


class Team(Base):
    __tablename__ = "safety_res_team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[TeamKind] = mapped_column(StrEnumType(TeamKind, 16))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    leader: Mapped[str] = mapped_column(String(100), default="")
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    members_count: Mapped[int] = mapped_column(Integer, default=0)
    equipment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "safety_res_team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("safety_res_team.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100), default="")
    phone_enc: Mapped[str | None] = mapped_column(String(200))


class Shelter(Base):
    __tablename__ = "safety_res_shelter"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int] = mapped_column(Integer)  # persons
    area_m2: Mapped[float | None] = mapped_column(Float)
    facilities: Mapped[str] = mapped_column(Text, default="")
    township: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Expert(Base):
    __tablename__ = "safety_res_expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(100))  # 专业领域, e.g. 水利, 地质
    unit: Mapped[str] = mapped_column(String(200), default="")
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
