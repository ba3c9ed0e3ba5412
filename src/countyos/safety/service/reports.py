"""信息报送: an event's reports on its plan's schedule (``reports_schedule``), their reminders, drafting and
sending. A report moves due → drafted → sent on ``models.reports.REPORT_MOVES``; the text as sent is
frozen (editing a sent report is a 409).

``remind(session, now=…)`` (the job ``safety.reports.remind``) creates the rows an event should have by
NOW (idempotent: one row per event, kind and number) and reminds — once when a report is due soon, once
when it is overdue — by an inbox message to the commanders (EMERGENCY_COMMAND or EMERGENCY_MANAGE) of the
plan's lead department and of the emergency bureau, and an event log row of kind REPORT_DUE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from countyos.cases.service import notify, people
from countyos.core.actor import Actor
from countyos.core.clock import to_local, utcnow
from countyos.core.errors import NotFound, TransitionNotAllowed
from countyos.core.i18n import N_, county_gettext, gettext, use_locale
from countyos.core.settings import get_settings
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.safety.models.events import EmergencyEvent, EventLog, EventState, LogKind
from countyos.safety.models.plans import Plan, PlanVersion
from countyos.safety.models.reports import REPORT_MOVES, EventReport, ReportAction, ReportKind, ReportState
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_MANAGE
from countyos.safety.schemas.plans import ReportSchedule, body_of
from countyos.safety.schemas.reports import ReportIn
from countyos.safety.service import reports_schedule
from countyos.safety.service.events_lifecycle import person_name

KIND_LABELS = {ReportKind.FIRST: N_("First report"), ReportKind.FOLLOWUP: N_("Follow-up report"),
               ReportKind.FINAL: N_("Final report")}  # fmt: skip
STATE_LABELS = {ReportState.DUE: N_("To be written"), ReportState.DRAFTED: N_("Drafted"),
                ReportState.SENT: N_("Sent")}  # fmt: skip
BUREAU = "县应急管理局"
AUDIT_DRAFT = "safety.reports.draft"
AUDIT_SEND = "safety.reports.send"


def title_of(report: EventReport) -> str:
    """The report's name in the current locale: 首报, 续报（第2次）, 终报."""
    if report.kind == ReportKind.FOLLOWUP:
        return gettext(N_("Follow-up report no. %(n)s")) % {"n": report.number}
    return gettext(KIND_LABELS[report.kind])


def schedule_of(session: Session, event: EmergencyEvent) -> ReportSchedule:
    """The event's plan version's report schedule, else the default."""
    if event.plan_version_id is not None:
        body = session.get(PlanVersion, event.plan_version_id)
        if body is not None:
            return body_of(body.body).reports
    return reports_schedule.default_schedule()


def ensure(session: Session, event: EmergencyEvent, *, now: datetime) -> list[EventReport]:
    """Create the report rows EVENT should have by NOW that it lacks; the new rows."""
    schedule = schedule_of(session, event)
    have = {(r.kind, r.number) for r in session.scalars(select(EventReport).where(EventReport.event_id == event.id))}
    new: list[EventReport] = []
    for slot in reports_schedule.slots(schedule, started_at=event.started_at, closed_at=event.closed_at, until=now):
        if (slot.kind, slot.number) in have:
            continue
        row = EventReport(event_id=event.id, kind=slot.kind, number=slot.number, due_at=slot.due_at,
                          state=ReportState.DUE, to=schedule.to or reports_schedule.default_schedule().to,
                          created_at=now)  # fmt: skip
        session.add(row)
        new.append(row)
    if new:
        session.flush()
    return new


