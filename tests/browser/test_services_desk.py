"""The intake desk (受理台) in Chromium, zh-CN: the village agent finds a matter by its pinyin initials,
enters a villager with the consent, ticks materials and photographs one, submits; the window clerk
opens it from the 待受理 queue and sends the 一次性告知 (the printed notice lists the missing
material); the agent brings it; the clerk accepts and opens the 受理通知书 with the numbers."""

from __future__ import annotations

import io
import re
import sqlite3

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from countyos.services import idnumbers
from tests.browser.conftest import Browsing, shoot
from tests.browser.walk import SEEN_JS, raw_codes

pytestmark = pytest.mark.browser

ID_BODY = "33112519600101123"
VILLAGER_ID = ID_BODY + idnumbers.resident_check_char(ID_BODY)
MATTER = "食品经营许可（新办）"
MISSING = "经营场所平面图"


def _photo() -> dict[str, object]:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "JPEG")
    return {"name": "营业执照.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _row(page: Page, material: str):
    return page.locator("#desk-materials tbody tr", has=page.locator("strong", has_text=material))


def _no_problems(page: Page) -> None:
    problems = [p for p in page.problems.take() if "HTTP 4" not in p]  # type: ignore[attr-defined]
    assert problems == [], problems


def _reads_as_words(page: Page) -> None:
    """What a person sees on the page is Chinese words, no code, English message id or ISO time."""
    found = raw_codes(page.evaluate(SEEN_JS), "zh_CN")
    assert found == [], f"{page.url}: {found}"


def test_agent_submits_window_requests_correction_agent_resubmits_window_accepts(browsing: Browsing) -> None:
    # the agent: the matter by its pinyin initials
    agent = browsing.as_user("agent")
    agent.goto("/services/desk")
    expect(agent.locator("#desk-mode")).to_have_text("代办员")
    agent.fill("#matter-q", "spjyxk")
    agent.press("#matter-q", "Enter")
    agent.locator("#matter-hits a", has_text=MATTER).click()
    expect(agent.locator("#desk-matter")).to_have_text(MATTER)

    # the applicant: a new one (no earlier application with this number)
    agent.fill("#id_number", VILLAGER_ID)
    agent.press("#id_number", "Tab")
    expect(agent.locator("#earlier-none")).to_be_visible(timeout=10_000)
    agent.fill("#applicant_name", "蓝水生")
    agent.select_option("#applicant_kind", "person")
    agent.fill("#phone", "13905781234")
    agent.fill("#address", "大柘镇大田村 12 号")
    agent.fill("#consent_by", "蓝水生")
    agent.select_option("#consent_way", "signed_form")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", agent.input_value("#consent_at"))

    # the materials: two handed in, one photographed, one missing
    for name in ("申请表", "食品安全管理制度"):
        _row(agent, name).locator("input[type=checkbox]").check()
    _row(agent, "营业执照").locator("input[type=file]").set_input_files(_photo())
    expect(_row(agent, "营业执照").locator("input[type=checkbox]")).to_be_checked()
    expect(_row(agent, "营业执照").locator("select")).to_have_value("electronic")
    shoot(agent, "services-desk-agent")
    _reads_as_words(agent)
    with agent.expect_navigation():
        agent.press("#address", "Control+Enter")  # from any field
    number = agent.locator("#desk-done-link").inner_text().strip()
    assert re.fullmatch(r"\d{6}\d{8}\d{5}", number), number
    app_id = int(re.search(r"done=(\d+)", agent.url).group(1))  # type: ignore[union-attr]
    _no_problems(agent)

    # the window clerk: from the queue to the decision, the 一次性告知 pre-filled with what is missing
    clerk = browsing.as_user("window")
    clerk.goto("/services/desk/queue")
    _reads_as_words(clerk)
    clerk.locator("#queue-table a", has_text=number).click()
    expect(clerk.locator("#decide-number")).to_have_text(number)
    _reads_as_words(clerk)
    note = clerk.locator("#correction-note")
    expect(note).to_have_value(re.compile(r"^1\. " + MISSING))
    note.fill(note.input_value() + "\n2. 平面图须标明操作间布局")
    with clerk.expect_navigation():
        clerk.click("#do-request_correction")
    expect(clerk.locator("#decide-state")).to_have_text("补正中")
    clerk.click("#decide-notice")
    expect(clerk.locator("#notice-items")).to_contain_text(MISSING)
    expect(clerk.locator("#notice-note")).to_contain_text("平面图须标明操作间布局")
    expect(clerk.locator("#notice-due")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 17:30"))
    expect(clerk.locator("#notice")).to_contain_text("331***********1236")
    shoot(clerk, "services-desk-notice")
    _reads_as_words(clerk)
    _no_problems(clerk)

    # the agent brings the missing plan
    agent.goto("/services/desk")
    _reads_as_words(agent)
    with agent.expect_navigation():  # read the corrections page, not the desk it is leaving
        agent.click(f"#awaiting-{app_id}")
    _reads_as_words(agent)
    _row(agent, MISSING).locator("input[type=file]").set_input_files({**_photo(), "name": "平面图.jpg"})
    with agent.expect_navigation():
        agent.click("#corrections-submit")
    expect(agent.locator("#desk-done-link")).to_have_text(number)
    _no_problems(agent)

    # the clerk accepts and prints the 受理通知书
    clerk.goto("/services/desk/queue")
    expect(clerk.locator(f"#queue-{app_id}")).to_contain_text("补正后重新提交")
    clerk.goto(f"/services/desk/applications/{app_id}")
    with clerk.expect_navigation():
        clerk.click("#do-accept")
    expect(clerk.locator("#decide-state")).to_have_text("办理中")
    clerk.click("#decide-receipt")
    expect(clerk.locator("#receipt-title")).to_have_text("受理通知书")
    expect(clerk.locator("#receipt-app-number")).to_have_text(number)
    expect(clerk.locator("#receipt-id")).to_have_text("331***********1236")
    expect(clerk.locator("#receipt-due")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 17:30$"))
    expect(clerk.locator("#receipt-clerk")).to_have_text("窗口人员 黄丽")
    receipt_number = clerk.locator("#receipt-number").inner_text().strip()
    shoot(clerk, "services-desk-receipt")
    _reads_as_words(clerk)
    _no_problems(clerk)

    con = sqlite3.connect(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        row = con.execute(
            "SELECT state, receipt_number, corrections, consent_by, consent_way, submitted_role"
            " FROM services_application WHERE id = ?",
            (app_id,),
        ).fetchone()
        files = con.execute(
            "SELECT COUNT(*) FROM services_application_material WHERE application_id = ? AND attachment_id IS NOT NULL",
            (app_id,),
        ).fetchone()[0]
    finally:
        con.close()
    assert row == ("in_progress", receipt_number, 1, "蓝水生", "signed_form", "agent")
    assert files == 2
