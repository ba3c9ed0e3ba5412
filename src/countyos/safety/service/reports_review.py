"""复盘: the review of an event after its closing, computed from the records — the timeline (every log
entry), each department's task performance (acknowledged after N minutes, done at, deadline met or late by
how much), the commands and their acknowledgement delays, the reports sent against their due times, the
figures (duration, levels, counts) — and the lessons in words (saved, audited). PDF (WeasyPrint) and Excel
(``core.tabular``: sheets timeline, tasks, reports)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core import i18n, tabular
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound
from countyos.core.i18n import N_, gettext, use_locale
from countyos.org.service import audit
from countyos.safety.models.events import EmergencyEvent, EventState, LogKind
from countyos.safety.models.plans import LEVEL_RANK
from countyos.safety.models.reports import EventReport, EventReview, ReportState
from countyos.safety.schemas.reports import LessonsIn
from countyos.safety.service import reports, reports_draft
from countyos.safety.service.reports_draft import LEVEL_LABELS, TASK_STATE_LABELS, TYPE_LABELS, local

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
AUDIT_LESSONS = "safety.reports.lessons"
LOG_LABELS = {
    LogKind.STARTED: N_("Response started"), LogKind.ESCALATED: N_("Level raised"),
    LogKind.LOWERED: N_("Level lowered"), LogKind.TRIGGER: N_("Trigger fired again"),
    LogKind.TASK_ISSUED: N_("Task issued"), LogKind.TASK_ACKNOWLEDGED: N_("Task acknowledged"),
    LogKind.TASK_FEEDBACK: N_("Task feedback"), LogKind.TASK_DONE: N_("Task done"),
    LogKind.TASK_CLOSED: N_("Task ended"), LogKind.TASK_OVERDUE: N_("Task overdue"),
    LogKind.COMMAND: N_("Command"), LogKind.COMMAND_ACKNOWLEDGED: N_("Command acknowledged"),
    LogKind.REPORT_DUE: N_("Report due"), LogKind.REPORT_SENT: N_("Report sent"),
    LogKind.NOTE: N_("Note"), LogKind.CLOSED: N_("Response ended"),
}  # fmt: skip


def minutes(a: datetime | None, b: datetime | None) -> int | None:
    """Whole minutes from A to B (None when either is missing)."""
    if a is None or b is None:
        return None
    return int((b - a).total_seconds() // 60)


@dataclass
class TaskRow:
    department: str
    duty: str
    level: str
    state: str
    issued_at: datetime
    deadline_at: datetime
    acknowledged_after: int | None  # minutes after issue
    done_at: datetime | None
    late_minutes: int | None  # done after the deadline by; 0 = met; None = not done
    met: bool


@dataclass
class CommandRow:
    at: datetime
    by: str
    text: str
    acknowledged_after: int | None


@dataclass
class ReportRow:
    id: int
    title: str
    due_at: datetime
    sent_at: datetime | None
    late_minutes: int | None  # sent after due by; 0 = on time; None = not sent
    state: str


@dataclass
class Review:
    event: EmergencyEvent
    timeline: list[tuple[datetime, str, str, str]]  # at, kind label, text, who
    tasks: list[TaskRow]
    commands: list[CommandRow]
    reports: list[ReportRow]
    figures: dict[str, Any] = field(default_factory=dict)
    lessons: str = ""
    lessons_at: datetime | None = None


def get_event(session: Session, event_id: int) -> EmergencyEvent:
    event = session.get(EmergencyEvent, event_id)
    if event is None:
        raise NotFound(N_("No such event"))
    return event


def review(session: Session, *, event_id: int, now: datetime | None = None) -> Review:
    """The review's figures in the current locale (it works on an active event too: so far)."""
    now = now or utcnow()
    event = get_event(session, event_id)
    t = gettext
    log = reports_draft.log_of(session, event.id)
    timeline = [(e.at, t(LOG_LABELS[e.kind]), e.text, e.actor_name) for e in log]
    tasks = reports_draft.tasks_of(session, event.id)
    names = reports_draft.department_names(session, {x.department_id for x in tasks})
    task_rows = []
    for x in tasks:
        late = minutes(x.deadline_at, x.done_at)
        task_rows.append(TaskRow(
            department=names.get(x.department_id, ""), duty=x.duty, level=t(LEVEL_LABELS[x.level]),
            state=t(TASK_STATE_LABELS[x.state]), issued_at=x.issued_at, deadline_at=x.deadline_at,
            acknowledged_after=minutes(x.issued_at, x.acknowledged_at), done_at=x.done_at,
            late_minutes=None if late is None else max(0, late), met=late is not None and late <= 0,
        ))  # fmt: skip
    acks = {e.detail.get("command_id"): e.at for e in log if e.kind == LogKind.COMMAND_ACKNOWLEDGED}
    commands = [
        CommandRow(e.at, e.actor_name, e.text, minutes(e.at, acks.get(e.detail.get("command_id"))))
        for e in log
        if e.kind == LogKind.COMMAND
    ]
    report_rows = []
    for r in reports.of_event(session, event_id=event.id):
        late = minutes(r.due_at, r.sent_at)
        state = t(reports.STATE_LABELS[r.state])
        report_rows.append(
            ReportRow(r.id, reports.title_of(r), r.due_at, r.sent_at, None if late is None else max(0, late), state)
        )
    levels = {event.level, *(x.level for x in tasks)}
    highest = max(levels, key=LEVEL_RANK.__getitem__)
    end = event.closed_at or now
    figures = {
        "duration_minutes": minutes(event.started_at, end),
        "highest_level": t(LEVEL_LABELS[highest]),
        "final_level": t(LEVEL_LABELS[event.level]),
        "level_changes": sum(e.kind in (LogKind.ESCALATED, LogKind.LOWERED) for e in log),
        "tasks": len(task_rows),
        "tasks_late": sum(1 for r in task_rows if r.late_minutes),
        "tasks_not_done": sum(1 for r in task_rows if r.done_at is None),
        "commands": len(commands),
        "reports_due": len(report_rows),
        "reports_sent": sum(1 for r in report_rows if r.sent_at is not None),
        "reports_late": sum(1 for r in report_rows if r.late_minutes),
    }
    saved = session.scalar(select(EventReview).where(EventReview.event_id == event.id))
    return Review(event, timeline, task_rows, commands, report_rows, figures,
                  saved.lessons if saved else "", saved.updated_at if saved else None)  # fmt: skip


