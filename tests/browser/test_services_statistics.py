"""The leader's service statistics in Chromium on the demo county's year of applications: the trend
chart renders, a number's link opens exactly that many applications, a township grouping, and the
operations view's 一网通办 tiles open their lists."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing, shoot

pytestmark = pytest.mark.browser


def test_statistics_chart_and_a_number_opening_its_applications(browsing: Browsing) -> None:
    page = browsing.as_user("leader")
    page.goto("/services/statistics")
    expect(page.locator("h1")).to_contain_text("政务服务统计")
    page.select_option("select[name=period]", "year")
    page.click("#stats-filter button[type=submit]")
    page.wait_for_load_state()
    chart = page.locator("#stats-chart")
    expect(chart).to_have_attribute("data-rendered", "1")
    expect(chart.locator("canvas")).to_have_count(1)
    box = chart.bounding_box()
    assert box is not None and box["height"] > 200 and box["width"] > 400
    # the year's total and the sum of the department rows agree
    total = int(page.locator("#stats-total a[data-figure=submitted]").inner_text())
    rows = [int(x) for x in page.locator("#stats-table tbody a[data-figure=submitted]").all_inner_texts()]
    assert total > 500 and sum(rows) == total
    expect(page.locator("#stats-total a[data-figure=on_time_rate]")).to_have_text(re.compile(r"\d+\.\d%"))
    shoot(page, "services-statistics")
    # a department's number opens exactly its applications
    first = page.locator("#stats-table tbody a[data-figure=submitted]").first
    n = int(first.inner_text())
    first.click()
    page.wait_for_load_state()
    expect(page.locator("#records-total")).to_have_text(str(n))
    expect(page.locator("#records-table tbody tr[data-id]")).to_have_count(min(n, 50))
    # a row opens the application's own page link
    href = page.locator("#records-table tbody tr[data-id] a").first.get_attribute("href")
    assert href is not None and re.fullmatch(r"/services/applications/\d+", href)
    # by township: the townships' windows and their villages' agents
    page.goto("/services/statistics?period=year&by=township")
    expect(page.locator("#stats-table tbody")).to_contain_text("大柘镇人民政府")
    expect(page.locator("#stats-table tbody")).to_contain_text("县政务服务中心和网上申请")
    town = page.locator("#stats-table tbody tr", has_text="大柘镇人民政府").locator("a[data-figure=submitted]")
    n_town = int(town.inner_text())
    assert n_town > 0
    # the operations view's township filter counts the same applications (its window and villages' agents)
    page.goto("/ioc")
    code = page.locator("select[name=township] option", has_text="大柘镇").first.get_attribute("value")
    assert code
    page.goto(f"/ioc/list?source=applications&measure=submitted&period=year&township={code}")
    expect(page.locator("#ioc-list-total")).to_have_text(str(n_town))
    assert page.problems.take() == []  # type: ignore[attr-defined]


def test_operations_view_service_tiles_open_their_lists(browsing: Browsing) -> None:
    page = browsing.as_user("leader")
    page.goto("/ioc")
    tile = page.locator("#tile-applications_open")
    expect(tile).to_be_visible()
    n = int(tile.locator("[data-value]").inner_text())
    assert n > 0
    expect(page.locator("#tile-applications_immediate [data-value]")).to_have_text(re.compile(r"\d+\.\d%|—"))
    tile.click()
    page.wait_for_load_state()
    expect(page.locator("#ioc-list-total")).to_have_text(str(n))
    expect(page.locator("#ioc-list")).to_have_attribute("data-source", "applications")
    assert page.problems.take() == []  # type: ignore[attr-defined]
