"""Operations reports (运行日报 / 周报 / 月报): key indicators against the previous period, cases per day,
top categories and hot spots, overdue and reworked cases, department grades — as PDF and Excel.

Every figure is one of the view's indicators (``indicators.py``) or one of its grouped counts, for the
report's period; the lists are the records of those indicators. Generated on schedule (``jobs.py``:
yesterday, last week, last month, once each) and on demand; stored in ``ioc_report``.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from countyos.cases.service import ioc_queries as cases_q
from countyos.core import i18n
from countyos.core.actor import Actor
from countyos.core.clock import to_local, utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.printing import document_env
from countyos.core.settings import get_settings
from countyos.core.tabular import append_row
from countyos.ioc.models import Report, ReportKind
from countyos.ioc.service import indicators as ind
from countyos.ioc.service import places, records, trends
from countyos.ioc.service.scope import Narrow, Scope, today, tz
from countyos.org.service import audit

KIND_LABELS = {ReportKind.DAILY: N_("Daily operations report"), ReportKind.WEEKLY: N_("Weekly operations report"),
               ReportKind.MONTHLY: N_("Monthly operations report")}  # fmt: skip
SCHEDULE = Actor(id=None, name="schedule", permissions=frozenset({"case.read_all"}))
FLOW = ("cases_period", "closure_rate", "on_time_rate", "satisfaction", "rework_rate")
STOCK = ("open", "overdue", "urgent", "alarms_active", "devices_online")
LIST_LIMIT = 30
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def period_of(kind: ReportKind, on: date) -> tuple[date, date]:
    """The day, week (Monday–Sunday) or month that contains ``on``."""
    if kind is ReportKind.DAILY:
        return on, on
    if kind is ReportKind.WEEKLY:
        start = on - timedelta(days=on.weekday())
        return start, start + timedelta(days=6)
    start = on.replace(day=1)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start, nxt - timedelta(days=1)


def last_complete(kind: ReportKind, now: datetime | None = None) -> tuple[date, date]:
    """The latest day, week or month that has ended."""
    d = today(now)
    if kind is ReportKind.DAILY:
        return period_of(kind, d - timedelta(days=1))
    if kind is ReportKind.WEEKLY:
        return period_of(kind, d - timedelta(days=d.weekday() + 1))
    return period_of(kind, d.replace(day=1) - timedelta(days=1))


@dataclass
class Row:
    label: str
    value: str
    previous: str = ""
    change: str = ""
    url: str = ""
    worse: bool = False


@dataclass
class ReportData:
    kind: ReportKind
    scope: Scope
    previous: Scope
    generated_at: datetime
    county: str
    indicators: list[Row] = field(default_factory=list)
    stock: list[Row] = field(default_factory=list)
    days: list[tuple[str, int]] = field(default_factory=list)
    categories: list[tuple[str, int, int]] = field(default_factory=list)  # name, count, previous count
    townships: list[tuple[str, int]] = field(default_factory=list)
    grids: list[tuple[str, int]] = field(default_factory=list)
    overdue: list[records.Record] = field(default_factory=list)
    overdue_total: int = 0
    reworked: list[records.Record] = field(default_factory=list)
    reworked_total: int = 0
    departments: list[trends.Ranked] = field(default_factory=list)
    alarms: list[tuple[str, int]] = field(default_factory=list)  # severity label, raised in the period
    state: dict[str, dict[str, Any]] = field(default_factory=dict)  # stock code → count, whole, rate
    previous_state_at: datetime | None = None  # when the previous period's report recorded its state

    def summary(self) -> dict[str, Any]:
        """What the stored report keeps besides its files: the figures as shown, and the state figures
        as numbers with their time, which the next period's report compares itself with."""
        return {
            "figures": {r.label: r.value for r in self.indicators + self.stock},
            "state": self.state,
            "state_at": self.generated_at.isoformat(),
        }


def _fmt(v: ind.Value) -> str:
    if v.indicator.whole:
        return "—" if v.rate is None else f"{v.rate:.1f}%"
    return str(v.count)


def _change(now: ind.Value, before: ind.Value) -> tuple[str, bool]:
    a, b = now.value, before.value
    if a is None or b is None:
        return "", False
    d = a - b
    worse = (d > 0) == now.indicator.negative and d != 0
    if now.indicator.whole:
        return f"{d:+.1f} pt", worse
    return (f"{d:+.0f}" + (f" ({100 * d / b:+.0f}%)" if b else "")), worse


