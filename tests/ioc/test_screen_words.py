"""The usage page names modules in the interface language, never by their path segment."""

from __future__ import annotations

from countyos.core.usage import COUNTER
from countyos.ioc.jobs import flush_usage
from tests.factories import login, person
from tests.web.visible import raw_marks, visible_text


def test_usage_page_names_modules(client, db):
    COUNTER.drain()
    dispatcher = person(db, ["dispatcher"])
    login(client, dispatcher)
    client.get("/admin/departments")
    client.get("/cases")
    assert flush_usage(db) >= 2
    client.cookies.clear()
    login(client, person(db, ["leader"]))
    texts = visible_text(client.get("/usage").text)
    assert "系统管理" in texts and "案卷办理" in texts
    assert "admin" not in texts and "cases" not in texts and "home" not in texts
    assert raw_marks(texts) == []


def test_report_and_supervision_headers_say_what_they_mean(client, db):
    login(client, person(db, ["leader"]))
    reports_page = client.get("/ioc/reports")
    assert reports_page.status_code == 200
    texts = visible_text(reports_page.text)
    assert {"运行报告", "生成人"} <= set(texts) and "上报" not in texts and "督办人" not in texts
