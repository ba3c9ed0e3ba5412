"""The system administrator (password + TOTP) creates a department and a user through the pages;
the audit administrator (password + TOTP) finds both in the audit log."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing

pytestmark = pytest.mark.browser


@dataclass
class Created:
    department_id: int
    department_name: str
    user_id: int
    username: str
    display_name: str


@pytest.fixture(scope="module")
def created(browsing_session: Browsing) -> Created:
    """Done once: the later checks look at what these pages produced."""
    tag = uuid.uuid4().hex[:6]
    dep_name = f"县大数据发展中心{tag}"
    username = f"zhang{tag}"
    display = f"张三{tag}"
    page = browsing_session.as_user("sysadmin")
    try:
        page.goto("/admin/departments")
        page.click("#new-department")
        expect(page).to_have_url(re.compile(r"/admin/departments/new$"))
        page.fill("#name", dep_name)
        page.select_option("#kind", "department")
        page.fill("#division_code", "331123")
        page.fill("#phone", "0578-8120000")
        page.click("form[action='/admin/departments/save'] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/admin/departments$"))
        expect(page.locator(".flash")).to_contain_text(dep_name)
        link = page.locator("#departments-table a", has_text=dep_name)
        expect(link).to_have_count(1)
        dep_id = int((link.get_attribute("href") or "").rsplit("/", 1)[-1])

        page.goto("/admin/users/new")
        page.fill("#username", username)
        page.fill("#display_name", display)
        page.select_option("#department_id", label=dep_name)
        page.fill("#phone", "13905780123")
        page.fill("#password", "Temp@pass2026")
        page.click("form[action='/admin/users/new'] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/admin/users/\d+$"))
        user_id = int(page.url.rsplit("/", 1)[-1])
        assert page.problems.take() == []
    finally:
        browsing_session.close()
    return Created(dep_id, dep_name, user_id, username, display)


def test_sysadmin_creates_a_department_and_a_user(browsing: Browsing, created: Created) -> None:
    page = browsing.as_user("sysadmin")
    page.goto(f"/admin/users/{created.user_id}")
    body = page.locator("main")
    expect(body).to_contain_text(created.username)
    expect(page.locator("#display_name, input[name=display_name]").first).to_have_value(created.display_name)
    expect(body).not_to_contain_text("13905780123")  # the phone is shown masked
    page.goto(f"/admin/users?q={created.username}")
    table = page.locator("main table")
    expect(table).to_contain_text(created.display_name)
    expect(table).to_contain_text(created.department_name)
    expect(table).to_contain_text("139****0123")
    page.goto(f"/admin/departments/{created.department_id}")
    expect(page.locator("#name")).to_have_value(created.department_name)
    expect(page.locator("#division_code")).to_have_value("331123")
    assert page.problems.take() == []


def test_the_new_user_must_change_the_temporary_password(browsing: Browsing, created: Created) -> None:
    page = browsing.new_page()
    page.goto("/login")
    page.fill("#username", created.username)
    page.fill("#password", "Temp@pass2026")
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/account/password$"))
    assert page.problems.take() == []


def test_auditor_sees_both_creations_in_the_audit_log(browsing: Browsing, created: Created) -> None:
    page = browsing.as_user("auditor")
    page.goto("/admin/audit")
    table = page.locator("#audit-table")
    # actions and objects by their names, never as codes ("department.create", "user 12")
    expect(table).to_contain_text("新建部门")
    expect(table).to_contain_text("新建用户")
    expect(table).not_to_contain_text("department.create")

    page.fill("input[name=action]", "department.create")
    page.click("form.filters button[type=submit]")
    row = table.locator("tbody tr", has_text=f"部门 {created.department_name}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("系统管理员 钱进")  # the actor, by name
    expect(row).to_contain_text("127.0.0.1")
    row.locator("summary").click()
    expect(row.locator("pre")).to_contain_text(created.department_name)

    page.fill("input[name=action]", "user.create")
    page.click("form.filters button[type=submit]")
    row = table.locator("tbody tr", has_text=f"用户 {created.display_name}")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("系统管理员 钱进")
    row.locator("summary").click()
    expect(row.locator("pre")).to_contain_text(created.username)

    # Nothing is hidden by the filter form: an unknown action matches no rows.
    page.fill("input[name=action]", "no.such.action")
    page.click("form.filters button[type=submit]")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td.muted")).to_have_count(1)
    assert page.problems.take() == []


def test_sysadmin_cannot_open_the_audit_log(browsing: Browsing) -> None:
    """Separation of duties (等保 2.0): the system administrator has no access to the audit."""
    page = browsing.as_user("sysadmin")
    response = page.goto("/admin/audit")
    assert response is not None and response.status == 403
    expect(page.locator("nav.sidenav a[href='/admin/audit']")).to_have_count(0)
    page.problems.take()  # the 403 itself is expected
