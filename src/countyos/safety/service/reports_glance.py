"""The leader's situation at a glance (``/safety``): the active events with their level, open and overdue
tasks, reports not sent and overdue; the last closed events with their reviews. Each number is the length
of the list its link opens (the same conditions: ``task_rows``, ``reports.listing``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from countyos.safety.models.events import EmergencyEvent, EventState, EventTask, TaskState
from countyos.safety.models.reports import EventReview
from countyos.safety.service import reports, reports_review

OPEN = (TaskState.ISSUED, TaskState.ACKNOWLEDGED)
TASK_FILTERS = ("open", "overdue")
MAX_ACTIVE = 50


@dataclass
class ActiveEvent:
    event: EmergencyEvent
    tasks_open: int
    tasks_overdue: int
    reports_pending: int
    reports_overdue: int


@dataclass
class Glance:
    active: list[ActiveEvent]
    closed: list[tuple[EmergencyEvent, EventReview | None]]
    tasks_open: int
    tasks_overdue: int
    reports_pending: int
    reports_overdue: int


def _tasks(which: str, now: datetime) -> Select[EventTask]:
    stmt = (
        select(EventTask)
        .join(EmergencyEvent, EmergencyEvent.id == EventTask.event_id)
        .where(EmergencyEvent.state == EventState.ACTIVE, EventTask.state.in_(OPEN))
    )
    if which == "overdue":
        stmt = stmt.where(EventTask.deadline_at < now)
    return stmt


def task_rows(session: Session, *, which: str, now: datetime, event_id: int | None = None) -> list[EventTask]:
    """Open tasks of active events (``overdue``: past their deadline), by deadline."""
    stmt = _tasks(which, now)
    if event_id is not None:
        stmt = stmt.where(EventTask.event_id == event_id)
    return list(session.scalars(stmt.order_by(EventTask.deadline_at, EventTask.id).limit(500)))


def glance(session: Session, *, now: datetime) -> Glance:
    events = list(
        session.scalars(
            select(EmergencyEvent)
            .where(EmergencyEvent.state == EventState.ACTIVE)
            .order_by(EmergencyEvent.started_at.desc())
            .limit(MAX_ACTIVE)
        )
    )
    ids = [e.id for e in events]
    open_by: dict[int, int] = dict.fromkeys(ids, 0)
    late_by: dict[int, int] = dict.fromkeys(ids, 0)
    for task in session.scalars(_tasks("open", now).where(EventTask.event_id.in_(ids))):
        open_by[task.event_id] += 1
        late_by[task.event_id] += task.deadline_at < now
    report_counts = reports.counts(session, event_ids=ids, now=now)
    active = [ActiveEvent(e, open_by[e.id], late_by[e.id], *report_counts[e.id]) for e in events]
    _, pending = reports.listing(session, which="pending", now=now, limit=1)
    _, overdue = reports.listing(session, which="overdue", now=now, limit=1)
    return Glance(
        active=active,
        closed=reports_review.latest_reviews(session, limit=5),
        tasks_open=sum(open_by.values()),
        tasks_overdue=sum(late_by.values()),
        reports_pending=pending,
        reports_overdue=overdue,
    )
