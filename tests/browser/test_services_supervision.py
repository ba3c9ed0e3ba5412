"""电子监察 in the browser, as the demo county's people: the supervisor reads the statistics by
department and level, follows a number to exactly its records and opens the warning under 督办; the
市场监管局's approval officer answers one of its warnings."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing, shoot

pytestmark = pytest.mark.browser

WIDE_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1; })
  .map(el => el.tagName + '#' + el.id + '.' + el.className).slice(0, 5)"""


def _red_warnings_of(browsing: Browsing, department: str) -> int:
    """The department's red warnings not cleared: the demo's 督办 one, and any application of the simulated
    year that is overdue at the moment the demo county was made (that depends on the clock)."""
    con = sqlite3.connect(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        (n,) = con.execute(
            "SELECT count(*) FROM services_supervision_warning w JOIN org_department d ON d.id = w.department_id"
            " WHERE d.name = ? AND w.level = 'red' AND w.state != 'cleared'",
            (department,),
        ).fetchone()
    finally:
        con.close()
    return int(n)


def test_supervisor_follows_a_number_to_its_records(browsing: Browsing) -> None:
    expected = _red_warnings_of(browsing, "县市场监督管理局")
    assert expected >= 1  # the demo's overdue application under 督办
    page = browsing.as_user("zwfw")
    page.goto("/services/supervision")
    expect(page.locator("a[href='/services/supervision']").first).to_be_attached()  # in the navigation
    stats = page.locator("#warning-stats")
    row = stats.locator("tbody tr", has_text="县市场监督管理局")
    expect(row).to_have_count(1)
    red = row.locator("a.stat-red")
    expect(red).to_have_text(str(expected))
    assert page.evaluate(WIDE_JS) == []
    shoot(page, "services-supervision")
    red.click()
    rows = page.locator("#warning-table tbody tr")
    expect(rows).to_have_count(expected)
    expect(rows.filter(has_text="红色预警")).to_have_count(expected)
    expect(rows.filter(has_text="已超过承诺办结时间")).to_have_count(expected)
    supervised = rows.filter(has_text="已督办")
    expect(supervised).to_have_count(1)
    supervised.locator("a").first.click()
    expect(page.locator("#warning-state")).to_have_text("已督办")
    expect(page.locator("#warning-facts")).to_contain_text("已超期，请于两个工作日内办结并说明原因")
    expect(page.locator("#warning-history")).to_contain_text("督办")
    expect(page.locator("#warning-supervise")).to_be_visible()
    assert page.problems.take() == []  # type: ignore[attr-defined]


def test_department_answers_its_warning(browsing: Browsing) -> None:
    page = browsing.as_user("scjg")
    page.goto("/services/supervision?state=open&kind=corrections")
    rows = page.locator("#warning-table tbody tr").filter(has_text="已 2 次退回补正材料")
    expect(rows).to_have_count(1)
    rows.first.locator("a").first.click()
    expect(page.locator("#warning-state")).to_have_text("未处理")
    page.fill("#warning-feedback textarea[name=note]", "已电话告知申请人补齐营业执照复印件")
    page.click("#warning-feedback button[type=submit]")
    expect(page.locator("#warning-state")).to_have_text("已反馈")
    expect(page.locator("#warning-facts")).to_contain_text("已电话告知申请人补齐营业执照复印件")
    expect(page.locator("#warning-feedback")).to_have_count(0)
    assert page.problems.take() == []  # type: ignore[attr-defined]