def build(session: Session, *, kind: ReportKind, since: date, until: date, actor: Actor = SCHEDULE) -> ReportData:
    now = utcnow()
    scope = Scope("custom", since, until)
    prev = scope.previous()
    data = ReportData(kind, scope, prev, now, get_settings().county_name)
    for code in FLOW:
        i = ind.get(code)
        v = ind.evaluate(session, actor=actor, ind=i, scope=scope, now=now)
        p = ind.evaluate(session, actor=actor, ind=i, scope=prev, now=now)
        change, worse = _change(v, p)
        data.indicators.append(Row(i.label, _fmt(v), _fmt(p), change, v.url, worse))
    # State figures (open, overdue…) are the state now; nothing keeps past states but the reports
    # themselves, so the comparison is with the state the previous period's report recorded.
    before, data.previous_state_at = previous_state(session, kind=kind, since=prev.since)
    for code in STOCK:
        i = ind.get(code)
        v = ind.evaluate(session, actor=actor, ind=i, scope=scope, now=now)
        data.state[code] = {"count": v.count, "whole": v.whole, "rate": v.rate}
        row = Row(i.label, _fmt(v), url=v.url)
        if code in before:
            b = before[code]
            p = ind.Value(i, int(b["count"]), b.get("whole"), b.get("rate"))
            row.previous = _fmt(p)
            row.change, row.worse = _change(v, p)
        data.stock.append(row)
    ct = trends.cases_by_day(session, actor=actor, scope=scope, now=now)
    totals = [sum(s.data[k] for s in ct.series) for k in range(len(ct.days))]
    data.days = [(d.isoformat(), n) for d, n in zip(ct.days, totals, strict=True)]
    slice_now = ind.case_slice(session, scope, Narrow())
    slice_prev = ind.case_slice(session, prev, Narrow())

    def by(key: str, s: cases_q.CaseSlice) -> dict[Any, int]:
        raw = cases_q.count_by(session, actor=actor, measure="reported", s=s, now=now, by=(key,), tz=tz())
        return {k[0]: n for k, n in raw.items() if k[0]}

    cats, cats_prev = by("category", slice_now), by("category", slice_prev)
    names = cases_q.category_names(session, set(cats))
    data.categories = [
        (names.get(c, str(c)), n, cats_prev.get(c, 0)) for c, n in sorted(cats.items(), key=lambda kv: -kv[1])[:10]
    ]
    town_names = dict(places.townships(session))
    data.townships = [
        (town_names.get(t, t), n) for t, n in sorted(by("township", slice_now).items(), key=lambda kv: -kv[1])[:10]
    ]
    data.grids = sorted(by("grid", slice_now).items(), key=lambda kv: -kv[1])[:10]
    for measure, target in (("overdue", "overdue"), ("reworked", "reworked")):
        kw: dict[str, Any] = dict(actor=actor, source="cases", measure=measure, scope=scope, now=now)
        rows = ind.records(session, **kw, limit=LIST_LIMIT)
        setattr(data, target, records.to_records(session, "cases", rows, now))
        setattr(data, target + "_total", ind.count(session, **kw))
    data.departments = trends.ranking(session, actor=actor, subject="department", scope=scope, now=now)
    for sev in ("critical", "major", "minor", "warning"):
        n = ind.count(session, actor=actor, source="alarms", measure="raised", scope=scope, now=now)
        if sev == "critical":
            data.alarms.append((N_("All alarms raised"), n))
        m = ind.count(session, actor=actor, source="alarms", measure=f"active_{sev}", scope=scope, now=now)
        data.alarms.append((ind.MEASURE_LABELS[f"alarms.active_{sev}"], m))
    return data


def previous_state(session: Session, *, kind: ReportKind, since: date) -> tuple[dict[str, Any], datetime | None]:
    """The state figures the report of the period starting ``since`` recorded, and when (none when
    that report was never made, or was made before reports recorded them)."""
    row = session.scalar(
        select(Report).options(defer(Report.pdf), defer(Report.xlsx)).where(Report.kind == kind, Report.since == since)
    )
    if row is None or not isinstance(row.summary.get("state"), dict):
        return {}, None
    return row.summary["state"], datetime.fromisoformat(row.summary["state_at"])


# --- rendering ---------------------------------------------------------------------------------


def _env() -> Environment:
    return document_env(TEMPLATES, dt=lambda v, fmt="%Y-%m-%d %H:%M": to_local(v, tz()).strftime(fmt) if v else "")


