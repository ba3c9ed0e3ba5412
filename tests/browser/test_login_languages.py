"""Logging in through the pages, in Simplified Chinese (the default) and in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from countyos.core.i18n import translations
from tests.browser.conftest import Browsing, Server, log_in

pytestmark = pytest.mark.browser
HAN = re.compile(r"[\u4e00-\u9fff]")


def zh(message: str) -> str:
    text = translations("zh_CN").gettext(message)
    assert HAN.search(text), f"{message!r} has no Chinese translation"
    return text


def test_login_page_and_shell_are_chinese_by_default(browsing: Browsing, server: Server) -> None:
    page = browsing.new_page(locale="en-US")  # the browser's language does not matter: zh-CN is the default
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("label[for=username]")).to_have_text(zh("User name"))
    expect(page.locator("label[for=password]")).to_have_text(zh("Password"))
    expect(page.locator("form[action='/login'] button[type=submit]")).to_have_text(zh("Log in"))
    expect(page.locator(".login-card .sub")).to_have_text(zh("County operations platform — log in"))
    expect(page.locator(".login-card h1")).to_contain_text("遂昌县")

    log_in(page, server, "intake")
    expect(page.locator("header.topbar")).to_contain_text(zh("Log out"))
    expect(page.locator("header.topbar .me")).to_have_text("受理员 李晓")
    nav = page.locator("nav.sidenav")
    expect(nav).not_to_contain_text(zh("Users"))  # the account list is for the administrators
    expect(nav).to_contain_text(zh("Departments"))
    body = page.inner_text("body")
    for english in ("Log out", "Users", "Departments", "My account"):
        assert english not in body, f"untranslated {english!r} on the Chinese home page"
    assert page.problems.take() == []


def test_logging_in_and_working_in_english(browsing: Browsing, server: Server) -> None:
    # A person switches to English once, while logged in; the choice is kept for the account.
    first = browsing.new_page()
    log_in(first, server, "data")
    expect(first.locator("html")).to_have_attribute("lang", "zh-CN")
    first.click("button[name=locale][value=en]")
    expect(first.locator("html")).to_have_attribute("lang", "en")
    expect(first.locator("header.topbar")).to_contain_text("Log out")
    assert first.problems.take() == []

    # Next time, in a browser without the language cookie: the login page offers English ...
    page = browsing.new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click("button[name=locale][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=username]")).to_have_text("User name")
    expect(page.locator("label[for=password]")).to_have_text("Password")
    expect(page.locator("form[action='/login'] button[type=submit]")).to_have_text("Log in")
    expect(page.locator(".login-card .sub")).to_have_text("County operations platform — log in")
    assert not HAN.search(page.inner_text("form[action='/login']")), "Chinese left in the English login form"

    # ... and after logging in the whole shell is English, the data stays as entered.
    log_in(page, server, "data")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header.topbar")).to_contain_text("Log out")
    nav = page.locator("nav.sidenav")
    expect(nav).not_to_contain_text("Users")  # the account list is for the administrators
    expect(nav).to_contain_text("Departments")
    assert zh("Log out") not in page.inner_text("header.topbar")
    page.goto("/admin/departments")
    expect(page.locator("main h1")).to_have_text("Departments")
    expect(page.locator("#departments-table")).to_contain_text("县水利局")
    expect(page.locator("#departments-table thead")).to_contain_text("Name")

    # Back to Chinese.
    page.click("button[name=locale][value=zh_CN]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("main h1")).to_have_text(zh("Departments"))
    assert page.problems.take() == []
