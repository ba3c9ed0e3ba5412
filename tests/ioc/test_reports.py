"""Operations reports: the figures are the view's indicators, the PDF renders Chinese pages that are
not blank, the Excel holds the same numbers, the schedule makes each report once."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from PIL import Image, ImageStat

from countyos.cases.models import Case
from countyos.ioc.models import ReportKind
from countyos.ioc.service import indicators as ind
from countyos.ioc.service import reports
from countyos.ioc.service.scope import Scope
from tests.factories import csrf_from, login, person
from tests.ioc.conftest import NOW


def test_periods():
    assert reports.period_of(ReportKind.WEEKLY, date(2026, 3, 18)) == (date(2026, 3, 16), date(2026, 3, 22))
    assert reports.period_of(ReportKind.MONTHLY, date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert reports.last_complete(ReportKind.DAILY, NOW) == (date(2026, 3, 17), date(2026, 3, 17))
    assert reports.last_complete(ReportKind.WEEKLY, NOW) == (date(2026, 3, 9), date(2026, 3, 15))
    assert reports.last_complete(ReportKind.MONTHLY, NOW) == (date(2026, 2, 1), date(2026, 2, 28))


def pdf_pages(pdf: bytes, tmp_path) -> list[Image.Image]:
    assert shutil.which("pdftoppm"), "pdftoppm (apt poppler-utils) is needed"
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob("page*.png"))]


@time_machine.travel(NOW, tick=False)
def test_weekly_report_pdf_and_excel_hold_the_indicators(db, history, tmp_path):
    since, until = reports.last_complete(ReportKind.WEEKLY, NOW)
    with db.unit_of_work() as s:
        data = reports.build(s, kind=ReportKind.WEEKLY, since=since, until=until)
        expected = {
            code: ind.evaluate(
                s, actor=reports.SCHEDULE, ind=ind.get(code), scope=Scope("custom", since, until), now=NOW
            )
            for code in ("cases_period", "closure_rate")
        }
        row = reports.generate(s, actor=reports.SCHEDULE, kind=ReportKind.WEEKLY, since=since, until=until, by="test")
        pdf, xlsx = row.pdf, row.xlsx
    assert data.indicators[0].value == str(expected["cases_period"].count) and expected["cases_period"].count > 0
    assert sum(n for _, n in data.days) == expected["cases_period"].count
    assert data.departments and data.categories
    pages = pdf_pages(pdf, tmp_path)
    assert pages
    if os.environ.get("COUNTYOS_KEEP_REPORT_PAGES"):
        for i, page in enumerate(pages):
            page.save(f"{os.environ['COUNTYOS_KEEP_REPORT_PAGES']}/report-page-{i + 1}.png")
    for page in pages:
        body = page.crop((0, 0, page.width, int(page.height * 0.9)))  # above the page number
        ink = sum(1 for v in body.getdata() if v < 160)
        assert ink > 40, "a blank page"  # text and tables, not an empty sheet
    assert ImageStat.Stat(pages[0]).stddev[0] > 10  # the first page is full of them
    wb = load_workbook(io.BytesIO(xlsx))
    sheet = wb.worksheets[0]
    values = {r[0].value: r[1].value for r in sheet.iter_rows(min_row=3) if r[0].value}
    assert values["期间上报"] == expected["cases_period"].count  # a number, not text
    closure = expected["closure_rate"].rate
    assert values["结案率"] == ("—" if closure is None else pytest.approx(float(f"{closure:.1f}") / 100))
    if closure is not None:
        cell = next(r[1] for r in sheet.iter_rows(min_row=3) if r[0].value == "结案率")
        assert cell.number_format == "0.0%"
    assert len(wb.worksheets) >= 7
    days = wb.worksheets[1]
    assert sum(r[1].value for r in days.iter_rows(min_row=2)) == expected["cases_period"].count


@time_machine.travel(NOW, tick=False)
def test_state_figures_compare_with_the_state_the_previous_report_recorded(db, history):
    """Open, overdue, urgent, alarms and devices are states: the report compares them with the state
    the previous period's report recorded when it was made (nothing else keeps past states)."""
    since, until = reports.last_complete(ReportKind.WEEKLY, NOW)
    before = since - timedelta(days=7)
    with db.reading() as s:
        first = reports.build(s, kind=ReportKind.WEEKLY, since=since, until=until)
        html = reports.render_html(first)
    assert first.stock and all(r.previous == "" and r.change == "" for r in first.stock)
    assert "上期报告没有记录可供对比的状态" in html
    with time_machine.travel(NOW - timedelta(hours=3), tick=False), db.unit_of_work() as s:
        kw = dict(kind=ReportKind.WEEKLY, since=before, until=before + timedelta(days=6), by="test")
        recorded = reports.generate(s, actor=reports.SCHEDULE, **kw).summary["state"]
    # since then one more case went past its deadline
    end = Scope("custom", since, until).end
    late = next(c for c in history.cases if c.is_open and c.paused_at is None and c.reported_at < end
                and c.step_deadline > NOW)  # fmt: skip
    with db.unit_of_work() as s:
        s.get(Case, late.id).step_deadline = NOW - timedelta(hours=1)
    with db.reading() as s:
        data = reports.build(s, kind=ReportKind.WEEKLY, since=since, until=until)
        html = reports.render_html(data)
    rows = {r.label: r for r in data.stock}
    was = {r.label: r for r in first.stock}
    overdue, urgent = rows[ind.get("overdue").label], rows[ind.get("urgent").label]
    assert int(overdue.value) == int(was[overdue.label].value) + 1  # the state now
    assert overdue.previous == str(recorded["overdue"]["count"])  # the state the last report recorded
    d = int(overdue.value) - recorded["overdue"]["count"]
    assert overdue.change.startswith(f"{d:+d}") and overdue.worse == (d > 0)
    assert urgent.previous == str(recorded["urgent"]["count"]) and urgent.value == was[urgent.label].value
    assert data.previous_state_at == NOW - timedelta(hours=3)
    assert "对比上期报告记录的状态" in html and html.count(overdue.change) >= 1
    xlsx = load_workbook(io.BytesIO(reports.render_xlsx(data))).worksheets[0]
    row = next(r for r in xlsx.iter_rows(min_row=3, values_only=True) if r[0] == "已超期")
    # figures are numbers; a change starts with its sign, which a spreadsheet would read as a formula: text
    assert row[1:4] == (int(overdue.value), int(overdue.previous), "'" + overdue.change)


