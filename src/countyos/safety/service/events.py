"""Services of the events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain.

An emergency event is started by hand or by a plan's trigger (``service/triggers.py``) at a response
level; every duty of every level up to it becomes a department's task whose deadline is the issue time
plus the duty's minutes (real minutes, not working time: an emergency does not wait). Escalating adds
the new levels' tasks, lowering closes the open tasks of the levels above (响应降级), closing ends every
open task (响应结束). State changes go through ``events_lifecycle``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.service import notify
from countyos.core.actor import Actor
from countyos.core.clock import county_day, utcnow
from countyos.core.errors import NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, county_gettext
from countyos.org.models import Department, User
from countyos.safety.models.events import (
    EmergencyEvent,
    EventSource,
    EventState,
    EventTask,
    LogKind,
    TaskState,
)
from countyos.safety.models.plans import (
    LEVEL_RANK,
    Plan,
    PlanType,
    PlanVersion,
    ResponseLevel,
    levels_up_to,
    more_severe,
)
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ
from countyos.safety.schemas.events import EventIn
from countyos.safety.schemas.plans import PlanBody, body_of
from countyos.safety.service import events_lifecycle as lc
from countyos.safety.service import plans

# Why a task was ended before it was done, stored in the county's language (see county_text).
LOWERED_REASON = N_("Response lowered")
CLOSED_REASON = N_("Response ended")
OPEN_TASK = (TaskState.ISSUED, TaskState.ACKNOWLEDGED)

TYPE_LABELS = {
    PlanType.FLOOD: N_("Flood and typhoon"),
    PlanType.GEOLOGICAL: N_("Geological hazard"),
    PlanType.FOREST_FIRE: N_("Forest fire"),
    PlanType.HAZCHEM: N_("Hazardous chemicals"),
    PlanType.WORK_SAFETY: N_("Work safety"),
    PlanType.PUBLIC_HEALTH: N_("Public health"),
    PlanType.POWER_OUTAGE: N_("Large power outage"),
    PlanType.EARTHQUAKE: N_("Earthquake"),
    PlanType.TRAFFIC: N_("Road traffic"),
    PlanType.OTHER: N_("Other"),
}
LEVEL_LABELS = {
    ResponseLevel.I: N_("Level I response"),
    ResponseLevel.II: N_("Level II response"),
    ResponseLevel.III: N_("Level III response"),
    ResponseLevel.IV: N_("Level IV response"),
}
SOURCE_LABELS = {
    EventSource.PLAN: N_("Plan trigger"),
    EventSource.ALARM: N_("Sensing alarm"),
    EventSource.CASE: N_("Case"),
    EventSource.MANUAL: N_("Entered by hand"),
}
LOG_LABELS = {
    LogKind.STARTED: N_("Response started"),
    LogKind.ESCALATED: N_("Level raised"),
    LogKind.LOWERED: N_("Level lowered"),
    LogKind.TRIGGER: N_("Trigger fired again"),
    LogKind.TASK_ISSUED: N_("Task issued"),
    LogKind.TASK_ACKNOWLEDGED: N_("Task acknowledged"),
    LogKind.TASK_FEEDBACK: N_("Task feedback"),
    LogKind.TASK_DONE: N_("Task done"),
    LogKind.TASK_CLOSED: N_("Task ended"),
    LogKind.TASK_OVERDUE: N_("Task overdue"),
    LogKind.COMMAND: N_("Command"),
    LogKind.COMMAND_ACKNOWLEDGED: N_("Command acknowledged"),
    LogKind.REPORT_DUE: N_("Report due"),
    LogKind.REPORT_SENT: N_("Report sent"),
    LogKind.NOTE: N_("Note"),
    LogKind.CLOSED: N_("Response ended"),
}


# --- plans (through the plans part's service) ----------------------------------------------------------


def _published(session: Session, plan_id: int) -> tuple[PlanVersion, PlanBody] | None:
    plan = session.get(Plan, plan_id)
    return plans.published_body(session, plan) if plan is not None else None


def rule_lookup(session: Session, rule_id: int) -> tuple[Plan, PlanVersion, ResponseLevel] | None:
    """The plan, version and level whose reading trigger the sensing rule RULE_ID is (one indexed read)."""
    return plans.rule_lookup(session, rule_id)


# --- reading -----------------------------------------------------------------------------------------


def get(session: Session, *, event_id: int) -> EmergencyEvent:
    event = session.get(EmergencyEvent, event_id)
    if event is None:
        raise NotFound(N_("Event %(id)s does not exist"), id=event_id)
    return event


def get_task(session: Session, *, task_id: int) -> EventTask:
    task = session.get(EventTask, task_id)
    if task is None:
        raise NotFound(N_("Task %(id)s does not exist"), id=task_id)
    return task


def list_events(
    session: Session,
    *,
    state: EventState | None = None,
    type: PlanType | None = None,
    level: ResponseLevel | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[EmergencyEvent], int]:
    q = select(EmergencyEvent)
    if state is not None:
        q = q.where(EmergencyEvent.state == state)
    if type is not None:
        q = q.where(EmergencyEvent.type == type)
    if level is not None:
        q = q.where(EmergencyEvent.level == level)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(EmergencyEvent.started_at.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def active_for_plan(session: Session, *, plan_id: int) -> EmergencyEvent | None:
    return session.scalars(
        select(EmergencyEvent)
        .where(EmergencyEvent.plan_id == plan_id, EmergencyEvent.state == EventState.ACTIVE)
        .order_by(EmergencyEvent.id.desc())
        .limit(1)
    ).first()


def tasks_of(session: Session, *, event_id: int) -> list[EventTask]:
    return list(session.scalars(select(EventTask).where(EventTask.event_id == event_id).order_by(EventTask.id)).all())


def may_see_all(actor: Actor) -> bool:
    return actor.can(EMERGENCY_READ)


def tasks_for(
    session: Session,
    *,
    actor: Actor,
    open_only: bool = False,
    event_id: int | None = None,
    limit: int = 200,
) -> list[EventTask]:
    """Tasks the actor may see: those of their own department, every task with EMERGENCY_READ."""
    q = select(EventTask)
    if not may_see_all(actor):
        if actor.department_id is None:
            return []
        q = q.where(EventTask.department_id == actor.department_id)
    if open_only:
        q = q.where(EventTask.state.in_(OPEN_TASK))
    if event_id is not None:
        q = q.where(EventTask.event_id == event_id)
    return list(session.scalars(q.order_by(EventTask.deadline_at, EventTask.id).limit(limit)).all())


def may_see_task(actor: Actor, task: EventTask) -> bool:
    return may_see_all(actor) or (actor.department_id is not None and actor.department_id == task.department_id)


def is_overdue(task: EventTask, now: datetime) -> bool:
    return task.state in OPEN_TASK and task.deadline_at < now


def department_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: n for i, n in session.execute(select(Department.id, Department.name).where(Department.id.in_(ids)))}


# --- starting and levels -----------------------------------------------------------------------------


def _number(session: Session, at: datetime) -> str:
    prefix = "YJ" + county_day(at).strftime("%Y%m%d")
    last = session.scalar(select(func.max(EmergencyEvent.number)).where(EmergencyEvent.number.like(prefix + "%")))
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:03d}"


def department_users(session: Session, department_id: int) -> list[int]:
    """The active people of a department: who is told of its tasks and commands."""
    return list(
        session.scalars(select(User.id).where(User.department_id == department_id, User.is_active.is_(True))).all()
    )


def _require_command(actor: Actor) -> None:
    if actor.id is not None and not actor.can(EMERGENCY_COMMAND):
        raise PermissionDenied(N_("Only the command post may change the response"))


def _issue_level(
    session: Session, *, actor: Actor, event: EmergencyEvent, body: PlanBody | None, level: ResponseLevel, at: datetime
) -> list[EventTask]:
    spec = body.spec(level) if body is not None else None
    if spec is None:
        return []
    names = {d.department for d in spec.duties}
    ids = {n: i for n, i in session.execute(select(Department.name, Department.id).where(Department.name.in_(names)))}
    out: list[EventTask] = []
    for duty in spec.duties:
        dept_id = ids.get(duty.department)
        if dept_id is None:
            lc.log(
                session,
                event=event,
                kind=LogKind.NOTE,
                actor=actor,
                at=at,
                text=county_gettext(
                    N_("%(department)s: no such department, the task was not issued"), department=duty.department
                ),
            )
            continue
        task = EventTask(
            event_id=event.id,
            level=level,
            department_id=dept_id,
            duty=duty.duty,
            state=TaskState.ISSUED,
            issued_at=at,
            deadline_at=at + timedelta(minutes=duty.deadline_minutes),
        )
        session.add(task)
        out.append(task)
    session.flush()
    for task in out:
        lc.log(
            session,
            event=event,
            kind=LogKind.TASK_ISSUED,
            actor=actor,
            at=at,
            text=task.duty,
            task_id=task.id,
            detail={"department_id": task.department_id, "level": str(level)},
        )
        notify.queue(
            session,
            key=f"safety.task.issued:{task.id}",
            kind="safety_task",
            title=county_gettext(N_("Emergency task: %(event)s · %(duty)s"), event=event.title, duty=task.duty)[:200],
            user_ids=department_users(session, task.department_id),
        )
    return out


def _body_of_event(session: Session, event: EmergencyEvent) -> PlanBody | None:
    if event.plan_version_id is None:
        return None
    version = session.get(PlanVersion, event.plan_version_id)
    return body_of(version.body) if version is not None else None


@dataclass(frozen=True)
class Place:
    lon: float | None
    lat: float | None
    place: str
    township_code: str | None


def _place_of(session: Session, *, alarm_id: int | None, case_id: int | None) -> Place | None:
    if alarm_id is not None:
        from countyos.sensing.models import Alarm, Thing

        alarm = session.get(Alarm, alarm_id)
        thing = session.get(Thing, alarm.thing_id) if alarm is not None and alarm.thing_id else None
        if thing is not None:
            return Place(thing.lon, thing.lat, thing.name, None)
    if case_id is not None:
        from countyos.cases.service import cases as case_service

        try:
            case = case_service.get(session, case_id=case_id)
        except NotFound:
            return None
        return Place(case.lon, case.lat, case.address or "", None)
    return None


def _township(session: Session, lon: float | None, lat: float | None) -> str | None:
    if lon is None or lat is None:
        return None
    from countyos.geo.service import lookup

    try:
        with session.begin_nested():
            return lookup.locate(session, lon=lon, lat=lat).township_code
    except Exception:  # outside the county or no divisions: the place stays as words
        return None


def start(
    session: Session,
    *,
    actor: Actor,
    type: PlanType,
    level: ResponseLevel,
    title: str,
    plan_id: int | None = None,
    version_id: int | None = None,
    lon: float | None = None,
    lat: float | None = None,
    place: str = "",
    description: str = "",
    source: EventSource = EventSource.MANUAL,
    alarm_id: int | None = None,
    case_id: int | None = None,
    at: datetime | None = None,
) -> EmergencyEvent:
    """Start a response at LEVEL; the duties of every level up to it become tasks."""
    _require_command(actor)
    at = at or utcnow()
    body: PlanBody | None = None
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise ValidationFailed.on_field("plan_id", N_("No such plan"))
        if version_id is not None:
            version = session.get(PlanVersion, version_id)
            if version is None or version.plan_id != plan_id:
                raise ValidationFailed.on_field("plan_id", N_("No such plan"))
            body = body_of(version.body)
        else:
            published = _published(session, plan_id)
            if published is None:
                raise ValidationFailed.on_field("plan_id", N_("The plan has no version in force"))
            version, body = published
            version_id = version.id
        if active_for_plan(session, plan_id=plan_id) is not None:
            raise ValidationFailed.on_field("plan_id", N_("A response of this plan is already running"))
    if lon is None or lat is None:
        found = _place_of(session, alarm_id=alarm_id, case_id=case_id)
        if found is not None:
            lon, lat = found.lon, found.lat
            place = place or found.place
    event = EmergencyEvent(
        number=_number(session, at),
        title=title[:200],
        type=type,
        level=level,
        state=EventState.ACTIVE,
        plan_id=plan_id,
        plan_version_id=version_id,
        source=source,
        alarm_id=alarm_id,
        case_id=case_id,
        lon=lon,
        lat=lat,
        place=place[:200],
        township_code=_township(session, lon, lat),
        description=description,
        started_at=at,
        level_changed_at=at,
        started_by_id=actor.id,
    )
    session.add(event)
    session.flush()
    lc.log(
        session,
        event=event,
        kind=LogKind.STARTED,
        actor=actor,
        at=at,
        text=title,
        detail={"level": str(level), "source": str(source), "alarm_id": alarm_id, "case_id": case_id},
    )
    from countyos.org.service import audit

    audit.record(
        session,
        actor=actor,
        action="safety.events.start",
        target_type="safety_event",
        target_id=event.number,
        detail={"level": str(level), "plan_id": plan_id, "source": str(source)},
    )
    for lv in levels_up_to(level):
        _issue_level(session, actor=actor, event=event, body=body, level=lv, at=at)
    session.flush()
    return event


def escalate(
    session: Session, *, actor: Actor, event_id: int, level: ResponseLevel, reason: str = "", at: datetime | None = None
) -> EmergencyEvent:
    """Raise the response to LEVEL (higher than now); the new levels' duties become tasks."""
    _require_command(actor)
    event = get(session, event_id=event_id)
    if event.state == EventState.ACTIVE and not more_severe(level, event.level):
        raise ValidationFailed.on_field("level", N_("Choose a level higher than the current one"))
    at = at or utcnow()
    before = event.level
    lc.apply_event(
        session,
        actor=actor,
        event=event,
        action="escalate",
        at=at,
        text=reason,
        detail={"from": str(before), "to": str(level)},
    )
    event.level, event.level_changed_at = level, at
    body = _body_of_event(session, event)
    for lv in levels_up_to(level):
        if LEVEL_RANK[lv] > LEVEL_RANK[before]:
            _issue_level(session, actor=actor, event=event, body=body, level=lv, at=at)
    session.flush()
    return event


