"""Tables of the information reports and reviews (信息报送, 复盘) part of the safety domain.

- ``safety_event_report``: one report of an event on its plan's schedule — the first (首报), a numbered
  follow-up (续报 1, 2, …) or the final (终报) — with its due time, a draft generated from the records that a
  commander edits, the casualty and loss figures, and its state: due → drafted → sent (``REPORT_MOVES``);
  the text as sent is frozen. ``reminded_at`` / ``overdue_noted`` make the reminder job fire each once.
- ``safety_event_review``: the review (复盘) of a closed event: the lessons in words.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class ReportKind(StrEnum):
    FIRST = "first"  # 首报
    FOLLOWUP = "followup"  # 续报 (numbered 1, 2, …)
    FINAL = "final"  # 终报


class ReportState(StrEnum):
    DUE = "due"  # 待报
    DRAFTED = "drafted"  # 已起草
    SENT = "sent"  # 已报送


class ReportAction(StrEnum):
    DRAFT = "draft"
    SEND = "send"


# The one transition table of a report: (state, action) → next state.
REPORT_MOVES: dict[tuple[ReportState, ReportAction], ReportState] = {
    (ReportState.DUE, ReportAction.DRAFT): ReportState.DRAFTED,
    (ReportState.DRAFTED, ReportAction.DRAFT): ReportState.DRAFTED,
    (ReportState.DUE, ReportAction.SEND): ReportState.SENT,
    (ReportState.DRAFTED, ReportAction.SEND): ReportState.SENT,
}


class EventReport(Base):
    __tablename__ = "safety_event_report"
    __table_args__ = (
        UniqueConstraint("event_id", "kind", "number", name="uq_safety_event_report_slot"),
        Index("ix_safety_event_report_state", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("safety_event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReportKind] = mapped_column(StrEnumType(ReportKind, 10))
    number: Mapped[int] = mapped_column(Integer, default=0)  # 0 for first/final, 1, 2, … for follow-ups
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[ReportState] = mapped_column(StrEnumType(ReportState, 10), default=ReportState.DUE)
    to: Mapped[str] = mapped_column(String(200), default="")  # 报送对象
    body: Mapped[str] = mapped_column(Text, default="")
    deaths: Mapped[int | None] = mapped_column(Integer)
    injured: Mapped[int | None] = mapped_column(Integer)
    missing: Mapped[int | None] = mapped_column(Integer)
    evacuated: Mapped[int | None] = mapped_column(Integer)
    loss_wan: Mapped[float | None] = mapped_column(Float)  # direct economic loss, 万元
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the due-soon reminder
    overdue_noted: Mapped[bool] = mapped_column(Boolean, default=False)  # the overdue reminder
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventReview(Base):
    """复盘: the lessons of a closed event (the figures are computed from the records)."""

    __tablename__ = "safety_event_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("safety_event.id", ondelete="CASCADE"), unique=True)
    lessons: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