@time_machine.travel(NOW, tick=False)
def test_schedule_makes_each_report_once(db, history):
    with db.unit_of_work() as s:
        made = reports.ensure_scheduled(s, now=NOW)
    assert sorted(str(r.kind) for r in made) == ["daily", "monthly", "weekly"]
    with db.unit_of_work() as s:
        assert reports.ensure_scheduled(s, now=NOW) == []
        assert len(reports.list_reports(s)) == 3


@time_machine.travel(NOW, tick=False)
def test_reports_on_demand_and_downloads(client, db, history):
    login(client, person(db, ["dispatcher"]))
    assert client.get("/ioc/reports").status_code == 403
    client.cookies.clear()
    login(client, person(db, ["leader"]))
    page = client.get("/ioc/reports")
    assert page.status_code == 200
    r = client.post("/ioc/reports", data={"kind": "daily", "on": "2026-03-17", "csrf_token": csrf_from(page.text)},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    listing = client.get("/ioc/reports").text
    assert "2026-03-17" in listing
    with db.reading() as s:
        (rep_id,) = [r.id for r in reports.list_reports(s)]
    pdf = client.get(f"/ioc/reports/{rep_id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/ioc/reports/{rep_id}.xlsx").status_code == 200
    assert client.get(f"/ioc/reports/{rep_id}.doc").status_code == 422


@pytest.mark.parametrize("kind", list(ReportKind))
def test_report_html_is_chinese_by_default(db, history, kind):
    since, until = reports.last_complete(kind, NOW)
    with db.reading() as s:
        html = reports.render_html(reports.build(s, kind=kind, since=since, until=until))
    assert reports.KIND_LABELS[kind] not in html  # translated
    assert "关键指标" in html and "部门评价" in html
