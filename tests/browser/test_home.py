"""The dispatcher's day in the browser: the home page shows their queues with counts that match the
lists; an urgent case reported meanwhile raises a notice (with a tone, mutable, remembered); and two
registered cases are dispatched together from the console."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing, shoot

pytestmark = pytest.mark.browser


def _count(page: Page, key: str) -> int:
    return int(page.locator(f'[data-queue="{key}"] .work-count').inner_text())


def _report_urgent(page: Page, title: str) -> dict:
    """The grid worker reports an urgent case through the API (the same page session and CSRF token)."""
    return page.evaluate(
        """async (title) => {
            const r = await fetch("/api/v1/cases", {method: "POST",
              headers: {"Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf},
              body: JSON.stringify({service_code: "M06010", lon: 119.2745, lat: 28.5925, priority: "urgent",
                                    title: title, description: "暴露垃圾堆放，影响通行"})});
            return {status: r.status, body: await r.json()};
        }""",
        title,
    )


def test_dispatcher_sees_counts_gets_the_urgent_notice_and_batch_dispatches(browsing: Browsing) -> None:
    page = browsing.as_user("dispatch")
    page.goto("/")
    expect(page.locator("#work-queues")).to_be_visible()
    expect(page.locator('[data-queue="dispatch"]')).to_be_visible()
    to_dispatch = _count(page, "dispatch")
    shoot(page, "home-dispatcher")
    # the count is the list's count
    page.click('[data-queue="dispatch"] a')
    expect(page).to_have_url(re.compile(r"/cases\?queue=registered$"))
    assert int(page.locator("#queue-registered .n").inner_text()) == to_dispatch
    rows = page.locator("#cases-table tbody tr[data-case]")
    assert rows.count() == min(to_dispatch, 50)

    # an urgent report arrives while the dispatcher is on the home page
    page.goto("/")
    expect(page.locator("body[data-alerts=ready]")).to_have_count(1, timeout=10_000)
    bell = page.locator("#alerts-mute")
    expect(bell).to_have_attribute("aria-pressed", "false")
    page.locator("h1").click()  # a gesture: the browser may now play the tone
    grid = browsing.as_user("grid")
    grid.goto("/m/report")
    made = _report_urgent(grid, "主干道垃圾堆放（紧急）")
    assert made["status"] == 201, made
    number = made["body"]["number"]
    notice = page.locator(".alert-notice", has_text=number)
    expect(notice).to_be_visible(timeout=15_000)
    shoot(page, "home-urgent-notice")
    expect(notice).to_contain_text("新的紧急案件")
    assert int(page.locator("body").get_attribute("data-alert-tone") or "0") >= 1
    # muting is remembered in this browser
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("#alerts-mute")).to_have_attribute("aria-pressed", "true", timeout=10_000)
    page.locator("#alerts-mute").click()
    expect(page.locator("#alerts-mute")).to_have_attribute("aria-pressed", "false")

    # batch: the shift leader accepts and registers both new reports at once, the dispatcher dispatches them
    second_made = _report_urgent(grid, "主干道垃圾堆放（紧急，第二处）")
    assert second_made["status"] == 201, second_made
    first, second = str(made["body"]["id"]), str(second_made["body"]["id"])
    shift = browsing.as_user("shift")
    for queue, action in (("reported", "accept"), ("accepted", "register")):
        shift.goto(f"/cases?queue={queue}")
        for cid in (first, second):
            shift.locator(f'input.batch-pick[value^="{cid}:"]').check()
        expect(shift.locator("#batch-count")).to_contain_text("2")
        shift.select_option("#batch-action", action)
        shift.click("#batch-apply")
        expect(shift.locator("#batch-results")).to_contain_text("2 件中已完成 2 件")
    page.goto("/cases?queue=registered")
    for cid in (first, second):
        page.locator(f'input.batch-pick[value^="{cid}:"]').check()
    expect(page.locator("#batch-count")).to_contain_text("2")
    page.select_option("#batch-action", "dispatch")
    page.select_option("#batch-department", label="县综合行政执法局")
    page.fill("#batch-comment", "统一交执法局处置")
    page.click("#batch-apply")
    results = page.locator("#batch-results")
    expect(results).to_be_visible()
    expect(results).to_contain_text("2 件中已完成 2 件")
    shoot(page, "console-batch-results")
    for cid in (first, second):
        expect(results.locator(f'li[data-case="{cid}"][data-ok="true"]')).to_have_count(1)
    page.goto(f"/cases/{first}")
    expect(page.locator("body")).to_contain_text("县综合行政执法局")
    assert page.problems.take() == []
    assert grid.problems.take() == []
    assert shift.problems.take() == []


def test_a_refused_form_comes_back_with_what_was_typed(browsing: Browsing) -> None:
    """A form answered with an error (here the routing table's, sent back to the same page) is filled in
    again; the generic error page of a refused form offers the way back, never 登录."""
    page = browsing.as_user("dispatch")
    page.goto("/cases/routing")
    form = page.locator("form[action='/cases/routing']")
    form.locator("select[name=department_id]").select_option(label="县水利局")
    form.locator("select[name=co_department_ids]").select_option(label="县水利局")  # refused: the same
    form.locator("input[name=township_code]").fill("331123001")
    form.locator("input[name=note]").fill("汛期由水利局牵头")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-error")).to_be_visible()
    form = page.locator("form[action='/cases/routing']")
    expect(form.locator("input[name=note]")).to_have_value("汛期由水利局牵头")
    expect(form.locator("input[name=township_code]")).to_have_value("331123001")
    # beyond a field's bound (the note's 200): the same page again, the error beside the field
    page.goto("/cases/routing")
    form = page.locator("form[action='/cases/routing']")
    form.locator("input[name=note]").evaluate("el => el.removeAttribute('maxlength')")
    form.locator("input[name=note]").fill("很长的说明" * 50)
    form.locator("input[name=township_code]").fill("331123100")
    form.locator("button[type=submit]").click()
    form = page.locator("form[action='/cases/routing']")
    expect(form.locator("input[name=township_code]")).to_have_value("331123100")
    expect(form.locator("#error-note")).to_be_visible()
    page.problems.take()  # the refused post is an HTTP 422 on purpose
    # a refusal answered by the generic error page (a field refused before the route runs): the
    # person's shell and the way back to the form, never 登录
    admin = browsing.as_user("sysadmin")
    admin.goto("/admin/users?q=dispatch")
    admin.locator("main table a[href^='/admin/users/']").first.click()
    expect(admin).to_have_url(re.compile(r"/admin/users/\d+$"))
    user_page = admin.url
    reset = admin.locator("form:has(input[name=action][value=reset_password])")
    reset.locator("input[name=password]").fill("x" * 300)
    reset.locator("button[type=submit]").click()
    expect(admin.locator("#error-card")).to_be_visible()
    expect(admin.locator(".topbar")).to_be_visible()
    expect(admin.locator("#error-card a[href='/login']")).to_have_count(0)
    admin.click("#back-to-form")
    expect(admin).to_have_url(user_page)
    admin.problems.take()
