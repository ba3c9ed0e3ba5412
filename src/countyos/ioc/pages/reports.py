"""Operations reports: the list, generation on demand, PDF and Excel downloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import XLSX_MEDIA_TYPE
from countyos.ioc.models import ReportKind
from countyos.ioc.service import reports
from countyos.org.service import audit
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Reporter = Annotated[Auth, Depends(require("ioc.report"))]


@router.get("/ioc/reports")
def report_list(request: Request, session: ReadSession, a: Reporter) -> Response:
    """Reports made on schedule (yesterday, last week, last month) and on demand."""
    return templates(request).render(
        request,
        "ioc/reports.html",
        {"reports": reports.list_reports(session), "kinds": reports.KIND_LABELS, "today": reports.local_today()},
    )


@router.post("/ioc/reports")
def report_generate(
    request: Request,
    session: WriteSession,
    a: Reporter,
    kind: Annotated[str, Form(max_length=10)],
    on: Annotated[str, Form(max_length=10)],
) -> Response:
    """Generate (or regenerate) the report of the day, week or month that contains ``on``."""
    try:
        k = ReportKind(kind)
        since, until = reports.period_of(k, date.fromisoformat(on))
    except ValueError:
        return redirect("/ioc/reports", translate(request, N_("Choose a kind and a date")), "error")
    try:
        row = reports.generate(session, actor=a.actor, kind=k, since=since, until=until, by=a.actor.name)
    except (CountyError, ValidationFailed) as exc:
        return redirect("/ioc/reports", translate(request, exc.message_id, **exc.params), "error")
    return redirect(f"/ioc/reports#r{row.id}", translate(request, N_("The report has been generated")))


@router.get("/ioc/reports/{report_id:int}.{fmt}")
def report_file(session: ReadSession, a: Reporter, report_id: int, fmt: str) -> Response:
    """The report as PDF or Excel."""
    row = reports.get(session, report_id=report_id)
    name = f"ioc-{row.kind}-{row.since.isoformat()}"
    if fmt == "pdf":
        return Response(
            row.pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}.pdf"'}
        )
    if fmt == "xlsx":
        return Response(
            row.xlsx, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'}
        )
    raise ValidationFailed(N_("Choose pdf or xlsx"))


audit.name_codes(
    actions={"ioc.report.generate": N_("Operations report generated")},
    targets={"ioc_report": N_("Operations report")},
)
