"""The public services catalogue on a phone: search by pinyin initials → the guide, nothing off-screen,
in the standard and the large-text mode; no login."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

WIDE_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1; })
  .map(el => el.tagName + '#' + el.id + '.' + el.className).slice(0, 5)"""


def test_search_by_initials_then_read_the_guide_on_a_phone(browsing: Browsing) -> None:
    page = browsing.new_page(viewport=PHONE)
    page.goto("/services")
    expect(page.locator("#svc-q")).to_be_visible()
    page.fill("#svc-q", "nczjd")
    page.click("#svc-go")
    page.wait_for_load_state()
    results = page.locator("#svc-results a.svc-item")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("农村宅基地审批")
    assert page.evaluate(WIDE_JS) == []
    results.first.click()
    expect(page.locator("#svc-title")).to_have_text("农村宅基地审批")
    expect(page.locator("#svc-promised")).to_contain_text("20 个工作日")
    expect(page.locator("#svc-materials")).to_contain_text("村民会议决议")
    expect(page.locator("#svc-steps li")).to_have_count(3)
    expect(page.locator("#svc-consult")).to_have_text("0578-8125678")
    assert page.evaluate(WIDE_JS) == []
    shoot(page, "services-guide-phone")
    # the large-text mode keeps the same guide readable at a bigger size
    normal = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#svc-title')).fontSize)")
    page.click("#font-large")
    expect(page.locator("body.svc-large")).to_have_count(1)
    large = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#svc-title')).fontSize)")
    assert large > normal * 1.2
    assert page.evaluate(WIDE_JS) == []
    # filter by theme from the catalogue page
    page.goto("/services")
    page.select_option("#svc-theme", "社会救助")
    page.click("#svc-go")
    names = page.locator("#svc-results .svc-name").all_inner_texts()
    assert "最低生活保障审核确认" in names and "农村宅基地审批" not in names
    assert page.problems.take() == []  # type: ignore[attr-defined]
