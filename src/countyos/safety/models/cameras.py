"""Tables of the camera-detected events (视频智能发现) part of the safety domain.

- ``safety_camera``: the register of cameras by their GB/T 28181 device id (20 digits), with where they
  stand and which way the lens faces. No video is kept or streamed here.
- ``safety_camera_event_type``: what an analysis box may report (占道经营, 乱停车 …) and how such an event
  becomes a case: the confidence below which it is dropped, the window (and radius) inside which a repeat
  is folded into the first event, the cases category (Open311 service code), the priority. Loaded from
  ``data/cameras_event_types.json``, then kept by staff.
- ``safety_camera_event``: every event posted, with its outcome (a case, below the threshold, a duplicate
  of a first event, or an unmapped type) and, for a case, the case it opened.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.cases.models import Priority
from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class EventOutcome(StrEnum):
    CASE = "case"  # accepted: a case was opened
    BELOW_THRESHOLD = "below_threshold"  # confidence under the type's threshold: dropped (kept 30 days)
    DUPLICATE = "duplicate"  # inside the dedupe window of a first event: folded into it
    UNMAPPED = "unmapped"  # a type without a case category, disabled or unknown: staff map it


class Camera(Base):
    """A camera of the county's video network (视频监控点位)."""

    __tablename__ = "safety_camera"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # GB/T 28181 device id
    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    direction: Mapped[int] = mapped_column(Integer, default=0)  # azimuth the lens faces, degrees from north
    height_m: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_name: Mapped[str | None] = mapped_column(String(60))
    grid_code: Mapped[str | None] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CameraEventType(Base):
    """An event type an analysis box reports, and how it becomes a case."""

    __tablename__ = "safety_camera_event_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    threshold: Mapped[float] = mapped_column(Float, default=0.6)  # confidence below it: dropped
    dedupe_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    dedupe_radius_m: Mapped[int] = mapped_column(Integer, default=0)  # 0: the same camera only
    category_code: Mapped[str | None] = mapped_column(String(24))  # Open311 service code of a cases category
    priority: Mapped[Priority | None] = mapped_column(StrEnumType(Priority, 12))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CameraEvent(Base):
    """One event posted by an analysis box, with what became of it."""

    __tablename__ = "safety_camera_event"
    __table_args__ = (
        UniqueConstraint("camera_id", "external_id", name="uq_safety_camera_event_external"),
        Index("ix_safety_camera_event_dedupe", "type_code", "camera_id", "occurred_at"),
        Index("ix_safety_camera_event_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("safety_camera.id", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(40))  # as posted: an unknown type is kept for mapping
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confidence: Mapped[float] = mapped_column(Float)
    outcome: Mapped[EventOutcome] = mapped_column(StrEnumType(EventOutcome, 16), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="SET NULL"))
    case_number: Mapped[str | None] = mapped_column(String(32))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("safety_camera_event.id", ondelete="SET NULL"))
    count: Mapped[int] = mapped_column(Integer, default=1)  # this event and the duplicates folded into it
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest duplicate's time
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("case_attachment.id", ondelete="SET NULL"))
    box: Mapped[list[int] | None] = mapped_column(JSON)
    external_id: Mapped[str | None] = mapped_column(String(80))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