def save_lessons(session: Session, *, actor: Actor, event_id: int, data: LessonsIn) -> EventReview:
    event = get_event(session, event_id)
    saved = session.scalar(select(EventReview).where(EventReview.event_id == event.id))
    if saved is None:
        saved = EventReview(event_id=event.id)
        session.add(saved)
    saved.lessons, saved.updated_at, saved.updated_by_id = data.lessons, utcnow(), actor.id
    session.flush()
    audit.record(session, actor=actor, action=AUDIT_LESSONS, target_type="safety_event", target_id=event.id,
                 detail={"chars": len(data.lessons)})  # fmt: skip
    return saved


def latest_reviews(session: Session, *, limit: int = 5) -> list[tuple[EmergencyEvent, EventReview | None]]:
    """The last closed events with their saved reviews (if any), newest first."""
    rows = session.execute(
        select(EmergencyEvent, EventReview)
        .outerjoin(EventReview, EventReview.event_id == EmergencyEvent.id)
        .where(EmergencyEvent.state == EventState.CLOSED)
        .order_by(EmergencyEvent.closed_at.desc(), EmergencyEvent.id.desc())
        .limit(limit)
    ).all()
    return [(e, r) for e, r in rows]


def late_text(late: int | None, *, none: str) -> str:
    if late is None:
        return gettext(none)
    if late == 0:
        return gettext(N_("on time"))
    return gettext(N_("late by %(minutes)s min"), minutes=late)


# --- downloads --------------------------------------------------------------------------------------


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda m: escape(i18n.gettext(m)), lambda s, p, n: escape(i18n.ngettext(s, p, n)), newstyle=True
    )
    env.filters["dt"] = local
    return env


def _labels() -> dict[str, Any]:
    return {"type": TYPE_LABELS, "level": LEVEL_LABELS, "late_text": late_text}


def render_html(data: Review, locale: str = "zh_CN") -> str:
    with use_locale(locale):
        return _env().get_template("safety/reports/review_print.html").render(r=data, labels=_labels())


def render_pdf(data: Review, locale: str = "zh_CN") -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only downloads need

    out: bytes = HTML(string=render_html(data, locale), base_url=str(TEMPLATES)).write_pdf()
    return out


def report_pdf(session: Session, report: EventReport, locale: str = "zh_CN") -> bytes:
    """One report as a printable PDF (its text as saved or sent)."""
    from weasyprint import HTML

    event = get_event(session, report.event_id)
    with use_locale(locale):
        html = _env().get_template("safety/reports/report_print.html").render(
            event=event, report=report, title=reports.title_of(report), labels=_labels(),
            sent=report.state == ReportState.SENT,
        )  # fmt: skip
    out: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return out


def to_xlsx(data: Review, locale: str = "zh_CN") -> bytes:
    """The review as a workbook: sheets timeline, tasks, reports."""
    with use_locale(locale):
        t = gettext
        wb = Workbook()
        heads = [t(N_("Time")), t(N_("Kind")), t(N_("What happened")), t(N_("By"))]
        ws = tabular.header_sheet(wb, t(N_("Event log")), heads, first=True)
        for at, kind, text, who in data.timeline:
            tabular.append_row(ws, [local(at), kind, text, who])
        ws = tabular.header_sheet(wb, t(N_("Tasks")), [
            t(N_("Department")), t(N_("Duty")), t(N_("Level")), t(N_("State")), t(N_("Issued at")), t(N_("Deadline")),
            t(N_("Acknowledged after (min)")), t(N_("Done at")), t(N_("Deadline met")),
        ])  # fmt: skip
        for x in data.tasks:
            tabular.append_row(ws, [x.department, x.duty, x.level, x.state, local(x.issued_at), local(x.deadline_at),
                                    x.acknowledged_after, local(x.done_at) if x.done_at else "",
                                    late_text(x.late_minutes, none=N_("not done"))])  # fmt: skip
        heads = [t(N_("Information report")), t(N_("Due")), t(N_("Sent at")), t(N_("On time")), t(N_("State"))]
        ws = tabular.header_sheet(wb, t(N_("Information reports")), heads)
        for r in data.reports:
            tabular.append_row(ws, [r.title, local(r.due_at), local(r.sent_at) if r.sent_at else "",
                                    late_text(r.late_minutes, none=N_("not sent")), r.state])  # fmt: skip
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
