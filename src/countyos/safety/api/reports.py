"""API of the information reports and reviews (信息报送, 复盘): the reports by filter and of an event, a
report's generated draft, its edit (409 once sent) and sending, its PDF; an event's review as JSON, its
lessons, PDF and Excel. EMERGENCY_READ to see, EMERGENCY_COMMAND to edit, send and write lessons."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from countyos.core.i18n import gettext, use_locale
from countyos.safety.models.reports import EventReport
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ
from countyos.safety.schemas.reports import MAX_ID, LessonsIn, ReportIn, ReportOut, ReportPage
from countyos.safety.service import reports, reports_draft, reports_review
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Commander = Annotated[Auth, Depends(require(EMERGENCY_COMMAND))]
ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]
EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def locale_of(request: Request) -> str:
    return str(getattr(request.state, "locale", "zh_CN") or "zh_CN")


def report_out(r: EventReport) -> ReportOut:
    return ReportOut(
        id=r.id, event_id=r.event_id, kind=r.kind.value, number=r.number, title=reports.title_of(r),
        state=r.state.value, state_label=gettext(reports.STATE_LABELS[r.state]), due_at=r.due_at, to=r.to,
        body=r.body, deaths=r.deaths, injured=r.injured, missing=r.missing, evacuated=r.evacuated,
        loss_wan=r.loss_wan, reminded_at=r.reminded_at, overdue_noted=r.overdue_noted, sent_at=r.sent_at,
        sent_by_id=r.sent_by_id, created_at=r.created_at,
    )  # fmt: skip


@router.get("/reports", response_model=ReportPage)
def list_reports(
    request: Request,
    session: ReadSession,
    a: Reader,
    which: Annotated[str, Query(pattern="^(|pending|overdue|sent)$")] = "",
    event_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ReportPage:
    rows, total = reports.listing(session, which=which, event_id=event_id, limit=limit, offset=offset)
    with use_locale(locale_of(request)):
        return ReportPage(total=total, items=[report_out(r) for r in rows])


@router.get("/events/{event_id}/reports", response_model=list[ReportOut])
def event_reports(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> list[ReportOut]:
    reports_review.get_event(session, event_id)
    with use_locale(locale_of(request)):
        return [report_out(r) for r in reports.of_event(session, event_id=event_id)]


@router.get("/reports/{report_id}", response_model=ReportOut)
def get_report(request: Request, session: ReadSession, a: Reader, report_id: ReportId) -> ReportOut:
    with use_locale(locale_of(request)):
        return report_out(reports.get(session, report_id=report_id))


@router.get("/reports/{report_id}/draft")
def get_draft(request: Request, session: ReadSession, a: Reader, report_id: ReportId) -> dict[str, str]:
    """The report's text generated from the records as they are now (not saved)."""
    report = reports.get(session, report_id=report_id)
    return {"body": reports_draft.draft(session, report, locale=locale_of(request))}


@router.put("/reports/{report_id}", response_model=ReportOut)
def save_report(
    request: Request, session: WriteSession, a: Commander, report_id: ReportId, body: ReportIn
) -> ReportOut:
    report = reports.save(session, actor=a.actor, report_id=report_id, data=body)
    with use_locale(locale_of(request)):
        return report_out(report)


@router.post("/reports/{report_id}/send", response_model=ReportOut)
def send_report(
    request: Request,
    session: WriteSession,
    a: Commander,
    report_id: ReportId,
    body: Annotated[ReportIn | None, Body()] = None,
) -> ReportOut:
    report = reports.send(session, actor=a.actor, report_id=report_id, data=body)
    with use_locale(locale_of(request)):
        return report_out(report)


@router.get("/reports/{report_id}/pdf", response_class=Response)
def report_pdf(request: Request, session: ReadSession, a: Reader, report_id: ReportId) -> Response:
    report = reports.get(session, report_id=report_id)
    pdf = reports_review.report_pdf(session, report, locale_of(request))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="report-{report.id}.pdf"'})  # fmt: skip


def review_json(data: reports_review.Review) -> dict[str, Any]:
    e = data.event
    return {
        "event": {"id": e.id, "number": e.number, "title": e.title, "type": e.type.value, "level": e.level.value,
                  "state": e.state.value, "started_at": e.started_at, "closed_at": e.closed_at, "place": e.place},
        "figures": data.figures,
        "timeline": [{"at": at, "kind": kind, "text": text, "by": who} for at, kind, text, who in data.timeline],
        "tasks": [asdict(t) for t in data.tasks],
        "commands": [asdict(c) for c in data.commands],
        "reports": [asdict(r) for r in data.reports],
        "lessons": data.lessons,
        "lessons_at": data.lessons_at,
    }  # fmt: skip


@router.get("/events/{event_id}/review")
def get_review(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> dict[str, Any]:
    with use_locale(locale_of(request)):
        return review_json(reports_review.review(session, event_id=event_id))


@router.put("/events/{event_id}/review")
def put_lessons(
    request: Request, session: WriteSession, a: Commander, event_id: EventId, body: LessonsIn
) -> dict[str, Any]:
    reports_review.save_lessons(session, actor=a.actor, event_id=event_id, data=body)
    with use_locale(locale_of(request)):
        return review_json(reports_review.review(session, event_id=event_id))


@router.get("/events/{event_id}/review.pdf", response_class=Response)
def review_pdf(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> Response:
    data = reports_review.review(session, event_id=event_id)
    pdf = reports_review.render_pdf(data, locale_of(request))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="review-{event_id}.pdf"'})  # fmt: skip


@router.get("/events/{event_id}/review.xlsx", response_class=Response)
def review_xlsx(request: Request, session: ReadSession, a: Reader, event_id: EventId) -> Response:
    data = reports_review.review(session, event_id=event_id)
    with use_locale(locale_of(request)):
        body = reports_review.to_xlsx(data, locale_of(request))
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="review-{event_id}.xlsx"'})  # fmt: skip
