"""The 盆景 index as an Excel workbook: modules, projects and the monthly trend (every cell neutralised by
``core.tabular``). Call it inside the reader's locale (``core.i18n.use_locale``)."""

from __future__ import annotations

import io

from openpyxl import Workbook

from countyos.core.i18n import N_, gettext
from countyos.core.tabular import append_row, header_sheet
from countyos.programme.service.index import Figures, IndexReport, Row


def yuan(fen: int) -> float:
    return round(fen / 100, 2)


def _flag_text(row: Row) -> str:
    if row.flag is None:
        return ""
    parts = [
        gettext(N_("%(what)s %(value)s (below %(limit)s)"), what=gettext(t.label), value=t.value, limit=t.limit)
        for t in row.flag.tripped
    ]
    return gettext(N_("盆景 risk")) + ": " + "; ".join(parts)


def _figures(f: Figures) -> list[object]:
    return [
        yuan(f.spend_fen), f.active_weekly, f.actions, f.views, f.api_calls, f.records, f.data_produced,
        f.data_shared,
    ]  # fmt: skip


def workbook(r: IndexReport) -> bytes:
    g = gettext
    figures_headers = [
        g(N_("Spend (yuan)")), g(N_("Active users a week")), g(N_("Actions")), g(N_("Page views")),
        g(N_("API calls")), g(N_("Records created")), g(N_("Data produced")), g(N_("Data shared")),
    ]  # fmt: skip
    wb = Workbook()
    ws = header_sheet(wb, g(N_("Modules")), [g(N_("Module")), g(N_("Budget (yuan)")), *figures_headers,
                                             g(N_("盆景 risk"))], first=True)  # fmt: skip
    for row in r.modules:
        append_row(ws, [g(row.label), yuan(row.total.budget_fen), *_figures(row.total), _flag_text(row)])
    ws = header_sheet(wb, g(N_("Projects")), [g(N_("Project")), g(N_("Budget (yuan)")), *figures_headers,
                                              g(N_("盆景 risk"))])  # fmt: skip
    for row in r.projects:
        append_row(ws, [row.label, yuan(row.total.budget_fen), *_figures(row.total), _flag_text(row)])
    ws = header_sheet(wb, g(N_("Monthly trend")), [g(N_("Module")), g(N_("Month")), *figures_headers])
    for row in r.modules:
        for month, f in zip(r.months, row.months, strict=True):
            append_row(ws, [g(row.label), month, *_figures(f)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
