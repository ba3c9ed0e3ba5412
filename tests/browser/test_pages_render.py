"""Every page in each role's navigation renders at 1366×768 and on a phone (390×844): no script
errors, no failed requests, Chinese text in a CJK font, nothing wider than the phone screen.

The pages of the accounts in ``tests.browser.walk.RENDERED`` are checked by the page walk (one walk
per session, shared with ``test_page_walk.py``): on the desktop while the walk has the page open in
Chinese, on the phone right after that account's walk. Screenshots of every page go to
test-artifacts/screenshots (look at them); a few go to docs/screenshots with
COUNTYOS_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Browsing, Server, shoot
from tests.browser.walk import FONT_JS, OVERFLOW_JS, RENDERED, walk_every_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("user", list(RENDERED))
def test_every_page_renders_on_desktop_and_phone(browsing_session: Browsing, server: Server, user: str) -> None:
    walk, _routes = walk_every_page(browsing_session, server)
    paths = walk.render_paths[user]
    assert len(paths) >= 2, f"{user} sees no pages in the navigation"
    problems = walk.rendered[user]
    assert problems == [], "\n".join(problems)


def test_login_page_renders_on_desktop_and_phone(browsing: Browsing) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browsing.new_page(viewport=viewport)
        page.goto("/login")
        expect(page.locator("#username")).to_be_visible()
        expect(page.locator("#password")).to_be_visible()
        assert page.evaluate(FONT_JS), "no CJK font"
        box = page.evaluate(OVERFLOW_JS)
        assert box["scroll"] <= box["client"] + 1, box
        shoot(page, f"login-{name}", docs="login.png" if name == "desktop" else None, docs_around=".login-card")
        assert page.problems.take() == []


def test_phone_navigation_opens_from_the_menu_button(browsing: Browsing) -> None:
    page = browsing.as_user("sysadmin", viewport=PHONE)
    page.goto("/")
    link = page.locator("nav.sidenav a[href='/admin/departments']")
    expect(page.locator("button.nav-toggle")).to_be_visible()
    expect(link).not_to_be_in_viewport()
    page.click("button.nav-toggle")
    expect(link).to_be_in_viewport()
    link.click()
    expect(page).to_have_url(re.compile(r"/admin/departments$"))
    assert page.problems.take() == []
