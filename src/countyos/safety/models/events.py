"""Tables of the events part: emergency events (突发事件) and their response — each department's tasks and
the event's log; (the events part adds commands and their acknowledgements, task feedback photos).

- ``safety_event``: an event with its type, response level, place, what started it (a plan's trigger, an
  alarm, a case, a person) and its state.
- ``safety_event_task``: a department's task at a level of the response, with its deadline: issued →
  acknowledged → done, or closed when the level is lowered or the event closed (see
  ``service/events_lifecycle.py``).
- ``safety_event_log``: the event's timeline (start, level changes, tasks, commands, reports, notes),
  the record the situation page, the reports and the review are made from.
- ``safety_event_command``: a command (指令) from the command post with its text; each addressed
  department in ``safety_event_command_target`` acknowledges it (回复签收) with optional words.
- ``safety_event_feedback``: a department's feedback on a task in words, with photos kept privately as case
  attachments (``cases.service.attachments``), listed by id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime
from countyos.safety.models.plans import PlanType, ResponseLevel


class EventSource(StrEnum):
    PLAN = "plan"  # a plan's trigger (a sensing rule or a case category)
    ALARM = "alarm"  # started from a sensing alarm by a person
    CASE = "case"  # started from a case by a person
    MANUAL = "manual"  # entered by a person


class EventState(StrEnum):
    ACTIVE = "active"  # 响应中
    CLOSED = "closed"  # 响应结束


class TaskState(StrEnum):
    ISSUED = "issued"  # 已下达
    ACKNOWLEDGED = "acknowledged"  # 已签收
    DONE = "done"  # 已反馈完成
    CLOSED = "closed"  # 已终止 (the level was lowered or the event closed before it was done)


class LogKind(StrEnum):
    STARTED = "started"
    ESCALATED = "escalated"
    LOWERED = "lowered"
    TRIGGER = "trigger"  # a trigger fired again (a reading, a case) while the response runs
    TASK_ISSUED = "task_issued"
    TASK_ACKNOWLEDGED = "task_acknowledged"
    TASK_FEEDBACK = "task_feedback"
    TASK_DONE = "task_done"
    TASK_CLOSED = "task_closed"
    TASK_OVERDUE = "task_overdue"
    COMMAND = "command"
    COMMAND_ACKNOWLEDGED = "command_acknowledged"
    REPORT_DUE = "report_due"
    REPORT_SENT = "report_sent"
    NOTE = "note"
    CLOSED = "closed"


class EmergencyEvent(Base):
    __tablename__ = "safety_event"
    __table_args__ = (Index("ix_safety_event_state", "state", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)  # YJ + county day + sequence
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[PlanType] = mapped_column(StrEnumType(PlanType, 20), index=True)
    level: Mapped[ResponseLevel] = mapped_column(StrEnumType(ResponseLevel, 4))
    state: Mapped[EventState] = mapped_column(StrEnumType(EventState, 10), default=EventState.ACTIVE)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("safety_plan.id", ondelete="SET NULL"), index=True)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("safety_plan_version.id", ondelete="SET NULL"))
    source: Mapped[EventSource] = mapped_column(StrEnumType(EventSource, 10))
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_alarm.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="SET NULL"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    township_code: Mapped[str | None] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    level_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closing_note: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))


class EventTask(Base):
    __tablename__ = "safety_event_task"
    __table_args__ = (
        Index("ix_safety_event_task_event", "event_id", "state"),
        Index("ix_safety_event_task_dept", "department_id", "state", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("safety_event.id", ondelete="CASCADE"))
    level: Mapped[ResponseLevel] = mapped_column(StrEnumType(ResponseLevel, 4))  # the level that made it
    department_id: Mapped[int] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"))
    duty: Mapped[str] = mapped_column(Text)
    state: Mapped[TaskState] = mapped_column(StrEnumType(TaskState, 14), default=TaskState.ISSUED)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    feedback: Mapped[str] = mapped_column(Text, default="")  # the latest feedback in words
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    overdue_noted: Mapped[bool] = mapped_column(default=False)  # the overdue sweep logged it once


class EventLog(Base):
    __tablename__ = "safety_event_log"
    __table_args__ = (Index("ix_safety_event_log_event", "event_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("safety_event.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[LogKind] = mapped_column(StrEnumType(LogKind, 24))
    text: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    task_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EventCommand(Base):
    """A command (指令) from the command post to one or more departments; each acknowledges it."""

    __tablename__ = "safety_event_command"
    __table_args__ = (Index("ix_safety_event_command_event", "event_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("safety_event.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    issued_by_name: Mapped[str] = mapped_column(String(100), default="")


class CommandTarget(Base):
    """One addressed department of a command and its acknowledgement (回复签收)."""

    __tablename__ = "safety_event_command_target"
    __table_args__ = (
        UniqueConstraint("command_id", "department_id", name="uq_safety_event_command_target"),
        Index("ix_safety_event_command_target_dept", "department_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    command_id: Mapped[int] = mapped_column(ForeignKey("safety_event_command.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    reply: Mapped[str] = mapped_column(Text, default="")


class TaskFeedback(Base):
    """A department's feedback on a task: words and photos (case attachment ids, kept privately)."""

    __tablename__ = "safety_event_feedback"
    __table_args__ = (Index("ix_safety_event_feedback_task", "task_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("safety_event_task.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
