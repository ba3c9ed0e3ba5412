"""Departments' emergency tasks (签收, 反馈 with photos, 完成), the overdue sweep, and commands (指令) with
their acknowledgements (回复签收)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import Attachment
from countyos.cases.service import attachments, notify
from countyos.core.actor import SYSTEM, Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, county_gettext
from countyos.org.service import audit
from countyos.safety.models.events import (
    CommandTarget,
    EmergencyEvent,
    EventCommand,
    EventState,
    EventTask,
    LogKind,
    TaskFeedback,
)
from countyos.safety.permissions import EMERGENCY_COMMAND
from countyos.safety.service import events as ev
from countyos.safety.service import events_lifecycle as lc

MAX_PHOTOS = 3


def _own(actor: Actor, department_id: int) -> None:
    if actor.department_id != department_id:
        raise PermissionDenied(N_("This task belongs to another department"))


def acknowledge(session: Session, *, actor: Actor, task_id: int, at: datetime | None = None) -> EventTask:
    task = ev.get_task(session, task_id=task_id)
    _own(actor, task.department_id)
    event = ev.get(session, event_id=task.event_id)
    lc.apply_task(session, actor=actor, event=event, task=task, action="acknowledge", at=at or utcnow())
    session.flush()
    return task


@dataclass(frozen=True)
class Photo:
    data: bytes
    name: str | None


def feedback(
    session: Session,
    *,
    actor: Actor,
    task_id: int,
    text: str,
    photos: list[Photo] | None = None,
    at: datetime | None = None,
) -> TaskFeedback:
    """Feedback on an acknowledged task: words and up to three photos (checked and kept privately)."""
    task = ev.get_task(session, task_id=task_id)
    _own(actor, task.department_id)
    photos = photos or []
    if not text.strip() and not photos:
        raise ValidationFailed.on_field("text", N_("Write the feedback or add a photo"))
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed.on_field("photos", N_("At most three photos"))
    event = ev.get(session, event_id=task.event_id)
    at = at or utcnow()
    lc.apply_task(
        session,
        actor=actor,
        event=event,
        task=task,
        action="feedback",
        text=text,
        at=at,
        detail={"photos": len(photos)},
    )
    stored = attachments.store_photos(session, actor=actor, files=[(p.data, p.name) for p in photos]) if photos else []
    row = TaskFeedback(
        task_id=task.id,
        at=at,
        text=text,
        actor_id=actor.id,
        actor_name=lc.person_name(session, actor),
        attachment_ids=[a.id for a in stored],
    )
    session.add(row)
    session.flush()
    return row


def done(session: Session, *, actor: Actor, task_id: int, text: str = "", at: datetime | None = None) -> EventTask:
    task = ev.get_task(session, task_id=task_id)
    _own(actor, task.department_id)
    event = ev.get(session, event_id=task.event_id)
    lc.apply_task(session, actor=actor, event=event, task=task, action="done", text=text, at=at or utcnow())
    session.flush()
    return task


def feedback_of(session: Session, *, task_ids: list[int]) -> list[TaskFeedback]:
    if not task_ids:
        return []
    return list(
        session.scalars(
            select(TaskFeedback).where(TaskFeedback.task_id.in_(task_ids)).order_by(TaskFeedback.at, TaskFeedback.id)
        ).all()
    )


def photo_of(session: Session, *, actor: Actor, feedback_id: int, attachment_id: int) -> Attachment:
    """A feedback photo, for those who may see its task."""
    row = session.get(TaskFeedback, feedback_id)
    if row is None or attachment_id not in (row.attachment_ids or []):
        raise NotFound(N_("Not found"))
    task = ev.get_task(session, task_id=row.task_id)
    if not ev.may_see_task(actor, task):
        raise PermissionDenied(N_("This task belongs to another department"))
    return attachments.get(session, attachment_id=attachment_id)


def sweep_overdue(session: Session, *, now: datetime | None = None) -> int:
    """Log TASK_OVERDUE once for each open task past its deadline and notify its department's people."""
    now = now or utcnow()
    rows = session.scalars(
        select(EventTask).where(
            EventTask.state.in_(ev.OPEN_TASK), EventTask.deadline_at < now, EventTask.overdue_noted.is_(False)
        )
    ).all()
    for task in rows:
        event = ev.get(session, event_id=task.event_id)
        task.overdue_noted = True
        lc.log(
            session,
            event=event,
            kind=LogKind.TASK_OVERDUE,
            actor=SYSTEM,
            at=now,
            text=task.duty,
            task_id=task.id,
            detail={"department_id": task.department_id},
        )
        notify.queue(
            session,
            key=f"safety.task.overdue:{task.id}",
            kind="safety_task_overdue",
            title=county_gettext(N_("Emergency task overdue: %(event)s · %(duty)s"), event=event.title, duty=task.duty)[
                :200
            ],
            user_ids=ev.department_users(session, task.department_id),
        )
    if rows:
        audit.record(
            session,
            actor=SYSTEM,
            action="safety.events.task.overdue",
            target_type="safety_event_task",
            detail={"tasks": [t.id for t in rows]},
        )
    session.flush()
    return len(rows)


