"""Tables of the hidden-danger inspections (隐患排查) part of the safety domain.

- ``safety_place``: a key place (重点场所) with its kind (``data/inspections_place_kinds.json``), position and
  division/grid, responsible person (phone encrypted, shown masked), safety manager, risk grade A–D and the
  next inspection due by the grade's frequency.
- ``safety_checklist``: a checklist version loaded from data (code + version unique, items as JSON); an
  inspection keeps the exact version it used.
- ``safety_inspection``: one inspection of a place with each item's answer (pass / fail / not applicable).
- ``safety_hazard``: a hidden danger (隐患) found by a failed item; it runs as a case (``case_id``) until a
  re-inspection closes it: open → rectified → closed, or back to open with a new deadline.
- ``safety_hazard_log``: the hazard's timeline.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class RiskGrade(StrEnum):
    A = "A"  # 高
    B = "B"  # 较高
    C = "C"  # 一般
    D = "D"  # 低


class Outcome(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格 (a hazard)
    NA = "na"  # 不适用


class InspectionResult(StrEnum):
    CLEAN = "clean"  # 未发现隐患
    HAZARDS = "hazards"  # 发现隐患


class HazardLevel(StrEnum):
    GENERAL = "general"  # 一般隐患
    MAJOR = "major"  # 重大隐患


class HazardState(StrEnum):
    OPEN = "open"  # 待整改
    RECTIFIED = "rectified"  # 整改完成，待复查
    CLOSED = "closed"  # 复查通过，已销号


class HazardAction(StrEnum):
    FOUND = "found"
    RECTIFY = "rectify"
    PASS = "reinspect_pass"
    FAIL = "reinspect_fail"
    OVERDUE = "overdue"
    NOTE = "note"


class Place(Base):
    __tablename__ = "safety_place"
    __table_args__ = (
        Index("ix_safety_place_kind", "kind", "active"),
        Index("ix_safety_place_due", "active", "next_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))  # a code of data/inspections_place_kinds.json
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_name: Mapped[str | None] = mapped_column(String(100))
    village_code: Mapped[str | None] = mapped_column(String(12))
    village_name: Mapped[str | None] = mapped_column(String(100))
    grid_code: Mapped[str | None] = mapped_column(String(20))
    responsible_name: Mapped[str] = mapped_column(String(60), default="")
    responsible_phone_enc: Mapped[str | None] = mapped_column(String(200))
    responsible_phone_masked: Mapped[str | None] = mapped_column(String(20))
    safety_manager: Mapped[str] = mapped_column(String(60), default="")
    grade: Mapped[RiskGrade] = mapped_column(StrEnumType(RiskGrade, 2))
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class Checklist(Base):
    __tablename__ = "safety_checklist"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_safety_checklist_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    current: Mapped[bool] = mapped_column(Boolean, default=True)  # the newest version of its code
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(100), default="")


class Inspection(Base):
    __tablename__ = "safety_inspection"
    __table_args__ = (Index("ix_safety_inspection_place", "place_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("safety_place.id", ondelete="CASCADE"))
    checklist_id: Mapped[int] = mapped_column(ForeignKey("safety_checklist.id", ondelete="RESTRICT"))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    inspector_name: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    result: Mapped[InspectionResult] = mapped_column(StrEnumType(InspectionResult, 10))
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{code, outcome, note}]
    hazards: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class Hazard(Base):
    __tablename__ = "safety_hazard"
    __table_args__ = (
        Index("ix_safety_hazard_state", "state", "deadline_on"),
        Index("ix_safety_hazard_place", "place_id", "found_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("safety_place.id", ondelete="CASCADE"))
    inspection_id: Mapped[int] = mapped_column(ForeignKey("safety_inspection.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(20))
    item_text: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(20))
    level: Mapped[HazardLevel] = mapped_column(StrEnumType(HazardLevel, 10))
    description: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[HazardState] = mapped_column(StrEnumType(HazardState, 10), default=HazardState.OPEN)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_on: Mapped[date] = mapped_column(Date)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reinspections: Mapped[int] = mapped_column(Integer, default=0)
    overdue_noted_on: Mapped[date | None] = mapped_column(Date)  # the deadline the overdue job noted
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(20))
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="SET NULL"), index=True)
    case_number: Mapped[str | None] = mapped_column(String(30))
    case_error: Mapped[str | None] = mapped_column(String(300))


class HazardLog(Base):
    __tablename__ = "safety_hazard_log"
    __table_args__ = (Index("ix_safety_hazard_log_hazard", "hazard_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("safety_hazard.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[HazardAction] = mapped_column(StrEnumType(HazardAction, 16))
    from_state: Mapped[HazardState | None] = mapped_column(StrEnumType(HazardState, 10))
    to_state: Mapped[HazardState] = mapped_column(StrEnumType(HazardState, 10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    deadline_on: Mapped[date | None] = mapped_column(Date)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
