"""``/village/tourism/holidays`` and ``/village/tourism/holidays/{code}``: the holiday report by day and
spot (visitors, peak in park, revenue where reported; homestays from their reports), as a page, an Excel
workbook (``core.tabular``) and a PDF (WeasyPrint, as the operations view's reports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from countyos.core import tabular
from countyos.core.clock import to_local, utcnow
from countyos.core.i18n import gettext, use_locale
from countyos.core.settings import get_settings
from countyos.village.pages.tourism_common import Reader, render
from countyos.village.service import tourism_holidays
from countyos.village.service.tourism_flow import local_day
from countyos.web.deps import ReadSession
from countyos.web.templating import templates

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9-]+$")]


@router.get("/village/tourism/holidays")
def holidays(request: Request, a: Reader) -> Response:
    return render(
        request,
        "village/tourism/holidays.html",
        {"rows": tourism_holidays.past_holidays(local_day(utcnow())), "report": None, "days": []},
    )


def _headers() -> list[str]:
    return [gettext(h) for h in ("Day", "Scenic spot", "Visitors", "Peak in park", "Peak time", "Revenue (yuan)")]


@router.get("/village/tourism/holidays/{code}.xlsx")
def holiday_xlsx(request: Request, code: Code, session: ReadSession, a: Reader) -> Response:
    rep = tourism_holidays.report(session, code=code)
    tz = get_settings().timezone
    with use_locale(getattr(request.state, "locale", "zh_CN")):
        rows = [
            [
                r.day.isoformat(),
                r.spot,
                r.visitors,
                r.peak,
                to_local(r.peak_at, tz).strftime("%H:%M") if r.peak_at else "",
                r.revenue,
            ]
            for r in rep.rows
        ]
        rows.append([gettext("Total"), "", rep.visitors, "", "", rep.spot_revenue])
        rows.append([gettext("Homestays (guests, revenue)"), "", rep.homestay_guests, "", "", rep.homestay_revenue])
        body = tabular.to_xlsx(_headers(), rows, sheet=rep.name)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="holiday-{rep.code}.xlsx"'},
    )


@router.get("/village/tourism/holidays/{code}.pdf")
def holiday_pdf(request: Request, code: Code, session: ReadSession, a: Reader) -> Response:
    from weasyprint import HTML  # imported here: it loads Pango, which only reports need

    rep = tourism_holidays.report(session, code=code)
    locale = getattr(request.state, "locale", "zh_CN")
    with use_locale(locale):
        html = (
            templates(request)
            .env.get_template("village/tourism/holiday_pdf.html")
            .render(
                report=rep,
                days=tourism_holidays.by_day(rep),
                county_name=get_settings().county_name,
                generated_at=utcnow(),
                locale=locale,
            )
        )
    pdf: bytes = HTML(string=html).write_pdf()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="holiday-{rep.code}.pdf"'},
    )


@router.get("/village/tourism/holidays/{code}")
def holiday(request: Request, code: Code, session: ReadSession, a: Reader) -> Response:
    rep = tourism_holidays.report(session, code=code)
    return render(
        request,
        "village/tourism/holidays.html",
        {
            "rows": tourism_holidays.past_holidays(local_day(utcnow())),
            "report": rep,
            "days": tourism_holidays.by_day(rep),
        },
    )