# --- commands ----------------------------------------------------------------------------------------


def give_command(
    session: Session,
    *,
    actor: Actor,
    event_id: int,
    text: str,
    department_ids: list[int] | None = None,
    at: datetime | None = None,
) -> EventCommand:
    """A command to DEPARTMENT_IDS (every department with a task in the event when empty)."""
    if actor.id is not None and not actor.can(EMERGENCY_COMMAND):
        raise PermissionDenied(N_("Only the command post may give commands"))
    event = ev.get(session, event_id=event_id)
    if not text.strip():
        raise ValidationFailed.on_field("text", N_("Write the command"))
    targets = list(dict.fromkeys(department_ids or [t.department_id for t in ev.tasks_of(session, event_id=event_id)]))
    if not targets:
        raise ValidationFailed.on_field("department_ids", N_("Choose at least one department"))
    known = ev.department_names(session, set(targets))
    if set(targets) - set(known):
        raise ValidationFailed.on_field("department_ids", N_("No such department"))
    at = at or utcnow()
    lc.apply_event(
        session, actor=actor, event=event, action="command", text=text, at=at, detail={"departments": targets}
    )
    cmd = EventCommand(
        event_id=event.id, at=at, text=text, issued_by_id=actor.id, issued_by_name=lc.person_name(session, actor)
    )
    session.add(cmd)
    session.flush()
    for dept in targets:
        session.add(CommandTarget(command_id=cmd.id, department_id=dept))
        notify.queue(
            session,
            key=f"safety.command:{cmd.id}:{dept}",
            kind="safety_command",
            title=county_gettext(N_("Emergency command: %(event)s"), event=event.title)[:200],
            body=text[:1000],
            user_ids=ev.department_users(session, dept),
        )
    session.flush()
    return cmd


def acknowledge_command(
    session: Session, *, actor: Actor, command_id: int, reply: str = "", at: datetime | None = None
) -> CommandTarget:
    """The actor's department acknowledges the command (回复签收), once."""
    cmd = session.get(EventCommand, command_id)
    if cmd is None:
        raise NotFound(N_("Command %(id)s does not exist"), id=command_id)
    target = session.scalars(
        select(CommandTarget).where(
            CommandTarget.command_id == command_id, CommandTarget.department_id == actor.department_id
        )
    ).first()
    if target is None:
        raise PermissionDenied(N_("This command is not addressed to your department"))
    if target.acknowledged_at is not None:
        raise Conflict(N_("Your department has already acknowledged this command"))
    event = ev.get(session, event_id=cmd.event_id)
    at = at or utcnow()
    target.acknowledged_at, target.acknowledged_by_id, target.reply = at, actor.id, reply
    if event.state == EventState.ACTIVE:
        lc.apply_event(
            session,
            actor=actor,
            event=event,
            action="command_ack",
            text=reply,
            at=at,
            detail={"command_id": cmd.id, "department_id": target.department_id},
        )
    else:
        lc.log(
            session,
            event=event,
            kind=LogKind.COMMAND_ACKNOWLEDGED,
            actor=actor,
            at=at,
            text=reply,
            detail={"command_id": cmd.id, "department_id": target.department_id},
        )
        audit.record(
            session, actor=actor, action="safety.events.command_ack", target_type="safety_event", target_id=event.number
        )
    session.flush()
    return target


@dataclass(frozen=True)
class CommandView:
    command: EventCommand
    targets: list[CommandTarget]

    @property
    def unacknowledged(self) -> int:
        return sum(1 for t in self.targets if t.acknowledged_at is None)


def commands_of(session: Session, *, event_id: int) -> list[CommandView]:
    cmds = session.scalars(
        select(EventCommand).where(EventCommand.event_id == event_id).order_by(EventCommand.at.desc())
    ).all()
    if not cmds:
        return []
    targets = session.scalars(
        select(CommandTarget).where(CommandTarget.command_id.in_([c.id for c in cmds])).order_by(CommandTarget.id)
    ).all()
    by: dict[int, list[CommandTarget]] = {}
    for t in targets:
        by.setdefault(t.command_id, []).append(t)
    return [CommandView(c, by.get(c.id, [])) for c in cmds]


def commands_for_department(
    session: Session, *, department_id: int, open_only: bool = True, limit: int = 50
) -> list[tuple[EventCommand, CommandTarget, EmergencyEvent]]:
    q = (
        select(EventCommand, CommandTarget, EmergencyEvent)
        .join(CommandTarget, CommandTarget.command_id == EventCommand.id)
        .join(EmergencyEvent, EmergencyEvent.id == EventCommand.event_id)
        .where(CommandTarget.department_id == department_id)
    )
    if open_only:
        q = q.where(CommandTarget.acknowledged_at.is_(None), EmergencyEvent.state == EventState.ACTIVE)
    rows = session.execute(q.order_by(EventCommand.at.desc()).limit(limit)).all()
    return [(c, t, e) for c, t, e in rows]
