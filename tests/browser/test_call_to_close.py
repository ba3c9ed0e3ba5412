"""One phone call through the whole loop in a real browser, each step by the person who does it: the
clerk takes the call at the intake desk (past cases by number, a place searched, the category by its
pinyin initials), the grid worker verifies it on site with a photo (before), the shift leader registers,
the dispatcher dispatches with a keystroke, the handler reports it handled with a photo (after), the
inspector checks it with a photo, the shift leader closes, and the case page shows before and after."""

from __future__ import annotations

import io
import re
import sqlite3

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Browsing

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
CALLER = "13905781234"  # the other demo caller with earlier 12345 calls (the desk test counts the first)
ORDER_NO = "GD20261203-0901"


def _jpeg(colour: tuple[int, int, int]) -> dict[str, object]:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buf, "JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _one(browsing: Browsing, sql: str, *args: object) -> object:
    con = sqlite3.connect(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        row = con.execute(sql, args).fetchone()
    finally:
        con.close()
    assert row is not None, sql
    return row[0]


def _open(page: Page, case_id: int, action: str) -> None:
    page.goto(f"/cases/{case_id}")
    if page.locator(f"#do-{action}").is_hidden():
        page.click(f"#act-{action}")


def _done(page: Page) -> None:
    flash = page.locator(".flash").first
    expect(flash).to_be_visible()
    assert "flash-error" not in (flash.get_attribute("class") or ""), flash.inner_text()


def test_a_call_becomes_a_closed_case_with_photos_before_and_after(browsing: Browsing) -> None:
    # 1. the call, at the desk
    desk = browsing.as_user("intake", viewport=FULL_HD)
    desk.goto("/cases/intake")
    desk.fill("#caller_phone", CALLER)
    desk.wait_for_selector("#past-cases li a[href^='/cases/']", timeout=10_000)
    desk.fill("#caller_name", "李芳")
    desk.fill("#address", "东红")
    desk.wait_for_selector("#address-results li[role=option]", timeout=10_000)
    desk.press("#address", "Enter")
    desk.wait_for_function("() => document.getElementById('lon').value !== ''")
    desk.fill("#category-q", "ljdf")
    desk.wait_for_selector("#category-results li[role=option]", timeout=10_000)
    desk.press("#category-q", "Enter")
    expect(desk.locator("#category-chosen")).to_have_text("已选：垃圾堆放")
    desk.fill("#description", "桥头有人倾倒建筑垃圾")
    desk.fill("#order_no", ORDER_NO)
    with desk.expect_navigation():
        desk.press("#description", "Control+Enter")
    number = desk.locator("#intake-done-link").inner_text().strip()
    assert re.fullmatch(r"\d{14}", number), number
    case_id = int(str(_one(browsing, "SELECT id FROM case_case WHERE number = ?", number)))
    grid_id = _one(browsing, "SELECT id FROM org_user WHERE username = 'grid'")

    # 2. sent to the grid worker, who verifies it on site and photographs the problem (before)
    _open(desk, case_id, "send_verify")
    desk.select_option("#assignee-send_verify", str(grid_id))
    desk.click("#do-send_verify")
    _done(desk)
    grid = browsing.as_user("grid", viewport=PHONE)
    grid.goto("/m/tasks")
    grid.set_input_files(f"#photos-task-{case_id}", files=[_jpeg((150, 110, 60))])
    grid.click(f"#verify-yes-{case_id}")
    _done(grid)

    # 3. registered by the shift leader; dispatched with the D key to the suggested department
    leader = browsing.as_user("shift")
    _open(leader, case_id, "register")
    leader.click("#do-register")
    _done(leader)
    dispatcher = browsing.as_user("dispatch", viewport=FULL_HD)
    dispatcher.goto(f"/cases/{case_id}")
    dispatcher.keyboard.press("d")
    expect(dispatcher.locator("#form-dispatch")).to_be_visible()
    dispatcher.click("#do-dispatch")
    expect(dispatcher.locator(".flash")).to_contain_text("已派遣")

    # 4. the enforcement bureau signs and reports it handled, with a photo (after)
    handler = browsing.as_user("zfj", viewport=PHONE)
    _open(handler, case_id, "sign")
    handler.click("#do-sign")
    _done(handler)
    _open(handler, case_id, "feedback")
    handler.fill("#comment-feedback", "已清运")
    handler.set_input_files("#photos-feedback", files=[_jpeg((60, 160, 80))])
    handler.click("#do-feedback")
    _done(handler)

    # 5. the check, by the same grid worker on the phone, with a photo
    _open(desk, case_id, "send_check")
    desk.select_option("#assignee-send_check", str(grid_id))
    desk.click("#do-send_check")
    _done(desk)
    grid.goto("/m/tasks")
    grid.set_input_files(f"#photos-task-{case_id}", files=[_jpeg((70, 170, 90))])
    grid.click(f"#check-pass-{case_id}")
    expect(grid.locator(".flash")).to_contain_text("已核查")

    # 6. closed; the case page shows the photo before the work beside the two after it
    _open(leader, case_id, "close")
    leader.click("#do-close")
    _done(leader)
    assert _one(browsing, "SELECT state FROM case_case WHERE id = ?", case_id) == "closed"
    leader.goto(f"/cases/{case_id}")
    expect(leader.locator("#evidence-before img")).to_have_count(1)
    expect(leader.locator("#evidence-after img")).to_have_count(2)
    assert ORDER_NO in leader.locator("#case-work-order").inner_text()
    for p in (desk, grid, leader, dispatcher, handler):
        assert p.problems.take() == []