def _close_tasks(
    session: Session, *, actor: Actor, event: EmergencyEvent, reason: str, at: datetime, above: ResponseLevel | None
) -> int:
    n = 0
    for task in tasks_of(session, event_id=event.id):
        if task.state not in OPEN_TASK:
            continue
        if above is not None and LEVEL_RANK[task.level] <= LEVEL_RANK[above]:
            continue
        lc.apply_task(session, actor=actor, event=event, task=task, action="close", text=reason, at=at, audited=False)
        n += 1
    return n


def lower(
    session: Session, *, actor: Actor, event_id: int, level: ResponseLevel, reason: str, at: datetime | None = None
) -> EmergencyEvent:
    """Lower the response to LEVEL (lower than now, a reason required); open tasks of the levels above end."""
    _require_command(actor)
    event = get(session, event_id=event_id)
    if not reason.strip():
        raise ValidationFailed.on_field("reason", N_("Say why the level is lowered"))
    if event.state == EventState.ACTIVE and not more_severe(event.level, level):
        raise ValidationFailed.on_field("level", N_("Choose a level lower than the current one"))
    at = at or utcnow()
    before = event.level
    lc.apply_event(
        session,
        actor=actor,
        event=event,
        action="lower",
        at=at,
        text=reason,
        detail={"from": str(before), "to": str(level)},
    )
    event.level, event.level_changed_at = level, at
    _close_tasks(session, actor=actor, event=event, reason=county_gettext(LOWERED_REASON), at=at, above=level)
    session.flush()
    return event


