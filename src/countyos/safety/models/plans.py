"""Tables of the plans part: emergency plans (预案) as data, their versions, the sensing rules that trigger
their response levels; (the plans part adds exercises and attachments).

- ``safety_plan``: a plan (name, type, the department that leads it, the version in force).
- ``safety_plan_version``: one version of a plan's body (levels I–IV with triggers and the departments'
  duties, the information-report schedule) — validated by ``schemas.plans.PlanBody``; a published
  version is never edited, a change is a new version.
- ``safety_plan_rule``: the sensing rule made for one reading trigger of one level of a published version
  (``service.plans`` keeps them in step when a version is published); the receiver of sensing alarms
  looks a firing rule up here.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class PlanType(StrEnum):
    FLOOD = "flood"  # 防汛防台
    GEOLOGICAL = "geological"  # 地质灾害
    FOREST_FIRE = "forest_fire"  # 森林火灾
    HAZCHEM = "hazchem"  # 危险化学品
    WORK_SAFETY = "work_safety"  # 安全生产
    PUBLIC_HEALTH = "public_health"  # 公共卫生
    POWER_OUTAGE = "power_outage"  # 大面积停电
    EARTHQUAKE = "earthquake"  # 地震
    TRAFFIC = "traffic"  # 道路交通
    OTHER = "other"  # 其他


class ResponseLevel(StrEnum):
    """Response levels: I is the most severe (特别重大), IV the least (一般)."""

    I = "I"  # noqa: E741
    II = "II"
    III = "III"
    IV = "IV"


LEVEL_RANK: dict[ResponseLevel, int] = {
    ResponseLevel.IV: 1,
    ResponseLevel.III: 2,
    ResponseLevel.II: 3,
    ResponseLevel.I: 4,
}


def more_severe(a: ResponseLevel, b: ResponseLevel) -> bool:
    """A is a higher response than B (III is higher than IV)."""
    return LEVEL_RANK[a] > LEVEL_RANK[b]


def levels_up_to(level: ResponseLevel) -> list[ResponseLevel]:
    """The levels in force at LEVEL, least severe first: III → [IV, III]."""
    return [lv for lv in sorted(LEVEL_RANK, key=LEVEL_RANK.__getitem__) if LEVEL_RANK[lv] <= LEVEL_RANK[level]]


class PlanState(StrEnum):
    DRAFT = "draft"  # no version published yet
    ACTIVE = "active"  # a published version is in force
    RETIRED = "retired"  # 废止


class VersionState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # in force
    SUPERSEDED = "superseded"  # a later version was published


class Plan(Base):
    __tablename__ = "safety_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. SC-FX-2026
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[PlanType] = mapped_column(StrEnumType(PlanType, 20), index=True)
    state: Mapped[PlanState] = mapped_column(StrEnumType(PlanState, 12), default=PlanState.DRAFT, index=True)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"))
    summary: Mapped[str] = mapped_column(Text, default="")
    current_version_id: Mapped[int | None] = mapped_column(Integer)  # the published version (no FK: a cycle)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanVersion(Base):
    __tablename__ = "safety_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_safety_plan_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 …
    state: Mapped[VersionState] = mapped_column(StrEnumType(VersionState, 12), default=VersionState.DRAFT)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.plans.PlanBody as JSON
    note: Mapped[str] = mapped_column(Text, default="")  # what changed (修订说明)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))


class PlanRule(Base):
    """The sensing rule made for reading trigger TRIGGER_INDEX of LEVEL of a published plan version."""

    __tablename__ = "safety_plan_rule"
    __table_args__ = (Index("ix_safety_plan_rule_rule", "rule_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plan.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("safety_plan_version.id", ondelete="CASCADE"))
    level: Mapped[ResponseLevel] = mapped_column(StrEnumType(ResponseLevel, 4))
    trigger_index: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[int] = mapped_column(ForeignKey("sensing_rule.id", ondelete="CASCADE"))


class AttachmentKind(StrEnum):
    TEXT = "text"  # 预案文本 (PDF, DOCX)
    FIGURE = "figure"  # 图件
    PHOTO = "photo"  # an exercise's photo
    OTHER = "other"


class PlanAttachment(Base):
    """A file kept with a plan (or one of its exercises): stored privately by SHA-256 under the data
    directory, downloaded by staff with the read permission, every download audited."""

    __tablename__ = "safety_plan_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plan.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_plan_exercise.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(StrEnumType(AttachmentKind, 12), default=AttachmentKind.TEXT)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExerciseKind(StrEnum):
    TABLETOP = "tabletop"  # 桌面推演
    FIELD = "field"  # 实战演练
    COMBINED = "combined"  # 综合演练


class Exercise(Base):
    """演练: an exercise of a plan (and the version in force then)."""

    __tablename__ = "safety_plan_exercise"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plan.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("safety_plan_version.id", ondelete="SET NULL"))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[ExerciseKind] = mapped_column(StrEnumType(ExerciseKind, 12))
    title: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)  # department names
    summary: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")  # 发现的问题
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
