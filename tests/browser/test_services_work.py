"""Two departments' handlers pass their steps of a 食品经营许可 application in turn from the application
page, the second deciding 准予 with a certificate number; the window delivers by 快递 with a tracking
number. Before that, the window clerk takes it through 一次性告知, 补正 and 受理 on the same page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, shoot

pytestmark = pytest.mark.browser

MATTER = "食品经营许可（新办）"


def _act(page: Page, app_id: int, action: str, **fields: str) -> None:
    """Open the action's form from its button, fill it in and send it."""
    page.goto(f"/services/applications/{app_id}")
    page.click(f"#act-{action}")
    expect(page.locator(f"#form-{action}")).to_be_visible()
    for name, value in fields.items():
        target = page.locator(f"#form-{action} [name={name}]")
        if target.evaluate("el => el.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    page.click(f"#do-{action}")
    page.wait_for_load_state()
    assert page.url.endswith(f"/services/applications/{app_id}"), page.url


def _create(page: Page) -> int:
    """A window clerk's application through the API (the intake desk is another page), materials not yet in."""
    page.goto("/")
    csrf = page.locator("body").get_attribute("data-csrf")
    assert csrf
    found = page.request.get("/api/v1/services/matters", params={"q": MATTER}).json()["items"]
    matter_id = next(m["id"] for m in found if m["name"] == MATTER)
    r = page.request.post(
        "/api/v1/services/applications",
        data={"matter_id": matter_id, "applicant_name": "丽水市大田食品店", "applicant_kind": "enterprise",
              "id_type": "uscc", "id_number": "92331125MA2E1234X1", "phone": "13905781234"},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert r.status == 201, r.text()
    return int(r.json()["id"])


def test_two_departments_pass_their_steps_then_the_window_delivers_by_express(browsing: Browsing) -> None:
    window = browsing.as_user("window")
    app_id = _create(window)
    # the window: 一次性告知 of every missing material, the materials come in, 受理
    _act(window, app_id, "request_correction", note="请补齐全部材料")
    expect(window.locator("#application-state")).to_have_text("补正中")
    expect(window.locator("#missing-materials")).to_contain_text("营业执照")
    window.goto(f"/services/applications/{app_id}")
    window.click("#act-resubmit")
    for box in window.locator("#form-resubmit input[name=materials]").all():
        box.check()
    window.click("#do-resubmit")
    window.wait_for_load_state()
    expect(window.locator("#application-state")).to_have_text("已提交，待受理")
    _act(window, app_id, "accept")
    expect(window.locator("#application-state")).to_have_text("办理中")
    expect(window.locator("#receipt-number")).to_contain_text("受字")
    number = window.locator("#application-number").inner_text()

    # the centre's handler: the application is in the department's 待办; 通过 the 受理 step
    centre = browsing.as_user("zxsp")
    centre.goto("/services/inbox")
    expect(centre.locator(f"#todo-table [data-application='{app_id}']")).to_contain_text(number)
    centre.click(f"#todo-table a:has-text('{number}')")
    expect(centre.locator("#application-number")).to_have_text(number)
    _act(centre, app_id, "pass", opinion="材料齐全，同意受理")
    expect(centre.locator("#nothing-to-do")).to_be_visible()
    centre.goto("/services/inbox?tab=done")
    expect(centre.locator(f"#done-table [data-application='{app_id}']")).to_contain_text("通过")

    # the market's handler: 审查, then 决定 with 准予 and the certificate
    market = browsing.as_user("scjg")
    market.goto("/services/inbox")
    expect(market.locator(f"#todo-table [data-application='{app_id}']")).to_be_visible()
    _act(market, app_id, "pass", opinion="经审查符合条件")
    market.goto(f"/services/applications/{app_id}")
    market.click("#act-pass")
    expect(market.locator("#form-pass [name=decision]")).to_be_visible()
    market.select_option("#form-pass [name=decision]", "granted")
    market.fill("#form-pass [name=opinion]", "准予许可")
    market.fill("#form-pass [name=result_number]", "JY13311250001234")
    market.fill("#form-pass [name=valid_from]", "2026-12-03")
    market.fill("#form-pass [name=valid_until]", "2031-12-02")
    market.click("#do-pass")
    market.wait_for_load_state()
    expect(market.locator("#application-state")).to_have_text("已办结")
    expect(market.locator("#decision")).to_have_text("准予")
    expect(market.locator("#certificate-number")).to_have_text("JY13311250001234")
    expect(market.locator("#certificate-link")).to_have_attribute(
        "href", f"/services/applications/{app_id}/certificate.pdf"
    )
    steps = market.locator("#steps tbody tr[data-status=done]")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("政务服务中心审批人员 陈敏")
    expect(steps.nth(2)).to_contain_text("市场监管局审批人员 许文")

    # the window delivers by express post with the tracking number
    window.goto(f"/services/applications/{app_id}")
    window.click("#act-deliver")
    window.select_option("#form-deliver [name=delivery]", "express")
    window.click("#do-deliver")  # no tracking number: the message beside the field, nothing changed
    window.wait_for_load_state()
    expect(window.locator("#error-deliver-tracking_number")).to_have_text("快递寄送需要填写快递单号")
    expect(window.locator("#application-state")).to_have_text("已办结")
    window.fill("#form-deliver [name=tracking_number]", "SF1234567890")
    window.click("#do-deliver")
    window.wait_for_load_state()
    expect(window.locator("#application-state")).to_have_text("已送达")
    expect(window.locator("#tracking-number")).to_have_text("SF1234567890")
    actions = window.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert actions == ["submit", "request_correction", "resubmit", "accept", "pass", "pass", "pass", "deliver"]
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", window.locator("#timeline").inner_text())
    shoot(window, "services-application-delivered")
    refused = f"/services/applications/{app_id}/act"  # the delivery sent without its tracking number
    problems = [p for p in window.problems.take() if not (refused in p and "422" in p)]  # type: ignore[attr-defined]
    assert problems == []
    for page in (centre, market):
        assert page.problems.take() == []  # type: ignore[attr-defined]