def bar_svg(points: list[tuple[str, int]], *, width: int = 680, height: int = 180, color: str = "#0b5cad") -> str:
    """A plain SVG bar chart (the PDF has no JavaScript): one bar per point, labels thinned out.
    Labels (category names, which anyone with the category editor types) are escaped."""
    if not points:
        return ""
    top = max(1, max(n for _, n in points))
    left, bottom, pad = 36, 22, 6
    w = (width - left - pad) / len(points)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="9" '
             f'font-family="Noto Sans CJK SC">']  # fmt: skip
    for k in range(5):
        y = pad + (height - bottom - pad) * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - pad}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#6b7280">{round(top * (4 - k) / 4)}</text>'
        )
    step = max(1, len(points) // 12)
    for i, (text, n) in enumerate(points):
        label = html.escape(text)
        h = (height - bottom - pad) * n / top
        x = left + i * w
        bar = f'x="{x + w * 0.15:.1f}" y="{height - bottom - h:.1f}" width="{w * 0.7:.1f}" height="{h:.1f}"'
        parts.append(f'<rect {bar} fill="{color}"/>')
        if i % step == 0:
            parts.append(
                f'<text x="{x + w / 2:.1f}" y="{height - 8}" text-anchor="middle" fill="#374151">{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


STATE_NOTE = N_(
    "Open, overdue, urgent, alarms and devices: the state when this report was made (%(at)s), against the "
    "state the previous period's report recorded (%(before)s)."
)
STATE_NOTE_FIRST = N_(
    "Open, overdue, urgent, alarms and devices: the state when this report was made (%(at)s); the previous "
    "period's report recorded none to compare with."
)


def state_note(data: ReportData) -> str:
    """How the state figures were compared (in the current locale)."""

    def local(at: datetime) -> str:
        return to_local(at, tz()).strftime("%Y-%m-%d %H:%M")

    if data.previous_state_at is None:
        return i18n.gettext(STATE_NOTE_FIRST) % {"at": local(data.generated_at)}
    return i18n.gettext(STATE_NOTE) % {"at": local(data.generated_at), "before": local(data.previous_state_at)}


def render_html(data: ReportData, locale: str = "zh_CN") -> str:
    chart = bar_svg([(d[5:], n) for d, n in data.days]) if len(data.days) > 1 else ""
    cat_chart = bar_svg([(name[:6], n) for name, n, _ in data.categories], color="#0d9488")
    with i18n.use_locale(locale):
        return (
            _env()
            .get_template("ioc/report.html")
            .render(
                data=data,
                title=KIND_LABELS[data.kind],
                chart=chart,
                cat_chart=cat_chart,
                locale=locale,
                state_note=state_note(data),
            )
        )


def render_pdf(data: ReportData, locale: str = "zh_CN") -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only reports need

    out: bytes = HTML(string=render_html(data, locale), base_url=str(TEMPLATES)).write_pdf()
    return out


_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_PERCENT = re.compile(r"^(-?\d+(?:\.\d+)?)%$")


def _figures_as_numbers(ws: Any, *, first_row: int, columns: tuple[int, ...]) -> None:
    """The indicators' figures are formatted text ("12", "85.9%"); Excel gets them as numbers
    (12, 0.859 shown as 85.9%) so they can be summed and charted. Other text ("—") stays text."""
    for row in ws.iter_rows(min_row=first_row):
        for c in (row[i] for i in columns if i < len(row)):
            v = c.value
            if not isinstance(v, str):
                continue
            if _INTEGER.match(v):
                c.value = int(v)
            elif _DECIMAL.match(v):
                c.value = float(v)
            elif m := _PERCENT.match(v):
                c.value = float(m.group(1)) / 100
                c.number_format = "0.0%"


def render_xlsx(data: ReportData, locale: str = "zh_CN") -> bytes:
    g = i18n.gettext
    with i18n.use_locale(locale):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = g("Indicators")[:31]
        # Every cell through tabular.append_row: names and titles are text, never formulas.
        append_row(ws, [g(KIND_LABELS[data.kind]), f"{data.scope.since} – {data.scope.until}", data.county])
        append_row(ws, [g("Indicator"), g("This period"), g("Previous period"), g("Change")])
        for r in data.indicators:
            append_row(ws, [g(r.label), r.value, r.previous, r.change])
        for r in data.stock:
            append_row(ws, [g(r.label), r.value, r.previous, r.change])
        append_row(ws, [])
        append_row(ws, [state_note(data)])
        for c in ws[2]:
            c.font = Font(bold=True)
        _figures_as_numbers(ws, first_row=3, columns=(1, 2))

        def sheet(title: str, headers: list[str], rows: list[list[Any]]) -> Any:
            s = wb.create_sheet(g(title)[:31])
            append_row(s, [g(h) for h in headers])
            for c in s[1]:
                c.font = Font(bold=True)
            for row in rows:
                append_row(s, row)
            return s

        days = sheet(N_("Cases per day"), [N_("Day"), N_("Cases reported")], [[d, n] for d, n in data.days])
        if data.days:
            chart = BarChart()
            chart.title = g("Cases per day")
            chart.add_data(Reference(days, min_col=2, min_row=1, max_row=len(data.days) + 1), titles_from_data=True)
            chart.set_categories(Reference(days, min_col=1, min_row=2, max_row=len(data.days) + 1))
            days.add_chart(chart, "D2")
        sheet(N_("Top categories"), [N_("Category"), N_("This period"), N_("Previous period")],
              [list(c) for c in data.categories])  # fmt: skip
        sheet(N_("Hot spots"), [N_("Township"), N_("Cases reported")], [list(t) for t in data.townships])
        sheet(N_("Hot grids"), [N_("Grid"), N_("Cases reported")], [list(t) for t in data.grids])
        heads = [
            N_("Reference"),
            N_("Title"),
            N_("Place"),
            N_("Kind"),
            N_("Status"),
            N_("Time"),
            N_("Deadline"),
            N_("Responsible"),
        ]

        def case_rows(rs: list[records.Record]) -> list[list[Any]]:
            return [
                [r.ref, r.title, r.place, r.kind, g(r.status), _naive(r.at), _naive(r.deadline), r.owner] for r in rs
            ]

        sheet(N_("Overdue cases"), heads, case_rows(data.overdue))
        sheet(N_("Reworked cases"), heads, case_rows(data.reworked))
        grade_heads = [N_("Department"), N_("Reported"), N_("Closure rate"), N_("On-time closure rate")]
        grade_heads += [N_("Satisfaction"), N_("Score"), N_("Grade")]
        sheet(
            N_("Department grades"),
            grade_heads,
            [
                [d.name, d.reported, d.closure_rate, d.on_time_rate, d.satisfaction_rate, d.score, d.grade]
                for d in data.departments
            ],
        )
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()


def _naive(v: datetime | None) -> datetime | None:
    return to_local(v, tz()).replace(tzinfo=None) if v else None


# --- storing -----------------------------------------------------------------------------------


def generate(
    session: Session, *, actor: Actor, kind: ReportKind, since: date, until: date, by: str, locale: str = "zh_CN"
) -> Report:
    """Build, render and store the report of a period (replacing an earlier one of the same period)."""
    if until < since or (until - since).days > 31:
        raise ValidationFailed(N_("A report covers one day, week or month"))
    data = build(session, kind=kind, since=since, until=until, actor=actor)
    pdf, xlsx = render_pdf(data, locale), render_xlsx(data, locale)
    row = session.scalar(select(Report).where(Report.kind == kind, Report.since == since))
    if row is None:
        row = Report(kind=kind, since=since, until=until)
        session.add(row)
    row.until, row.locale, row.generated_at, row.generated_by = until, locale, utcnow(), by
    row.summary = data.summary()
    row.pdf, row.xlsx = pdf, xlsx
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ioc.report.generate",
        target_type="ioc_report",
        target_id=row.id,
        detail={"kind": str(kind), "since": since.isoformat(), "until": until.isoformat(), "by": by},
    )
    return row


def ensure_scheduled(session: Session, *, now: datetime | None = None) -> list[Report]:
    """The reports of yesterday, last week and last month, each made once (safe on several workers:
    the unique (kind, since) row decides who made it)."""
    made = []
    for kind in ReportKind:
        since, until = last_complete(kind, now)
        if session.scalar(select(Report.id).where(Report.kind == kind, Report.since == since)) is not None:
            continue
        try:
            with session.begin_nested():
                made.append(generate(session, actor=SCHEDULE, kind=kind, since=since, until=until, by="schedule"))
        except IntegrityError:
            continue  # another worker made it
    return made


def list_reports(session: Session, *, limit: int = 100) -> list[Report]:
    stmt = select(Report).options(defer(Report.pdf), defer(Report.xlsx))
    return list(session.scalars(stmt.order_by(Report.since.desc(), Report.kind).limit(limit)))


def get(session: Session, *, report_id: int) -> Report:
    row = session.get(Report, report_id)
    if row is None:
        raise NotFound(N_("Report %(id)s does not exist"), id=report_id)
    return row


def local_today() -> date:
    return to_local(utcnow(), tz()).date()
