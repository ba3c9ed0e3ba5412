"""A GEP report's outputs: charts as server-side SVG (the page and the PDF alike), the PDF (WeasyPrint)
and the workbook (every cell through ``core.tabular``), all from ``gep.summary`` so they show the same
figures."""

from __future__ import annotations

import html
import io
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from countyos.core import i18n
from countyos.core.clock import to_local
from countyos.core.i18n import N_
from countyos.core.printing import document_env
from countyos.core.settings import get_settings
from countyos.core.tabular import append_row
from countyos.eco.models.gep import GepInput, GepRun
from countyos.eco.service import gep, gep_inputs
from countyos.eco.service.gep_formulas import CATEGORY_LABELS, ITEMS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ITEM_LABELS = {i.code: i.label for i in ITEMS}
CATEGORY_COLORS = {"material": "#d97706", "regulating": "#0d9488", "cultural": "#7c3aed"}
STATUS_LABELS = {"computed": N_("Computed"), "missing": N_("Inputs missing"), "off": N_("Not counted")}
YI = 1e8  # 亿元


def local(at: datetime) -> datetime:
    return to_local(at, get_settings().timezone)


def yi(value: float | None) -> str:
    """元 as 亿元 with two decimals."""
    return "—" if value is None else f"{value / YI:,.2f}"


def bar_svg(points: list[tuple[str, float, str]], *, width: int = 680, row: int = 20) -> str:
    """Horizontal bars, one per item (label, value in 元, colour); labels escaped."""
    if not points:
        return ""
    top = max([v for _, v, _ in points] + [1.0])
    left, pad = 190, 70
    height = row * len(points) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'font-size="11" font-family="Noto Sans CJK SC, sans-serif" role="img">'
    ]
    for i, (label, value, color) in enumerate(points):
        y = 4 + i * row
        w = (width - left - pad) * max(value, 0.0) / top
        parts.append(
            f'<text x="{left - 6}" y="{y + row * 0.65:.1f}" text-anchor="end" fill="#374151">'
            f"{html.escape(label)}</text>"
        )
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + row * 0.65:.1f}" fill="#374151">{value / YI:,.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def pie_svg(parts_in: list[tuple[str, float, str]], *, size: int = 220) -> str:
    """A pie of the three classes with a legend (shares of the total)."""
    total = sum(max(v, 0.0) for _, v, _ in parts_in)
    if total <= 0:
        return ""
    r, cx, cy = size / 2 - 10, size / 2, size / 2
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size + 200} {size}" '
        f'width="{size + 200}" height="{size}" '
        f'font-size="12" font-family="Noto Sans CJK SC, sans-serif" role="img">'
    ]
    angle = -math.pi / 2
    for i, (label, value, color) in enumerate(parts_in):
        share = max(value, 0.0) / total
        if share >= 0.9999:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{color}"/>')
        elif share > 0:
            end = angle + share * 2 * math.pi
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
            large = 1 if share > 0.5 else 0
            out.append(
                f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z" fill="{color}"/>'
            )
            angle = end
        y = 30 + i * 24
        out.append(f'<rect x="{size + 10}" y="{y - 11}" width="14" height="14" fill="{color}"/>')
        out.append(f'<text x="{size + 30}" y="{y}" fill="#374151">{html.escape(label)} {share * 100:.1f}%</text>')
    out.append("</svg>")
    return "".join(out)


def charts(data: dict[str, Any]) -> dict[str, str]:
    """The bar of items and the pie of classes, labels in the current locale."""
    g = i18n.gettext
    bars = [
        (g(ITEM_LABELS[i["item"]]), i["value"], CATEGORY_COLORS[i["category"]])
        for i in data["items"]
        if i["status"] == "computed"
    ]
    pie = [(g(CATEGORY_LABELS[c]), data["totals"][str(c)], CATEGORY_COLORS[str(c)]) for c in CATEGORY_LABELS]
    return {"bar": bar_svg(bars), "pie": pie_svg(pie)}


def report_data(session: Session, *, run: GepRun) -> dict[str, Any]:
    """The summary with the input rows each item read (for the trace) and the county's name."""
    from countyos.geo.service import divisions

    data = gep.summary(session, run=run)
    used: set[int] = set(run.input_ids)
    for r in run.results:
        used |= set(r.input_ids)
    data["inputs"] = gep_inputs.by_ids(session, sorted(used))
    county = divisions.the_county(session)
    data["county"] = county.name if county else ""
    return data


def _env() -> Environment:
    return document_env(TEMPLATES, yi=yi, dt=lambda v: local(v).strftime("%Y-%m-%d %H:%M") if v else "")


