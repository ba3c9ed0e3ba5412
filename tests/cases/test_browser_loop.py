"""The whole loop in a real browser: a grid worker reports (first without signal), a citizen reports the
same problem, the dispatcher merges and dispatches, the department handles, the grid worker checks,
the shift leader closes, the citizen rates on their own page, and the evaluation changes."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Browsing, browser, browsing, browsing_session, server  # noqa: F401

pytestmark = pytest.mark.browser


def _db(srv) -> sqlite3.Connection:
    return sqlite3.connect(srv.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))


def _act(page, case_id: int, action: str) -> None:
    page.goto(f"/cases/{case_id}")
    summary = page.locator(f"#act-{action}")
    expect(summary).to_be_visible()
    if page.locator(f"#do-{action}").is_hidden():
        summary.click()
    page.click(f"#do-{action}")
    expect(page.locator(".flash")).to_be_visible()
    assert "flash-error" not in (page.locator(".flash").get_attribute("class") or ""), page.locator(
        ".flash"
    ).inner_text()


def _evaluation_row(page, department: str) -> str:
    today = date.today()
    page.goto(f"/cases/evaluation?subject=department&start={today - timedelta(days=1)}&end={today + timedelta(days=2)}")
    row = page.locator("#eval-table tbody tr", has_text=department)
    return row.inner_text() if row.count() else ""


def test_report_to_rating(browsing: Browsing, server) -> None:  # noqa: F811
    con = _db(server)
    lon, lat = con.execute(
        "SELECT lon, lat FROM geo_component WHERE township_name = '妙高街道' AND class_code = '03005' LIMIT 1"
    ).fetchone()
    cat_id = con.execute("SELECT id FROM case_category WHERE kind = 'matter' AND code = '06010'").fetchone()[0]
    con.close()

    leader = browsing.as_user("shift")
    before = _evaluation_row(leader, "县综合行政执法局")

    # 1. the grid worker reports on the phone, first without signal
    grid = browsing.as_user("grid", viewport=PHONE)
    grid.goto("/m/report")
    expect(grid.locator("#m-position [data-position-map] canvas")).to_be_visible()  # opened with signal
    grid.context.set_offline(True)
    grid.select_option("#m-category", str(cat_id))
    grid.fill("#m-description", "垃圾桶旁堆了大量生活垃圾")
    grid.fill("#m-lon", f"{lon:.6f}")
    grid.fill("#m-lat", f"{lat:.6f}")
    grid.click("#m-submit")
    expect(grid.locator("#sync-status")).to_have_class(re.compile("offline"))
    grid.context.set_offline(False)
    grid.evaluate("window.dispatchEvent(new Event('online'))")
    sent = grid.locator("#m-sent a")
    expect(sent).to_have_count(1, timeout=20000)
    case_id = int((sent.get_attribute("href") or "").rsplit("/", 1)[-1])
    grid.evaluate("window.dispatchEvent(new Event('online'))")  # a second sync sends nothing new
    expect(grid.locator("#sync-status")).not_to_have_class(re.compile("offline"))

    # 2. a citizen reports the same problem on the public form
    citizen = browsing.new_page(viewport=PHONE)
    citizen.goto("/report")
    citizen.select_option("#category_id", str(cat_id))
    citizen.fill("#description", "这里垃圾好几天没人清")
    citizen.fill("#lon", f"{lon + 0.0002:.6f}")
    citizen.fill("#lat", f"{lat:.6f}")
    citizen.fill("#phone", "13912340000")
    citizen.click("#report-submit")
    expect(citizen).to_have_url(re.compile(r"/r/[\w-]+$"))
    citizen_url = citizen.url
    con = _db(server)
    citizen_case, grid_number = con.execute(
        "SELECT c.id, g.number FROM case_case c JOIN case_case g ON g.id = c.duplicate_of_id "
        "WHERE c.channel = 'web' ORDER BY c.id DESC LIMIT 1"
    ).fetchone()
    assert con.execute("SELECT COUNT(*) FROM case_case WHERE channel = 'grid' AND id = ?", (case_id,)).fetchone() == (
        1,
    )
    con.close()

    # 3. intake merges the citizen's report, accepts the grid worker's; the shift leader registers
    intake = browsing.as_user("intake")
    intake.goto(f"/cases/{citizen_case}")
    expect(intake.locator(".flash-warn")).to_contain_text(grid_number)
    intake.locator("#act-merge").click()
    intake.click("#do-merge")
    expect(intake.locator("#case-state")).to_contain_text("已合并")
    _act(intake, case_id, "accept")
    _act(leader, case_id, "register")

    # 4. one-action dispatch from the console with the suggested department
    dispatcher = browsing.as_user("dispatch")
    dispatcher.goto("/cases?queue=registered")
    expect(dispatcher.locator(f"#dispatch-{case_id}")).to_be_visible()
    dispatcher.click(f"#dispatch-{case_id}")
    expect(dispatcher.locator(".flash")).to_contain_text("已派遣")

    # 5. the department signs and reports it handled
    handler = browsing.as_user("zfj")
    handler.goto("/cases/inbox")
    expect(handler.locator("#cases-table")).to_contain_text(grid_number)
    _act(handler, case_id, "sign")
    _act(handler, case_id, "feedback")

    # 6. intake sends the check to the reporting grid worker, who passes it on the phone
    _act(intake, case_id, "send_check")
    grid.goto("/m/tasks")
    grid.click(f"#check-pass-{case_id}")
    expect(grid.locator(".flash")).to_contain_text("已核查")

    # 7. the shift leader closes; the citizen rates on their page
    _act(leader, case_id, "close")
    citizen.goto(citizen_url)
    expect(citizen.locator("#public-state")).to_contain_text("已结案")
    citizen.check("input[name=satisfaction][value=very_satisfied]")
    citizen.click("#rate-submit")
    expect(citizen.locator("#rated")).to_contain_text("非常满意")

    # 8. the evaluation changed
    after = _evaluation_row(leader, "县综合行政执法局")
    assert after and after != before
    for p in (grid, intake, leader, dispatcher, handler, citizen):
        expected_offline = ("ERR_INTERNET_DISCONNECTED", "net::ERR_")  # the grid worker's phone had no signal
        assert [x for x in p.problems.take() if "favicon" not in x and not any(e in x for e in expected_offline)] == []
