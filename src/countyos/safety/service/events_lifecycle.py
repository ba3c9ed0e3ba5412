"""The one transition table of emergency events and their departments' tasks.

Event: ACTIVE —(escalate | lower | note | command | trigger)→ ACTIVE —close→ CLOSED.
Task: ISSUED —acknowledge→ ACKNOWLEDGED —(feedback)→ ACKNOWLEDGED —done→ DONE;
ISSUED/ACKNOWLEDGED —close→ CLOSED (the level was lowered or the response ended).

:func:`apply_event` and :func:`apply_task` are the only places a state changes: each checks the table,
writes one ``safety_event_log`` row and one audit record (``safety.events.<action>``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import TransitionNotAllowed
from countyos.core.i18n import N_
from countyos.org.models import User
from countyos.org.service import audit
from countyos.safety.models.events import EmergencyEvent, EventLog, EventState, EventTask, LogKind, TaskState

EVENT_TABLE: dict[tuple[EventState, str], tuple[EventState, LogKind]] = {
    (EventState.ACTIVE, "escalate"): (EventState.ACTIVE, LogKind.ESCALATED),
    (EventState.ACTIVE, "lower"): (EventState.ACTIVE, LogKind.LOWERED),
    (EventState.ACTIVE, "note"): (EventState.ACTIVE, LogKind.NOTE),
    (EventState.ACTIVE, "command"): (EventState.ACTIVE, LogKind.COMMAND),
    (EventState.ACTIVE, "command_ack"): (EventState.ACTIVE, LogKind.COMMAND_ACKNOWLEDGED),
    (EventState.ACTIVE, "trigger"): (EventState.ACTIVE, LogKind.TRIGGER),
    (EventState.ACTIVE, "close"): (EventState.CLOSED, LogKind.CLOSED),
}

TASK_TABLE: dict[tuple[TaskState, str], tuple[TaskState, LogKind]] = {
    (TaskState.ISSUED, "acknowledge"): (TaskState.ACKNOWLEDGED, LogKind.TASK_ACKNOWLEDGED),
    (TaskState.ACKNOWLEDGED, "feedback"): (TaskState.ACKNOWLEDGED, LogKind.TASK_FEEDBACK),
    (TaskState.ACKNOWLEDGED, "done"): (TaskState.DONE, LogKind.TASK_DONE),
    (TaskState.ISSUED, "close"): (TaskState.CLOSED, LogKind.TASK_CLOSED),
    (TaskState.ACKNOWLEDGED, "close"): (TaskState.CLOSED, LogKind.TASK_CLOSED),
}

EVENT_ACTION_LABELS = {
    "escalate": N_("escalate"),
    "lower": N_("lower the level"),
    "note": N_("add a note"),
    "command": N_("give a command"),
    "command_ack": N_("acknowledge a command"),
    "trigger": N_("trigger"),
    "close": N_("close the response"),
}
TASK_ACTION_LABELS = {
    "acknowledge": N_("acknowledge"),
    "feedback": N_("send feedback"),
    "done": N_("report done"),
    "close": N_("close"),
}
EVENT_STATE_LABELS = {EventState.ACTIVE: N_("Responding"), EventState.CLOSED: N_("Response ended")}
TASK_STATE_LABELS = {
    TaskState.ISSUED: N_("Assigned"),
    TaskState.ACKNOWLEDGED: N_("Signed for"),
    TaskState.DONE: N_("Done"),
    TaskState.CLOSED: N_("Ended"),
}


def event_actions(state: EventState) -> list[str]:
    return [a for (s, a) in EVENT_TABLE if s == state]


def task_actions(state: TaskState) -> list[str]:
    return [a for (s, a) in TASK_TABLE if s == state]


def person_name(session: Session, actor: Actor | None) -> str:
    """The actor's display name (people are shown by name), else the account name."""
    if actor is None:
        return ""
    if actor.id is not None:
        user = session.get(User, actor.id)
        if user is not None:
            return user.display_name
    return actor.name if actor.name != "system" else ""


def log(
    session: Session,
    *,
    event: EmergencyEvent,
    kind: LogKind,
    actor: Actor | None,
    at: datetime,
    text: str = "",
    task_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> EventLog:
    row = EventLog(
        event_id=event.id,
        at=at,
        kind=kind,
        text=text,
        actor_id=actor.id if actor else None,
        actor_name=person_name(session, actor),
        task_id=task_id,
        detail=detail or {},
    )
    session.add(row)
    return row


def apply_event(
    session: Session,
    *,
    actor: Actor,
    event: EmergencyEvent,
    action: str,
    text: str = "",
    at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> EventLog:
    """Take ACTION on EVENT by the table (409 when the table has no such row), log it and audit it."""
    step = EVENT_TABLE.get((event.state, action))
    if step is None:
        raise TransitionNotAllowed(
            N_("You cannot %(action)s an event in state %(state)s"),
            action=EVENT_ACTION_LABELS.get(action, action),
            state=EVENT_STATE_LABELS[event.state],
            allowed=event_actions(event.state),
            current_state=str(event.state),
        )
    at = at or utcnow()
    new_state, kind = step
    event.state = new_state
    row = log(session, event=event, kind=kind, actor=actor, at=at, text=text, detail=detail)
    audit.record(
        session,
        actor=actor,
        action=f"safety.events.{action}",
        target_type="safety_event",
        target_id=event.number or event.id,
        detail={"level": str(event.level), "text": text[:200], **(detail or {})},
    )
    return row


def apply_task(
    session: Session,
    *,
    actor: Actor,
    event: EmergencyEvent,
    task: EventTask,
    action: str,
    text: str = "",
    at: datetime | None = None,
    detail: dict[str, Any] | None = None,
    audited: bool = True,
) -> EventLog:
    """Take ACTION on TASK by the table (409 when not allowed), set its times, log it and audit it."""
    step = TASK_TABLE.get((task.state, action))
    if step is None:
        raise TransitionNotAllowed(
            N_("You cannot %(action)s a task in state %(state)s"),
            action=TASK_ACTION_LABELS.get(action, action),
            state=TASK_STATE_LABELS[task.state],
            allowed=task_actions(task.state),
            current_state=str(task.state),
        )
    at = at or utcnow()
    new_state, kind = step
    task.state = new_state
    if action == "acknowledge":
        task.acknowledged_at, task.acknowledged_by_id = at, actor.id
    elif action == "done":
        task.done_at, task.done_by_id = at, actor.id
    elif action == "close":
        task.closed_at, task.close_reason = at, text[:200]
    if text and action in ("feedback", "done"):
        task.feedback = text
    row = log(session, event=event, kind=kind, actor=actor, at=at, text=text, task_id=task.id, detail=detail)
    if audited:
        audit.record(
            session,
            actor=actor,
            action=f"safety.events.task.{action}",
            target_type="safety_event_task",
            target_id=task.id,
            detail={"event": event.number, "text": text[:200], **(detail or {})},
        )
    return row