def recipients(session: Session, event: EmergencyEvent) -> list[int]:
    """Commanders of the plan's lead department and of the emergency bureau; else every commander."""
    departments: list[int] = []
    if event.plan_id is not None:
        plan = session.get(Plan, event.plan_id)
        if plan is not None and plan.lead_department_id is not None:
            departments.append(plan.lead_department_id)
    bureau = session.scalar(select(Department.id).where(Department.name == BUREAU))
    if bureau is not None:
        departments.append(bureau)
    ids: list[int] = []
    for department_id in dict.fromkeys(departments):
        for permission in (EMERGENCY_COMMAND, EMERGENCY_MANAGE):
            ids += [u.id for u in people.holders(session, permission=permission, department_id=department_id)]
    if not ids:
        ids = [u.id for u in people.holders(session, permission=EMERGENCY_COMMAND)]
    return list(dict.fromkeys(ids))


@dataclass
class Reminded:
    created: int = 0
    due_soon: int = 0
    overdue: int = 0


def _local(at: datetime) -> str:
    return to_local(at, get_settings().timezone).strftime("%Y-%m-%d %H:%M")


def _remind_one(session: Session, event: EmergencyEvent, report: EventReport, *, overdue: bool, now: datetime) -> None:
    with use_locale(get_settings().default_locale):
        params = {"report": title_of(report), "event": event.title, "due": _local(report.due_at)}
        if overdue:
            title = gettext(N_("Overdue: %(report)s of %(event)s was due at %(due)s")) % params
        else:
            title = gettext(N_("Due soon: %(report)s of %(event)s is due at %(due)s")) % params
    which = "overdue" if overdue else "soon"
    notify.queue(session, key=f"safety.report:{report.id}:{which}", kind="red" if overdue else "yellow",
                 title=title, body=f"/safety/reports/{report.id}", user_ids=recipients(session, event))  # fmt: skip
    session.add(EventLog(event_id=event.id, at=now, kind=LogKind.REPORT_DUE, text=title,
                         detail={"report_id": report.id, "overdue": overdue}))  # fmt: skip


def remind(session: Session, *, now: datetime | None = None) -> Reminded:
    """Create the due report rows of every event that may still need one (active, or closed within
    ``forget_closed_after_days``: older closed events are history, not reminded), and remind each report
    once when due soon and once when overdue."""
    now = now or utcnow()
    out = Reminded()
    soon = reports_schedule.due_soon()
    unsent = select(EventReport.event_id).where(EventReport.state != ReportState.SENT)
    with_final = select(EventReport.event_id).where(EventReport.kind == ReportKind.FINAL)
    recent = now - timedelta(days=int(reports_schedule.defaults()["forget_closed_after_days"]))
    events = session.scalars(
        select(EmergencyEvent).where(
            or_(EmergencyEvent.state == EventState.ACTIVE,
                and_(EmergencyEvent.closed_at >= recent,
                     or_(EmergencyEvent.id.in_(unsent), ~EmergencyEvent.id.in_(with_final))))
        )
    ).all()  # fmt: skip
    for event in events:
        out.created += len(ensure(session, event, now=now))
        pending = session.scalars(
            select(EventReport).where(EventReport.event_id == event.id, EventReport.state != ReportState.SENT)
        ).all()
        for report in pending:
            if report.due_at < now and not report.overdue_noted:
                report.overdue_noted = True
                report.reminded_at = report.reminded_at or now
                _remind_one(session, event, report, overdue=True, now=now)
                out.overdue += 1
            elif report.reminded_at is None and report.due_at - soon <= now <= report.due_at:
                report.reminded_at = now
                _remind_one(session, event, report, overdue=False, now=now)
                out.due_soon += 1
    session.flush()
    return out


def get(session: Session, *, report_id: int) -> EventReport:
    report = session.get(EventReport, report_id)
    if report is None:
        raise NotFound(N_("No such report"))
    return report


def of_event(session: Session, *, event_id: int) -> list[EventReport]:
    return list(
        session.scalars(
            select(EventReport).where(EventReport.event_id == event_id).order_by(EventReport.due_at, EventReport.id)
        )
    )


FILTERS = ("", "pending", "overdue", "sent")


