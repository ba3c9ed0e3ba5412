"""一网通办 from end to end, each role in its own browser: a villager's application entered by the village
agent (帮办代办) → accepted at the township's 便民服务中心 → the 政务服务中心's and the 市场监管局's steps →
办结 准予 with a certificate → its verification page opened from the certificate's QR code on a phone →
a named 差评 at the window's 评价器 → 核实 and 整改 by the department → 回访 by the supervisor → the leader's
statistics change by exactly that application and that rating."""

from __future__ import annotations

import io
import re
import sqlite3
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from countyos.services import idnumbers
from tests.browser.conftest import PHONE, Browsing, shoot
from tests.browser.test_services_work import _act

pytestmark = pytest.mark.browser

MATTER = "食品经营许可（新办）"  # 受理 at the 政务服务中心, 审查 and 决定 at the 市场监管局
ID_BODY = "33112319700312401"
VILLAGER_ID = ID_BODY + idnumbers.resident_check_char(ID_BODY)
VILLAGER = "蓝春生"


def _photo() -> dict[str, object]:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 30)).save(buf, "JPEG")
    return {"name": "营业执照.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _figures(page: Page) -> dict[str, tuple[int, int] | int]:
    """The leader's totals this month: applications, and (part, whole) of 好评率 and 差评整改率."""
    page.goto("/services/statistics?period=month")
    total = page.locator("#stats-total")
    out: dict[str, tuple[int, int] | int] = {"submitted": int(total.locator("[data-figure=submitted]").inner_text())}
    for key in ("good", "rectified"):
        cell = total.locator(f"td:has([data-rating={key}])")
        part, whole = re.search(r"(\d+)/(\d+)\s*$", cell.inner_text()).groups()  # type: ignore[union-attr]
        out[key] = (int(part), int(whole))
    return out


def _decode(png: bytes) -> str:
    import zxingcpp

    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def test_agent_township_window_two_departments_certificate_rating_rectification_statistics(
    browsing: Browsing,
) -> None:
    leader = browsing.as_user("leader")
    before = _figures(leader)

    # the village agent enters the villager's application with the consent, every material in
    agent = browsing.as_user("agent")
    agent.goto("/services/desk")
    agent.fill("#matter-q", "spjyxk")
    agent.press("#matter-q", "Enter")
    agent.locator("#matter-hits a", has_text=MATTER).click()
    agent.fill("#id_number", VILLAGER_ID)
    agent.press("#id_number", "Tab")
    expect(agent.locator("#earlier-none")).to_be_visible(timeout=10_000)
    agent.fill("#applicant_name", VILLAGER)
    agent.select_option("#applicant_kind", "person")
    agent.fill("#phone", "13905789876")
    agent.fill("#address", "大柘镇大田村 21 号")
    agent.fill("#consent_by", VILLAGER)
    agent.select_option("#consent_way", "in_person")
    rows = agent.locator("#desk-materials tbody tr")
    for i in range(rows.count()):
        rows.nth(i).locator("input[type=checkbox]").check()
    agent.locator("#desk-materials tbody tr", has=agent.locator("strong", has_text="营业执照")).locator(
        "input[type=file]"
    ).set_input_files(_photo())
    with agent.expect_navigation():
        agent.press("#address", "Control+Enter")
    number = agent.locator("#desk-done-link").inner_text().strip()
    app_id = int(re.search(r"done=(\d+)", agent.url).group(1))  # type: ignore[union-attr]

    # the township's 便民服务中心 accepts it: the 受理通知书 with its numbers
    town = browsing.as_user("window_dz")
    town.goto("/services/desk/queue")
    expect(town.locator(f"#queue-{app_id}")).to_contain_text(VILLAGER)
    town.goto(f"/services/desk/applications/{app_id}")
    expect(town.locator("#decide-number")).to_have_text(number)
    with town.expect_navigation():
        town.click("#do-accept")
    expect(town.locator("#decide-state")).to_have_text("办理中")
    town.click("#decide-receipt")
    expect(town.locator("#receipt-title")).to_have_text("受理通知书")
    expect(town.locator("#receipt-app-number")).to_have_text(number)
    expect(town.locator("#receipt-clerk")).to_have_text(re.compile("叶秀英"))

    # two departments' steps: the centre's 受理, then the market regulator's 审查 and 决定 准予
    centre = browsing.as_user("zxsp")
    centre.goto("/services/inbox")
    expect(centre.locator(f"#todo-table [data-application='{app_id}']")).to_contain_text(number)
    _act(centre, app_id, "pass", opinion="材料齐全，同意受理")
    market = browsing.as_user("scjg")
    market.goto("/services/inbox")
    expect(market.locator(f"#todo-table [data-application='{app_id}']")).to_be_visible()
    _act(market, app_id, "pass", opinion="经审查符合条件")
    _act(market, app_id, "pass", decision="granted", opinion="准予许可", result_number="JY13311230009876",
         valid_from="2026-12-03", valid_until="2031-12-02")  # fmt: skip
    expect(market.locator("#application-state")).to_have_text("已办结")
    expect(market.locator("#decision")).to_have_text("准予")

    # the certificate's QR code opens the public verification page on a phone: valid, the holder masked
    town.goto(f"/services/applications/{app_id}/certificate")
    expect(town.locator("#cert-status")).to_have_text("有效")
    url = _decode(town.locator(".svc-cert-qr").screenshot())
    assert town.locator("#cert-verify-link").get_attribute("href") == url
    pdf = town.request.get(f"/services/applications/{app_id}/certificate.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    phone = browsing.new_page(viewport=PHONE)
    phone.goto(urlsplit(url).path)
    expect(phone.locator("#verify-status")).to_have_text("有效")
    expect(phone.locator("#verify-number")).to_have_text("JY13311230009876")
    expect(phone.locator("#verify-holder")).to_have_text("蓝*生")
    expect(phone.locator("#verify-issuer")).to_have_text("县市场监督管理局")
    shoot(phone, "services-end-to-end-verify")

    # a named 差评 at the township window's 评价器
    town.goto(f"/services/applications/{app_id}/rate")
    town.select_option("#rate-channel", "hall_tablet")
    town.fill("#rate-rater", VILLAGER)
    town.check("#level-dissatisfied")
    town.fill("#rate-comment", "平面图要求没有提前讲清楚，多等了一天。")
    town.click("#rate-submit")
    expect(town.locator("#rate-given")).to_contain_text("不满意")
    db_path = browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as con:
        (rating_id,) = con.execute("SELECT id FROM services_rating WHERE application_id = ?", (app_id,)).fetchone()

    # the department verifies and rectifies; the supervisor revisits and closes it
    market.goto(f"/services/ratings/{rating_id}")
    expect(market.locator("#rectification-state")).to_have_text("待核实")
    market.fill("#rec-note-verify", "调阅受理记录，情况属实。")
    market.click("#rec-submit-verify")
    expect(market.locator("#rectification-state")).to_have_text("整改中")
    market.fill("#rec-note-rectify", "一次性告知清单补充平面图要求，并在乡镇便民服务中心公示。")
    market.click("#rec-submit-rectify")
    expect(market.locator("#rectification-state")).to_have_text("待回访")
    supervisor = browsing.as_user("zwfw")
    supervisor.goto(f"/services/ratings/{rating_id}")
    supervisor.fill("#rec-note-revisit", "电话回访申请人，对整改表示满意。")
    supervisor.click("#rec-submit-revisit")
    expect(supervisor.locator("#rectification-state")).to_have_text("已办结")

    # the leader's month: one more application, one more rating (not a good one), one more 差评 rectified
    after = _figures(leader)
    good_b, rated_b = before["good"]  # type: ignore[misc]
    fixed_b, bad_b = before["rectified"]  # type: ignore[misc]
    assert after == {
        "submitted": int(before["submitted"]) + 1,  # type: ignore[arg-type]
        "good": (good_b, rated_b + 1),
        "rectified": (fixed_b + 1, bad_b + 1),
    }
    shoot(leader, "services-statistics-leader")
    for page in (agent, town, centre, market, supervisor, leader, phone):
        assert page.problems.take() == []  # type: ignore[attr-defined]
