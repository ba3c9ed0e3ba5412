"""The evaluation page (综合评价): indicators, composite score and grade per subject; Excel export."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from countyos.cases import schemas
from countyos.cases.pages.nostore import page_router
from countyos.cases.service import evaluation
from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_xlsx
from countyos.org.service import audit
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import templates

router = page_router()
Evaluator = Annotated[Auth, Depends(require("case.evaluate"))]

INDICATOR_LABELS = {
    "closure_rate": N_("Closure rate"),
    "closed_on_time_rate": N_("Closed on time"),
    "registered_on_time_rate": N_("Registered on time"),
    "accurate_registration_rate": N_("Accurate registration"),
    "dispatched_on_time_rate": N_("Dispatched on time"),
    "accurate_dispatch_rate": N_("Accurate dispatch"),
    "handled_on_time_rate": N_("Handled on time"),
    "rework_rate": N_("Rework rate"),
    "valid_report_rate": N_("Valid reports"),
    "missed_report_rate": N_("Missed reports"),
    "satisfaction_rate": N_("Satisfaction"),
}
SUBJECT_LABELS = {
    "department": N_("Departments"),
    "township": N_("Townships"),
    "grid": N_("Grids"),
    "person": N_("Reporting people"),
    "registrar": N_("Registering staff"),
    "dispatcher": N_("Dispatchers"),
}


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime, date, date]:
    """[start, end) from two county-local days (``YYYY-MM-DD``; the end day is not included)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(get_settings().timezone)
    today = utcnow().astimezone(tz).date()
    try:
        d_end = date.fromisoformat(end) if end else today + timedelta(days=1)
        d_start = date.fromisoformat(start) if start else d_end - timedelta(days=30)
        return schemas.local_midnight(d_start), schemas.local_midnight(d_end), d_start, d_end
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed("Dates are YYYY-MM-DD") from exc


@router.get("/cases/evaluation")
def evaluation_page(
    request: Request,
    session: ReadSession,
    a: Evaluator,
    subject: str = "department",
    start: str | None = None,
    end: str | None = None,
) -> Response:
    t0, t1, d0, d1 = _period(start, end)
    rows = evaluation.evaluate(session, subject=subject, start=t0, end=t1)
    weights, grades = evaluation.scheme(session, subject=subject)
    chart = {
        "names": [r.name for r in rows[:30]],
        "scores": [r.score for r in rows[:30]],
        "closure": [r.rates["closure_rate"] for r in rows[:30]],
        "on_time": [r.rates["closed_on_time_rate"] for r in rows[:30]],
    }
    return templates(request).render(
        request,
        "cases/evaluation.html",
        {
            "rows": rows,
            "subject": subject,
            "subjects": SUBJECT_LABELS,
            "start": d0.isoformat(),
            "end": d1.isoformat(),
            "indicators": INDICATOR_LABELS,
            "weights": weights,
            "grades": grades,
            "chart": chart,
            "total": evaluation.rates_of(evaluation.totals(rows)),
        },
    )


@router.get("/cases/evaluation/export")
def evaluation_export(
    session: WriteSession, a: Evaluator, subject: str = "department", start: str | None = None, end: str | None = None
) -> Response:
    t0, t1, d0, d1 = _period(start, end)
    rows = evaluation.evaluate(session, subject=subject, start=t0, end=t1)
    names = list(evaluation.RATES)
    counters = list(evaluation.Counts.__dataclass_fields__)
    headers = ["subject", "key", "name", *names, "score", "grade", *counters]
    data = [
        [
            subject,
            r.key,
            r.name,
            *[r.rates[n] for n in names],
            r.score,
            r.grade,
            *[getattr(r.counts, c) for c in counters],
        ]
        for r in rows
    ]
    audit.record(
        session,
        actor=a.actor,
        action="case.evaluation.export",
        detail={"subject": subject, "start": d0.isoformat(), "end": d1.isoformat(), "rows": len(rows)},
    )
    return Response(
        to_xlsx(headers, data, "evaluation"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="evaluation-{subject}-{d0}-{d1}.xlsx"'},
    )