def _filtered(stmt: Select[Any], *, which: str, event_id: int | None, now: datetime) -> Select[Any]:
    if event_id is not None:
        stmt = stmt.where(EventReport.event_id == event_id)
    if which == "pending":
        stmt = stmt.where(EventReport.state != ReportState.SENT)
    elif which == "overdue":
        stmt = stmt.where(EventReport.state != ReportState.SENT, EventReport.due_at < now)
    elif which == "sent":
        stmt = stmt.where(EventReport.state == ReportState.SENT)
    return stmt


def listing(
    session: Session, *, which: str = "", event_id: int | None = None, now: datetime | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[EventReport], int]:  # fmt: skip
    """Reports by filter (``FILTERS``: pending = not sent, overdue = not sent past due, sent), most
    urgent first; and how many match."""
    now = now or utcnow()
    total = session.scalar(_filtered(select(func.count(EventReport.id)), which=which, event_id=event_id, now=now))
    rows = session.scalars(
        _filtered(select(EventReport), which=which, event_id=event_id, now=now)
        .order_by(EventReport.due_at.desc() if which == "sent" else EventReport.due_at, EventReport.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total or 0)


def counts(session: Session, *, event_ids: Iterable[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Per event: (reports not sent, of which overdue)."""
    ids = list(event_ids)
    out = dict.fromkeys(ids, (0, 0))
    if not ids:
        return out
    rows = session.execute(
        select(EventReport.event_id, EventReport.due_at)
        .where(EventReport.event_id.in_(ids), EventReport.state != ReportState.SENT)
    ).all()  # fmt: skip
    for event_id, due_at in rows:
        n, late = out[event_id]
        out[event_id] = (n + 1, late + (1 if due_at < now else 0))
    return out


def _move(report: EventReport, action: ReportAction) -> ReportState:
    nxt = REPORT_MOVES.get((report.state, action))
    if nxt is None:
        raise TransitionNotAllowed(
            N_("This report was sent; its text is kept as sent"), allowed=[], current_state=report.state.value
        )
    return nxt


def _apply(report: EventReport, data: ReportIn) -> None:
    report.body = data.body
    report.deaths, report.injured, report.missing = data.deaths, data.injured, data.missing
    report.evacuated, report.loss_wan = data.evacuated, data.loss_wan
    if data.to is not None:
        report.to = data.to


def save(session: Session, *, actor: Actor, report_id: int, data: ReportIn) -> EventReport:
    """Save the edited draft (and the figures) of a report not yet sent."""
    report = get(session, report_id=report_id)
    report.state = _move(report, ReportAction.DRAFT)
    _apply(report, data)
    report.drafted_at, report.drafted_by_id = utcnow(), actor.id
    audit.record(session, actor=actor, action=AUDIT_DRAFT, target_type="safety_event_report", target_id=report.id,
                 detail={"event_id": report.event_id, "kind": report.kind.value, "number": report.number})  # fmt: skip
    session.flush()
    return report


def send(session: Session, *, actor: Actor, report_id: int, data: ReportIn | None = None) -> EventReport:
    """Send a report (its text as saved, or DATA): records when and by whom; the text is frozen."""
    report = get(session, report_id=report_id)
    report.state = _move(report, ReportAction.SEND)
    if data is not None:
        _apply(report, data)
    now = utcnow()
    report.sent_at, report.sent_by_id = now, actor.id
    event = session.get(EmergencyEvent, report.event_id)
    late = max(0, int((now - report.due_at).total_seconds() // 60))
    text = county_gettext(N_("%(report)s sent to %(to)s"), report=title_of(report), to=report.to or "—")
    session.add(EventLog(event_id=report.event_id, at=now, kind=LogKind.REPORT_SENT, text=text,
                         actor_id=actor.id, actor_name=person_name(session, actor),
                         detail={"report_id": report.id, "late_minutes": late}))  # fmt: skip
    audit.record(session, actor=actor, action=AUDIT_SEND, target_type="safety_event_report", target_id=report.id,
                 detail={"event_id": report.event_id, "late_minutes": late,
                         "event": event.number if event is not None else None})  # fmt: skip
    session.flush()
    return report