def close(session: Session, *, actor: Actor, event_id: int, note: str, at: datetime | None = None) -> EmergencyEvent:
    """End the response (a note required): every open task ends."""
    _require_command(actor)
    event = get(session, event_id=event_id)
    if not note.strip():
        raise ValidationFailed.on_field("note", N_("Say why the response ends"))
    at = at or utcnow()
    if event.state == EventState.ACTIVE:  # the open tasks end first, the response's end is the last line
        _close_tasks(session, actor=actor, event=event, reason=county_gettext(CLOSED_REASON), at=at, above=None)
    lc.apply_event(session, actor=actor, event=event, action="close", at=at, text=note)
    event.closed_at, event.closed_by_id, event.closing_note = at, actor.id, note
    session.flush()
    return event


def note(session: Session, *, actor: Actor, event_id: int, text: str, at: datetime | None = None) -> EmergencyEvent:
    _require_command(actor)
    event = get(session, event_id=event_id)
    if not text.strip():
        raise ValidationFailed.on_field("text", N_("Write the note"))
    lc.apply_event(session, actor=actor, event=event, action="note", at=at or utcnow(), text=text)
    session.flush()
    return event


def trigger_again(
    session: Session, *, event: EmergencyEvent, text: str, detail: dict[str, Any], at: datetime | None = None
) -> None:
    """A trigger fired again while the response runs at the same or a higher level: noted in the log."""
    from countyos.core.actor import SYSTEM

    lc.apply_event(session, actor=SYSTEM, event=event, action="trigger", at=at or utcnow(), text=text, detail=detail)


def start_by_hand(session: Session, *, actor: Actor, data: EventIn) -> EmergencyEvent:
    """Start a response from the form or the API: from an alarm, a case (by its number) or by hand."""
    case_id = None
    if data.case_number:
        from countyos.cases.service import cases as case_service

        case = case_service.get_by_number(session, number=data.case_number)
        if case is None:
            raise ValidationFailed.on_field("case_number", N_("No case has this number"))
        case_id = case.id
    if data.alarm_id is not None:
        from countyos.sensing.models import Alarm

        if session.get(Alarm, data.alarm_id) is None:
            raise ValidationFailed.on_field("alarm_id", N_("No alarm has this number"))
    source = EventSource.ALARM if data.alarm_id else EventSource.CASE if case_id else EventSource.MANUAL
    return start(
        session,
        actor=actor,
        type=data.type,
        level=data.level,
        title=data.title,
        plan_id=data.plan_id,
        lon=data.lon,
        lat=data.lat,
        place=data.place,
        description=data.description,
        source=source,
        alarm_id=data.alarm_id,
        case_id=case_id,
    )
