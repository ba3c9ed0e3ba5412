"""Drafts of 信息报送 generated from the records, in the county's language and time zone: the event (title,
time, place, type, level), how it started, the level changes, the tasks by department with their states,
the commands, the latest readings of the triggering datastream, the measures taken (task feedback) and
the casualty and loss figures entered on the report."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import to_local, utcnow
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.settings import get_settings
from countyos.org.models import Department
from countyos.safety.models.events import EmergencyEvent, EventLog, EventSource, EventTask, LogKind, TaskState
from countyos.safety.models.plans import PlanType, ResponseLevel
from countyos.safety.models.reports import EventReport
from countyos.safety.service.reports import title_of
from countyos.sensing.models import Alarm, Latest
from countyos.sensing.service import streams

TYPE_LABELS = {
    PlanType.FLOOD: N_("Flood and typhoon"), PlanType.GEOLOGICAL: N_("Geological hazard"),
    PlanType.FOREST_FIRE: N_("Forest fire"), PlanType.HAZCHEM: N_("Hazardous chemicals"),
    PlanType.WORK_SAFETY: N_("Work safety"), PlanType.PUBLIC_HEALTH: N_("Public health"),
    PlanType.POWER_OUTAGE: N_("Large power outage"), PlanType.EARTHQUAKE: N_("Earthquake"),
    PlanType.TRAFFIC: N_("Road traffic"), PlanType.OTHER: N_("Other"),
}  # fmt: skip
LEVEL_LABELS = {
    ResponseLevel.I: N_("Level I response"), ResponseLevel.II: N_("Level II response"),
    ResponseLevel.III: N_("Level III response"), ResponseLevel.IV: N_("Level IV response"),
}  # fmt: skip
SOURCE_LABELS = {
    EventSource.PLAN: N_("Plan trigger"), EventSource.ALARM: N_("Sensing alarm"),
    EventSource.CASE: N_("Case"), EventSource.MANUAL: N_("Entered by hand"),
}  # fmt: skip
TASK_STATE_LABELS = {
    TaskState.ISSUED: N_("Assigned"), TaskState.ACKNOWLEDGED: N_("Signed for"),
    TaskState.DONE: N_("Done"), TaskState.CLOSED: N_("Ended"),
}  # fmt: skip
OVERDUE = N_("overdue")


def local(at: datetime | None) -> str:
    """A time in the county's zone, to the minute."""
    return to_local(at, get_settings().timezone).strftime("%Y-%m-%d %H:%M") if at else "—"


def department_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(ids))).all()
    return {int(i): str(n) for i, n in rows}


def tasks_of(session: Session, event_id: int) -> list[EventTask]:
    stmt = select(EventTask).where(EventTask.event_id == event_id).order_by(EventTask.issued_at, EventTask.id)
    return list(session.scalars(stmt))


def log_of(session: Session, event_id: int, kinds: tuple[LogKind, ...] = ()) -> list[EventLog]:
    stmt = select(EventLog).where(EventLog.event_id == event_id)
    if kinds:
        stmt = stmt.where(EventLog.kind.in_(kinds))
    return list(session.scalars(stmt.order_by(EventLog.at, EventLog.id)))


def task_overdue(task: EventTask, now: datetime) -> bool:
    """Past its deadline and not done (done late counts as overdue too)."""
    if task.state == TaskState.DONE:
        return task.done_at is not None and task.done_at > task.deadline_at
    if task.state == TaskState.CLOSED:
        return task.closed_at is not None and task.closed_at > task.deadline_at and task.acknowledged_at is None
    return now > task.deadline_at


def latest_readings(session: Session, event: EmergencyEvent) -> list[str]:
    """The latest value of the triggering alarm's datastream, in words."""
    if event.alarm_id is None:
        return []
    alarm = session.get(Alarm, event.alarm_id)
    if alarm is None or alarm.datastream_id is None:
        return []
    latest = session.get(Latest, alarm.datastream_id)
    info = streams.by_id(session, alarm.datastream_id)
    if latest is None or latest.result is None:
        return []
    at = datetime.fromtimestamp(latest.phenomenon_us / 1_000_000, tz=UTC)
    name = f"{info.device_key} {info.metric}" if info is not None else str(alarm.datastream_id)
    unit = (info.unit_symbol or "") if info is not None else ""
    return [gettext(N_("%(stream)s: %(value)s %(unit)s at %(at)s"),
                    stream=name, value=f"{latest.result:g}", unit=unit, at=local(at)).strip()]  # fmt: skip


def draft(session: Session, report: EventReport, *, now: datetime | None = None, locale: str | None = None) -> str:
    """The report's text generated from the event's records as they are now."""
    now = now or utcnow()
    event = session.get(EmergencyEvent, report.event_id)
    assert event is not None
    with use_locale(locale or get_settings().default_locale):
        return _draft(session, report, event, now)


def _draft(session: Session, report: EventReport, event: EmergencyEvent, now: datetime) -> str:
    t = gettext
    tasks = tasks_of(session, event.id)
    names = department_names(session, {x.department_id for x in tasks})
    lines = [f"{event.title} — {title_of(report)}", ""]
    lines.append(t(N_("Time: %(at)s"), at=local(event.started_at)))
    lines.append(t(N_("Place: %(place)s"), place=event.place or "—"))
    lines.append(t(N_("Type: %(type)s"), type=t(TYPE_LABELS[event.type])))
    lines.append(t(N_("Response level: %(level)s"), level=t(LEVEL_LABELS[event.level])))
    if event.closed_at is not None:
        lines.append(t(N_("Response ended at %(at)s"), at=local(event.closed_at)))
    lines += ["", t(N_("1. How it started"))]
    lines.append(t(SOURCE_LABELS[event.source]) + (f"：{event.description}" if event.description else ""))
    lines += [f"  {r}" for r in latest_readings(session, event)]
    lines += ["", t(N_("2. Level changes"))]
    changes = log_of(session, event.id, (LogKind.STARTED, LogKind.ESCALATED, LogKind.LOWERED, LogKind.CLOSED))
    lines += [f"  {local(e.at)} {e.text}" for e in changes] or ["  " + t(N_("none"))]
    lines += ["", t(N_("3. Tasks by department"))]
    for task in tasks:
        state = t(TASK_STATE_LABELS[task.state])
        if task_overdue(task, now):
            state += f"（{t(OVERDUE)}）"
        lines.append(f"  {names.get(task.department_id, '')}：{task.duty} — {state}")
    if not tasks:
        lines.append("  " + t(N_("none")))
    lines += ["", t(N_("4. Commands"))]
    commands = log_of(session, event.id, (LogKind.COMMAND,))
    lines += [f"  {local(e.at)} {e.actor_name} {e.text}" for e in commands] or ["  " + t(N_("none"))]
    lines += ["", t(N_("5. Measures taken"))]
    measures = [f"  {names.get(x.department_id, '')}：{x.feedback}" for x in tasks if x.feedback]
    lines += measures or ["  " + t(N_("none"))]
    lines += ["", t(N_("6. Casualties and losses"))]
    lines.append("  " + t(N_("Dead %(deaths)s, injured %(injured)s, missing %(missing)s, evacuated %(evacuated)s; "
                      "direct economic loss %(loss)s (10,000 yuan)"),
                   deaths=_n(report.deaths), injured=_n(report.injured), missing=_n(report.missing),
                   evacuated=_n(report.evacuated), loss=_n(report.loss_wan)))  # fmt: skip
    return "\n".join(lines)


def _n(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)