def labels() -> dict[str, Any]:
    return {
        "item_labels": ITEM_LABELS,
        "category_labels": {str(k): v for k, v in CATEGORY_LABELS.items()},
        "status_labels": STATUS_LABELS,
        "class_labels": gep_inputs.CLASSES,
        "input_labels": {k: s.label for k, s in gep_inputs.CATALOGUE.items()},
        "source_labels": {str(k): v for k, v in gep_inputs.SOURCE_LABELS.items()},
    }


def render_html(data: dict[str, Any], locale: str = "zh_CN") -> str:
    with i18n.use_locale(locale):
        return (
            _env()
            .get_template("eco/gep/report_pdf.html")
            .render(data=data, charts=charts(data), locale=locale, **labels())
        )


def render_pdf(data: dict[str, Any], locale: str = "zh_CN") -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only reports need

    out: bytes = HTML(string=render_html(data, locale), base_url=str(TEMPLATES)).write_pdf()
    return out


def _input_row(r: GepInput) -> list[Any]:
    g = i18n.gettext
    spec = gep_inputs.CATALOGUE.get(r.code)
    return [
        r.id,
        r.code,
        g(spec.label) if spec else r.code,
        r.class_code,
        r.value,
        r.unit,
        g(gep_inputs.SOURCE_LABELS[r.source]),
        r.source_ref,
        r.version,
        r.entered_by,
        local(r.entered_at).replace(tzinfo=None),
    ]


def render_xlsx(data: dict[str, Any], locale: str = "zh_CN") -> bytes:
    g = i18n.gettext
    with i18n.use_locale(locale):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = g(N_("GEP"))[:31]
        append_row(
            ws,
            [
                f"{data['county']} {data['year']} {g('Gross ecosystem product (GEP)')}",
                f"{g('Version')} {data['version']}",
                f"{g('Parameters')} {data['parameter_version']}",
            ],
        )
        append_row(ws, [g(N_("Figure")), g(N_("Value (yuan)")), g(N_("Value (100 million yuan)")), g(N_("Share"))])
        for c in ws[2]:
            c.font = Font(bold=True)
        for key in ("material", "regulating", "cultural"):
            v = data["totals"][key]
            append_row(ws, [g(CATEGORY_LABELS[key]), v, round(v / YI, 4), data["shares"][key] / 100])  # type: ignore[index]
        append_row(ws, [g(N_("GEP")), data["totals"]["gep"], round(data["totals"]["gep"] / YI, 4), 1.0])
        append_row(ws, [g(N_("GDP")), data["gdp"], round(data["gdp"] / YI, 4) if data["gdp"] else None, None])
        append_row(ws, [g(N_("GEP/GDP")), data["gep_to_gdp"], None, None])
        prev = data["previous"]
        append_row(ws, [g(N_("GEP of the previous year")), prev["gep"] if prev else None, None, None])
        append_row(
            ws,
            [
                g(N_("Change on the previous year")),
                data["change"]["absolute"],
                None,
                data["change"]["percent"] / 100 if data["change"]["percent"] is not None else None,
            ],
        )
        for row in ws.iter_rows(min_row=3, max_row=6, min_col=4, max_col=4):
            for c in row:
                c.number_format = "0.00%"

        items = wb.create_sheet(g(N_("Items"))[:31])
        append_row(
            items,
            [
                g(N_("Class")),
                g(N_("Item")),
                g(N_("Status")),
                g(N_("Physical quantity")),
                g(N_("Unit")),
                g(N_("Value (yuan)")),
                g(N_("Value (100 million yuan)")),
                g(N_("Formula")),
                g(N_("Parameters")),
                g(N_("Input records")),
                g(N_("Note")),
            ],
        )
        for c in items[1]:
            c.font = Font(bold=True)
        for i in data["items"]:
            params = "; ".join(
                f"{k}={v.get('used', v.get('value', v.get('by_class', v.get('list'))))} {v.get('unit') or ''}"
                f" ({v.get('version')})"
                for k, v in i["parameters"].items()
            )
            append_row(
                items,
                [
                    g(CATEGORY_LABELS[i["category"]]),
                    g(ITEM_LABELS[i["item"]]),
                    g(STATUS_LABELS[i["status"]]),
                    i["quantity"],
                    i["unit"],
                    i["value"],
                    round(i["value"] / YI, 4),
                    i["formula"],
                    params,
                    ", ".join(str(n) for n in i["input_ids"]),
                    i["note"] or "",
                ],
            )

        inputs = wb.create_sheet(g(N_("Inputs"))[:31])
        append_row(
            inputs,
            [
                g(N_("Record")),
                g(N_("Code")),
                g(N_("Input")),
                g(N_("Ecosystem class")),
                g(N_("Value")),
                g(N_("Unit")),
                g(N_("Source")),
                g(N_("Source reference")),
                g(N_("Version")),
                g(N_("Entered by")),
                g(N_("Entered at")),
            ],
        )
        for c in inputs[1]:
            c.font = Font(bold=True)
        for r in data["inputs"].values():
            append_row(inputs, _input_row(r))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
