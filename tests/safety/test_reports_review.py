"""复盘 and the pages: review figures (a late task, a late report), its PDF text and Excel sheets, the API's
409 on a sent report, the leader's numbers equal to the lists they open."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.safety.models.reports import EventReport, ReportKind
from countyos.safety.schemas.reports import ReportIn
from countyos.safety.service import reports, reports_review
from tests.factories import login
from tests.safety.reports_helpers import T0, build, event


def _closed_with_reports(db, w):
    """Closed 7 h after the start; the first sent 10 min late, the follow-up on time, the final not sent."""
    event_id = event(db, w, closed_at=T0 + timedelta(hours=7))
    actor = Actor(id=w.commander.id, name="值班员")
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(hours=8))
        rows = {(r.kind, r.number): r for r in reports.of_event(s, event_id=event_id)}
        assert set(rows) == {(ReportKind.FIRST, 0), (ReportKind.FOLLOWUP, 1), (ReportKind.FINAL, 0)}
        for key, sent_at in (((ReportKind.FIRST, 0), T0 + timedelta(minutes=40)),
                             ((ReportKind.FOLLOWUP, 1), T0 + timedelta(hours=6, minutes=20))):  # fmt: skip
            reports.send(s, actor=actor, report_id=rows[key].id, data=ReportIn(body="正文"))
            rows[key].sent_at = sent_at
    return event_id


def test_review_figures(db) -> None:
    w = build(db)
    event_id = _closed_with_reports(db, w)
    with db.unit_of_work() as s:
        r = reports_review.review(s, event_id=event_id)
    water = next(t for t in r.tasks if t.department == "测试水利局")
    town = next(t for t in r.tasks if t.department == "测试镇政府")
    assert water.acknowledged_after == 5 and water.late_minutes == 35 and not water.met
    assert town.acknowledged_after == 15 and town.late_minutes is None and town.done_at is None
    assert [c.acknowledged_after for c in r.commands] == [12]
    late = {x.title: x.late_minutes for x in r.reports}
    assert sorted(v for v in late.values() if v is not None) == [0, 10]
    assert r.figures["duration_minutes"] == 420 and r.figures["tasks_late"] == 1
    assert r.figures["reports_sent"] == 2 and r.figures["reports_late"] == 1 and r.figures["reports_due"] == 3
    # the log, two overdue reminders (first and follow-up, at the 8 h sweep) and two REPORT_SENT rows
    assert r.figures["level_changes"] == 1 and len(r.timeline) == 6 + 2 + 2


def test_review_page_lessons_pdf_and_excel(client, db) -> None:
    w = build(db)
    event_id = _closed_with_reports(db, w)
    csrf = login(client, w.commander)
    page = client.get(f"/safety/events/{event_id}/review")
    assert page.status_code == 200 and 'id="review-tasks"' in page.text and "测试水利局" in page.text
    saved = client.post(f"/safety/events/{event_id}/review", data={"csrf_token": csrf, "lessons": "转移要再早半小时"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert "转移要再早半小时" in client.get(f"/safety/events/{event_id}/review").text
    pdf = client.get(f"/safety/events/{event_id}/review.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = re.sub(r"\s+", "", text)
    assert "妙高溪洪水" in text and "测试水利局" in text and "转移要再早半小时" in text
    xlsx = client.get(f"/safety/events/{event_id}/review.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert len(wb.sheetnames) == 3
    timeline, tasks, sent = (wb[n] for n in wb.sheetnames)
    assert timeline.max_row == 1 + 10 and tasks.max_row == 1 + 2 and sent.max_row == 1 + 3
    assert {row[0].value for row in tasks.iter_rows(min_row=2)} == {"测试水利局", "测试镇政府"}
    api = client.get(f"/api/v1/safety/events/{event_id}/review").json()
    assert api["figures"]["tasks_late"] == 1 and api["lessons"] == "转移要再早半小时"


def test_api_edit_send_and_409(client, db) -> None:
    w = build(db)
    event_id = event(db, w)
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(minutes=1))
        report_id = s.scalars(select(EventReport.id)).one()
    csrf = login(client, w.commander)
    h = {"X-CSRF-Token": csrf}
    listed = client.get(f"/api/v1/safety/events/{event_id}/reports").json()
    assert [r["id"] for r in listed] == [report_id]
    draft = client.get(f"/api/v1/safety/reports/{report_id}/draft").json()["body"]
    assert "测试水利局" in draft
    put = client.put(f"/api/v1/safety/reports/{report_id}", json={"body": draft, "evacuated": 326}, headers=h)
    assert put.status_code == 200 and put.json()["state"] == "drafted"
    sent = client.post(f"/api/v1/safety/reports/{report_id}/send", headers=h)
    assert sent.status_code == 200 and sent.json()["state"] == "sent" and sent.json()["evacuated"] == 326
    again = client.put(f"/api/v1/safety/reports/{report_id}", json={"body": "改"}, headers=h)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    pdf = client.get(f"/safety/reports/{report_id}.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


def test_a_reader_sees_but_cannot_send(client, db) -> None:
    w = build(db)
    event(db, w)
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(minutes=1))
        report_id = s.scalars(select(EventReport.id)).one()
    csrf = login(client, w.reader)
    page = client.get(f"/safety/reports/{report_id}")
    assert page.status_code == 200 and 'id="report-form"' not in page.text
    refused = client.post(f"/api/v1/safety/reports/{report_id}/send", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403


def test_report_form_sends_and_refuses_bad_figures(client, db) -> None:
    w = build(db)
    event(db, w)
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(minutes=1))
        report_id = s.scalars(select(EventReport.id)).one()
    csrf = login(client, w.commander)
    page = client.get(f"/safety/reports/{report_id}")
    assert 'id="report-form"' in page.text and "测试水利局：加密监测水位" in page.text  # the generated draft
    bad = client.post(f"/safety/reports/{report_id}",
                      data={"csrf_token": csrf, "body": "首报", "evacuated": "-3", "action": "save"})  # fmt: skip
    assert bad.status_code == 422 and 'id="error-evacuated"' in bad.text and "首报" in bad.text
    ok = client.post(f"/safety/reports/{report_id}", data={"csrf_token": csrf, "body": "首报正文", "evacuated": "12",
                                                            "action": "send"}, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    shown = client.get(f"/safety/reports/{report_id}")
    assert 'id="report-sent-body"' in shown.text and "首报正文" in shown.text and 'id="report-form"' not in shown.text


def _count(html: str, element_id: str) -> int:
    m = re.search(rf'id="{element_id}"[^>]*>.*?<p class="big">(\d+)</p>', html, re.S)
    assert m, element_id
    return int(m.group(1))


def test_glance_numbers_equal_their_lists(client, db) -> None:
    w = build(db)
    active = event(db, w, started_at=T0, number="YJ1")
    event(db, w, started_at=T0 - timedelta(days=3), closed_at=T0 - timedelta(days=2), number="YJ2")
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(hours=13))  # first and two follow-ups; none sent
    login(client, w.reader)
    page = client.get("/safety")
    assert page.status_code == 200
    html = page.text
    for tile, url, row in (
        ("glance-tasks-open", "/safety/glance/tasks?which=open", "data-task="),
        ("glance-tasks-overdue", "/safety/glance/tasks?which=overdue", "data-task="),
        ("glance-reports-pending", "/safety/reports?which=pending", "data-report="),
        ("glance-reports-overdue", "/safety/reports?which=overdue", "data-report="),
    ):
        listed = client.get(url).text
        n = _count(html, tile)
        assert n == listed.count(row), tile
        if row == "data-report=":
            assert f"：{n}</p>" in listed
    assert _count(html, "glance-tasks-open") == 1  # the town's task; the water task is done
    assert _count(html, "glance-tasks-overdue") == 1
    row = re.search(rf'<tr data-event="{active}">.*?</tr>', html, re.S).group(0)
    pending = client.get(f"/safety/reports?which=pending&event_id={active}").text.count("data-report=")
    assert f'class="n-pending" href="/safety/reports?which=pending&amp;event_id={active}">{pending}</a>' in row
    assert "YJ2" not in row and "/review" in html
