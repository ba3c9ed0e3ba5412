"""Pages of the information reports and reviews (信息报送, 复盘) and the leader's situation at a glance.

- ``/safety``: active events with their level (colour), open/overdue tasks and unsent/overdue reports per
  event, the last closed events with their reviews; each number opens its list. Phone-friendly.
- ``/safety/glance/tasks``: the open (or overdue) tasks of active events, the list behind those numbers.
- ``/safety/reports``: the reports not sent, overdue or sent; ``/safety/reports/{id}``: the report's text
  (a draft generated from the records until one is saved), its casualty and loss figures, save and send;
  once sent the text is shown as sent. ``/safety/reports/{id}.pdf``: the print view.
- ``/safety/events/{id}/review``: the review (复盘) with its lessons form, PDF and Excel downloads.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_, use_locale
from countyos.org.service import audit
from countyos.safety.models.reports import EventReport, ReportState
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ
from countyos.safety.schemas.reports import MAX_ID, LessonsIn, ReportIn
from countyos.safety.service import reports, reports_draft, reports_glance, reports_review
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Commander = Annotated[Auth, Depends(require(EMERGENCY_COMMAND))]
ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]
EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50
EMERGENCY = N_("Emergency")
NAV = [
    NavItem(EMERGENCY, N_("Situation at a glance"), "/safety", EMERGENCY_READ, order=300),
    NavItem(EMERGENCY, N_("Information reports"), "/safety/reports", EMERGENCY_READ, order=330),
]
FILTER_LABELS = {"": N_("All"), "pending": N_("Not sent"), "overdue": N_("Overdue"), "sent": N_("Sent")}
TASK_FILTER_LABELS = {"open": N_("Open tasks"), "overdue": N_("Overdue tasks")}
LEVEL_CLASSES = {"I": "bad", "II": "bad", "III": "warn", "IV": "info"}
REPORT_FIELDS = ("body", "to", "deaths", "injured", "missing", "evacuated", "loss_wan")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

audit.name_codes(
    actions={
        reports.AUDIT_DRAFT: N_("Emergency report draft saved"),
        reports.AUDIT_SEND: N_("Emergency report sent"),
        reports_review.AUDIT_LESSONS: N_("Emergency review lessons saved"),
    },
    targets={"safety_event_report": N_("Emergency report"), "safety_event": N_("Emergency event")},
)


def _labels() -> dict[str, Any]:
    return {
        "kind": reports.KIND_LABELS, "state": reports.STATE_LABELS, "type": reports_draft.TYPE_LABELS,
        "level": reports_draft.LEVEL_LABELS, "task_state": reports_draft.TASK_STATE_LABELS,
        "level_class": LEVEL_CLASSES, "late_text": reports_review.late_text,
    }  # fmt: skip


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", "zh_CN") or "zh_CN")


@router.get("/safety")
def glance_page(request: Request, session: ReadSession, a: Reader) -> Response:
    now = utcnow()
    data = reports_glance.glance(session, now=now)
    return templates(request).render(request, "safety/reports/glance.html",
                                     {"g": data, "now": now, "labels": _labels()})  # fmt: skip


@router.get("/safety/glance/tasks")
def glance_tasks(
    request: Request,
    session: ReadSession,
    a: Reader,
    which: Annotated[str, Query(pattern="^(open|overdue)$")] = "open",
    event_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    now = utcnow()
    rows = reports_glance.task_rows(session, which=which, now=now, event_id=event_id)
    names = reports_draft.department_names(session, {t.department_id for t in rows})
    events = {e.id: e for e in (reports_review.get_event(session, i) for i in {t.event_id for t in rows})}
    return templates(request).render(request, "safety/reports/tasks.html", {
        "rows": rows, "names": names, "events": events, "which": which, "event_id": event_id, "now": now,
        "filters": TASK_FILTER_LABELS, "labels": _labels(),
    })  # fmt: skip


@router.get("/safety/reports")
def report_list(
    request: Request,
    session: ReadSession,
    a: Reader,
    which: Annotated[str, Query(pattern="^(|pending|overdue|sent)$")] = "pending",
    event_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    now = utcnow()
    rows, total = reports.listing(session, which=which, event_id=event_id, now=now, limit=PAGE, offset=offset)
    events = {e.id: e for e in (reports_review.get_event(session, i) for i in {r.event_id for r in rows})}
    with use_locale(_locale(request)):
        titles = {r.id: reports.title_of(r) for r in rows}
    query = {"which": which, "event_id": str(event_id or "")}
    return templates(request).render(request, "safety/reports/list.html", {
        "rows": rows, "total": total, "titles": titles, "events": events, "which": which, "event_id": event_id,
        "now": now, "filters": FILTER_LABELS, "labels": _labels(), "offset": offset, "page": PAGE,
        "query": urlencode(query),
    })  # fmt: skip


def _report_page(
    request: Request, session: Session, report: EventReport, *, form: Refused | None = None, status: int = 200
) -> Response:
    event = reports_review.get_event(session, report.event_id)
    values: dict[str, Any] = dict(form.values) if form and form.values else {}
    if not values:
        values = {f: getattr(report, f) for f in REPORT_FIELDS}
        values = {k: "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for k, v in values.items()}
        if not report.body and report.state != ReportState.SENT:
            values["body"] = reports_draft.draft(session, report, locale=_locale(request))
    with use_locale(_locale(request)):
        title = reports.title_of(report)
    return templates(request).render(request, "safety/reports/edit.html", {
        "report": report, "event": event, "title": title, "values": values, "form": form or Refused.empty(),
        "sent": report.state == ReportState.SENT, "now": utcnow(), "labels": _labels(),
    }, status_code=status)  # fmt: skip


@router.get("/safety/reports/{report_id:int}")
def report_page(request: Request, session: ReadSession, a: Reader, report_id: ReportId) -> Response:
    return _report_page(request, session, reports.get(session, report_id=report_id))


@router.post("/safety/reports/{report_id:int}")
def report_save(
    request: Request, session: WriteSession, a: Commander, report_id: ReportId, form: PostedForm
) -> Response:
    """Save the edited draft, or (``action=send``) save and send it; a refused form comes back as typed."""
    values = forms.typed(form, REPORT_FIELDS)
    action = str(form.get("action") or "save")
    try:
        data = forms.parse(ReportIn, values)
        if action == "send":
            reports.send(session, actor=a.actor, report_id=report_id, data=data)
        else:
            reports.save(session, actor=a.actor, report_id=report_id, data=data)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _report_page(request, session, reports.get(session, report_id=report_id), form=refused,
                            status=refused.status)  # fmt: skip
    message = "Report sent" if action == "send" else "Saved"
    return redirect(f"/safety/reports/{report_id}", flash=translate(request, message))


@router.get("/safety/reports/{report_id:int}.pdf")
def report_pdf(request: Request, session: ReadSession, a: Reader, report_id: ReportId) -> Response:
    report = reports.get(session, report_id=report_id)
    pdf = reports_review.report_pdf(session, report, _locale(request))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="report-{report.id}.pdf"'})  # fmt: skip


def _review_page(
    request: Request, session: Session, event_id: int, *, form: Refused | None = None, status: int = 200
) -> Response:
    with use_locale(_locale(request)):
        data = reports_review.review(session, event_id=event_id)
    return templates(request).render(request, "safety/reports/review.html", {
        "r": data, "form": form or Refused.empty(), "labels": _labels(),
        "lessons": (form.values.get("lessons") if form and form.values else None) or data.lessons,
    }, status_code=status)  # fmt: skip


@router.get("/safety/events/{event_id}/review")
def review_page(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> Response:
    return _review_page(request, session, event_id)


@router.post("/safety/events/{event_id}/review")
def review_save(request: Request, session: WriteSession, a: Commander, event_id: EventId, form: PostedForm) -> Response:
    values = forms.typed(form, ("lessons",))
    try:
        data = forms.parse(LessonsIn, values, empty_is_none=False)
        reports_review.save_lessons(session, actor=a.actor, event_id=event_id, data=data)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _review_page(request, session, event_id, form=refused, status=refused.status)
    return redirect(f"/safety/events/{event_id}/review", flash=translate(request, "Saved"))


@router.get("/safety/events/{event_id}/review.pdf")
def review_pdf(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> Response:
    with use_locale(_locale(request)):
        data = reports_review.review(session, event_id=event_id)
    pdf = reports_review.render_pdf(data, _locale(request))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="review-{event_id}.pdf"'})  # fmt: skip


@router.get("/safety/events/{event_id}/review.xlsx")
def review_xlsx(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> Response:
    with use_locale(_locale(request)):
        data = reports_review.review(session, event_id=event_id)
    body = reports_review.to_xlsx(data, _locale(request))
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="review-{event_id}.xlsx"'})  # fmt: skip
