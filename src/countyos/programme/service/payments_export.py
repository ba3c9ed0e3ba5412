"""The assessment and payment table as PDF (WeasyPrint, the vendored CJK font) and Excel (every cell through
``core.tabular``): the contract and its party, each period with its KPI scores (value, target, weight,
score), the formula in words, the totals, and who approved and locked."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from countyos.core import i18n
from countyos.core.actor import Actor
from countyos.core.clock import to_local
from countyos.core.i18n import N_
from countyos.core.printing import document_env
from countyos.core.settings import get_settings
from countyos.core.tabular import append_row
from countyos.programme.models.projects import AssessmentPeriod
from countyos.programme.service import kpis_assess, kpis_catalogue, kpis_lifecycle, payments, payments_table

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def local_text(at: datetime | None) -> str:
    return to_local(at, get_settings().timezone).strftime("%Y-%m-%d %H:%M") if at else ""


def kpi_label(code: str) -> str:
    """A KPI's name (message id) from the catalogue; the code when it is not catalogued."""
    k = kpis_catalogue.BY_CODE.get(code)
    return k.label if k else code


def period_text(start: date, end: date) -> str:
    """A period as people read it (the assessment pages' words: 2026年3月, 2026年第1季度)."""
    kind = AssessmentPeriod.QUARTER if (end - start).days > 40 else AssessmentPeriod.MONTH
    return kpis_assess.period_label(kind, start)


def report_data(session: Session, *, actor: Actor, contract_id: int | None, year: int | None) -> dict[str, Any]:
    """What both exports show (message ids kept as such: the renderers translate)."""
    t = payments_table.table(session, actor=actor, contract_id=contract_id, year=year)
    by_assessment = payments_table.scores(session, assessment_ids=[r.assessment.id for r in t.rows])
    rows = [
        {
            "contract": r.contract,
            "party": r.party,
            "a": r.assessment,
            "approved_by": r.approved_by,
            "locked_by": r.locked_by,
            "amendments": r.amendments,
            "scores": [
                {
                    "kpi": kpi_label(k.kpi),
                    "value": s.value,
                    "target": k.target if s.target is None else s.target,
                    "weight": k.weight if s.weight is None else s.weight,
                    "score": s.score,
                }
                for s, k in by_assessment.get(r.assessment.id, [])
            ],
        }
        for r in t.rows
    ]
    contracts = {r.contract.id: r.contract for r in t.rows}
    if t.contract is not None:
        contracts.setdefault(t.contract.id, t.contract)
    name = f"payments-{t.contract.code}" if t.contract is not None else f"payments-{year}"
    return {
        "contract": t.contract,
        "party": t.party,
        "year": year,
        "rows": rows,
        "sums": t.sums,
        "contracts": list(contracts.values()),
        "filename": "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name),
        "truncated": t.truncated,
    }


def _words(data: dict[str, Any]) -> dict[int, list[str]]:
    return {c.id: payments_table.formula_words(payments.formula_of(c)) for c in data["contracts"]}


def _env() -> Environment:
    return document_env(TEMPLATES, yuan=payments.yuan, dt=local_text)


def render_html(data: dict[str, Any], locale: str = "zh_CN") -> str:
    with i18n.use_locale(locale):
        return (
            _env()
            .get_template("programme/payments/report_pdf.html")
            .render(
                data=data,
                words=_words(data),
                states=kpis_lifecycle.STATE_LABELS,
                period=period_text,
                locale=locale,
            )
        )


def render_pdf(data: dict[str, Any], locale: str = "zh_CN") -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only reports need

    out: bytes = HTML(string=render_html(data, locale), base_url=str(TEMPLATES)).write_pdf()
    return out


def _bold(ws: Any) -> None:
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)


def render_xlsx(data: dict[str, Any], locale: str = "zh_CN") -> bytes:
    g = i18n.gettext
    with i18n.use_locale(locale):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = g(N_("Payment table"))[:31]
        title = g(N_("Assessment and payment table"))
        if data["contract"] is not None:
            c = data["contract"]
            append_row(ws, [title, c.code, c.title, data["party"]])
        else:
            append_row(ws, [title, str(data["year"])])
        _bold(ws)
        words = _words(data)
        for c in data["contracts"]:
            append_row(ws, [g(N_("Payment formula")), c.code, *words[c.id]])
        append_row(ws, [])
        append_row(
            ws,
            [
                g(N_("Contract")),
                g(N_("Party")),
                g(N_("Assessment period")),
                g(N_("Total score")),
                g(N_("Base (yuan)")),
                g(N_("Deduction (yuan)")),
                g(N_("Bonus (yuan)")),
                g(N_("Payable (yuan)")),
                g(N_("State of the assessment")),
                g(N_("Approved by")),
                g(N_("Approved at")),
                g(N_("Locked by")),
                g(N_("Locked at")),
                g(N_("Amendments")),
            ],
        )
        _bold(ws)
        for r in data["rows"]:
            a = r["a"]
            append_row(
                ws,
                [
                    r["contract"].code,
                    r["party"],
                    period_text(a.period_start, a.period_end),
                    a.total_score,
                    a.base_fen / 100,
                    a.deduction_fen / 100,
                    a.bonus_fen / 100,
                    a.payable_fen / 100,
                    g(kpis_lifecycle.STATE_LABELS[a.state]),
                    r["approved_by"],
                    local_text(a.approved_at),
                    r["locked_by"],
                    local_text(a.locked_at),
                    r["amendments"],
                ],
            )
        s = data["sums"]
        append_row(
            ws,
            [
                g(N_("Total of the periods")),
                "",
                "",
                "",
                s["base_fen"] / 100,
                s["deduction_fen"] / 100,
                s["bonus_fen"] / 100,
                s["payable_fen"] / 100,
            ],
        )
        _bold(ws)
        ks = wb.create_sheet(g(N_("KPI scores"))[:31])
        append_row(
            ks,
            [
                g(N_("Contract")),
                g(N_("Assessment period")),
                g(N_("KPI")),
                g(N_("KPI value")),
                g(N_("KPI target")),
                g(N_("KPI weight")),
                g(N_("KPI score")),
            ],
        )
        _bold(ks)
        for r in data["rows"]:
            a = r["a"]
            for sc in r["scores"]:
                append_row(
                    ks,
                    [
                        r["contract"].code,
                        period_text(a.period_start, a.period_end),
                        g(sc["kpi"]),
                        sc["value"],
                        sc["target"],
                        sc["weight"],
                        sc["score"],
                    ],
                )
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
