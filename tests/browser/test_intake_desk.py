"""A phone call taken at the intake desk (受理台), in zh-CN at 1920×1080: the caller's past cases by
number, an address searched and picked, a category found by its pinyin initials, a stock phrase,
Ctrl+Enter — and the case exists with its fields; the header, the form and the map do not overlap."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing, shoot

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
CALLER = "13857812345"  # a demo caller with earlier 12345 calls

BOXES_JS = """() => {
  const box = (sel) => { const el = document.querySelector(sel); if (!el) return null;
    const r = el.getBoundingClientRect(); return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  return {header: box('#intake-head'), form: box('#intake-form'), map: box('#intake-map'),
          canvas: box('#intake-map canvas'), queue: box('#intake-messages')};
}"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def _db(browsing: Browsing) -> sqlite3.Connection:
    return sqlite3.connect(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))


def test_a_phone_call_is_taken_at_the_intake_desk(browsing: Browsing) -> None:
    page = browsing.as_user("intake", viewport=FULL_HD)
    page.goto("/cases/intake")
    page.wait_for_function("() => document.querySelector('#intake-map canvas') !== null", timeout=15_000)
    assert page.locator("nav.sidenav a[href='/cases/intake']").inner_text().strip() == "受理台"

    # the layout: header, form and map side by side, nothing drawn over anything else
    boxes = page.evaluate(BOXES_JS)
    shoot(page, "intake-desk-empty-1920")
    header, form, map_, canvas = boxes["header"], boxes["form"], boxes["map"], boxes["canvas"]
    assert header and form and map_ and canvas, boxes
    assert map_["w"] >= 300 and map_["h"] >= 300, boxes
    for a, b in ((header, form), (header, map_), (form, map_), (form, canvas), (header, canvas)):
        assert not _overlap(a, b), boxes

    # the caller's number brings up their past cases, each linking to its case page
    page.fill("#caller_phone", CALLER)
    page.wait_for_selector("#past-cases li a[href^='/cases/']", timeout=10_000)
    expect(page.locator("#past-cases li a")).to_have_count(3)
    expect(page.locator("#past-cases")).to_contain_text("此号码曾来电（3 件）")
    page.fill("#caller_name", "张伟")

    # the address: search the county's own places and pick one with the keyboard
    page.fill("#address", "东红")
    page.wait_for_selector("#address-results li[role=option]", timeout=10_000)
    expect(page.locator("#address-results li[role=option]").first).to_contain_text("东红")
    page.press("#address", "Enter")
    page.wait_for_function("() => document.getElementById('lon').value !== ''")
    expect(page.locator("#position-status")).to_have_text(re.compile(r"^已定位："))
    page.fill("#address", page.input_value("#address") + "12号门口")

    # the category by its pinyin initials; arrows and Enter choose it
    page.fill("#category-q", "ljdf")
    page.wait_for_selector("#category-results li[role=option]", timeout=10_000)
    expect(page.locator("#category-results li[role=option]").first).to_have_text(re.compile(r"^垃圾堆放"))
    page.press("#category-q", "ArrowDown")
    page.press("#category-q", "ArrowUp")
    page.press("#category-q", "Enter")
    expect(page.locator("#category-chosen")).to_have_text("已选：垃圾堆放")

    # what the caller says, then a stock phrase by a click
    page.fill("#description", "路口有人偷倒装修垃圾")
    expect(page.locator("#phrases .phrase", has_text="现场垃圾较多")).to_be_hidden()  # another category's phrase
    page.locator("#phrases .phrase", has_text="来电人要求尽快处理").click()
    page.keyboard.press("Alt+2")  # the second phrase offered
    expect(page.locator("#description")).to_have_value(
        "路口有人偷倒装修垃圾，来电人要求尽快处理，处理后回复。来电人不愿透露姓名。"
    )
    page.fill("#order_no", "GD20261203-0815")
    page.select_option("#demand_type", "report")
    page.check("#callback_needed")
    page.select_option("#callback_way", "phone")
    page.fill("#callback_time", "工作日晚上")
    boxes = page.evaluate(BOXES_JS)
    for a, b in ((boxes["header"], boxes["form"]), (boxes["header"], boxes["map"]), (boxes["form"], boxes["map"])):
        assert not _overlap(a, b), boxes
    shoot(page, "intake-desk-1920", docs="intake-desk.png")

    # one keystroke accepts; the desk is ready for the next call with the new case's number
    with page.expect_navigation():
        page.press("#description", "Control+Enter")
    assert "/cases/intake?done=" in page.url
    link = page.locator("#intake-done-link")
    number = link.inner_text().strip()
    assert re.fullmatch(r"\d{14}", number), number
    assert page.input_value("#caller_phone") == "" and page.input_value("#description") == ""

    con = _db(browsing)
    try:
        row = con.execute(
            "SELECT c.id, c.channel, c.state, cat.name, c.address, c.village_name, w.order_no, w.demand_type,"
            " w.callback_needed, w.callback_way, r.name, r.phone_index IS NOT NULL"
            " FROM case_case c JOIN case_category cat ON cat.id = c.category_id"
            " JOIN case_work_order w ON w.case_id = c.id JOIN case_reporter r ON r.case_id = c.id"
            " WHERE c.number = ?",
            (number,),
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    case_id, *facts = row
    assert facts == [
        "hotline",
        "accepted",
        "垃圾堆放",
        facts[3],
        facts[4],
        "GD20261203-0815",
        "report",
        1,
        "phone",
        "张伟",
        1,
    ]
    assert "东红" in facts[3] and facts[3].endswith("12号门口") and facts[4] == "东红村委会"

    # the case page shows the work order; the caller's number now finds this case too
    link.click()
    page.wait_for_url(f"**/cases/{case_id}")
    work_order = page.locator("#case-work-order").inner_text()
    assert "GD20261203-0815" in work_order and "举报" in work_order and "需要回访" in work_order
    page.goto("/cases/intake")
    page.fill("#caller_phone", CALLER)
    page.wait_for_selector(f"#past-cases a[href='/cases/{case_id}']", timeout=10_000)
    assert page.problems.take() == []


def test_a_web_message_is_accepted_at_the_desk(browsing: Browsing) -> None:
    page = browsing.as_user("intake", viewport=FULL_HD)
    page.goto("/cases/intake")
    first = page.locator("#intake-messages a").first
    href = first.get_attribute("href")
    assert href and href.startswith("/cases/intake?message=")
    first.click()
    page.wait_for_load_state()
    assert page.locator("#intake-mode").inner_text().startswith("受理留言")
    assert page.input_value("#description")  # what the sender wrote
    page.fill("#category-q", "ljzxmy")  # 垃圾站（箱）满溢
    page.wait_for_selector("#category-results li[role=option]", timeout=10_000)
    page.press("#category-q", "Enter")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert "/cases/intake?done=" in page.url, page.content()
    assert page.locator(f"#intake-messages a[href='{href}']").count() == 0
    assert page.problems.take() == []
