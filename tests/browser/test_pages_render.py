"""Every page in each role's navigation renders at 1366×768 and on a phone (390×844): no script
errors, no failed requests, Chinese text in a CJK font, nothing wider than the phone screen.

Screenshots of every page go to test-artifacts/screenshots (look at them); a few go to
docs/screenshots with COUNTYOS_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

# Pages outside the navigation (forms and details), by role.
EXTRA_PAGES = {
    "sysadmin": ["/account", "/admin/users/new", "/admin/departments/new", "/admin/users/1"],
    "secadmin": ["/account"],
    "auditor": [],
    "dispatch": ["/account", "/account/tokens"],
}
# (user, path, viewport name) -> file in docs/screenshots
DOC_SHOTS = {
    ("sysadmin", "/", "desktop"): "home.png",
    ("sysadmin", "/admin/departments", "desktop"): "departments.png",
    ("auditor", "/admin/audit", "desktop"): "audit-log.png",
    ("sysadmin", "/admin/users", "phone"): "users-phone.png",
}

OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > doc.clientWidth + 1 && !el.closest('.table-wrap'))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                            (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''));
  return {scroll: doc.scrollWidth, client: doc.clientWidth, wide};
}"""

MAPS_READY_JS = "() => [...document.querySelectorAll('.maplibregl-map')].every(m => m.dataset.ready === '1')"
FONT_JS = """() => document.fonts.check('14px "Noto Sans CJK SC"', '县城运行')"""


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()).strip("-") or "home"


def _nav_links(browsing: Browsing, user: str) -> list[str]:
    page = browsing.as_user(user)
    page.goto("/")
    hrefs = page.eval_on_selector_all("nav.sidenav a[href^='/']", "els => els.map(e => e.getAttribute('href'))")
    page.context.close()
    return ["/", *dict.fromkeys(h for h in hrefs if h != "/")]


def _check_page(browsing: Browsing, user: str, path: str, viewport_name: str) -> list[str]:
    viewport = DESKTOP if viewport_name == "desktop" else PHONE
    page = browsing.as_user(user, viewport=viewport)
    problems: list[str] = []
    response = page.goto(path)
    page.evaluate("document.fonts.ready.then(() => true)")
    if page.locator(".maplibregl-map").count():
        # Maps draw after the page loaded; they set data-ready="1" once idle (the maps' own tests
        # check the drawing, this only avoids screenshots of an empty map).
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(MAPS_READY_JS, timeout=10_000)
    where = f"{user} {path} ({viewport_name})"
    if response is None or response.status != 200:
        problems.append(f"{where}: HTTP {response.status if response else 'no response'}")
    if page.url.split("?")[0].endswith("/login"):
        problems.append(f"{where}: sent back to the login page")
    if page.locator("main h1").count() == 0:
        problems.append(f"{where}: no page heading")
    if page.locator("html").get_attribute("lang") != "zh-CN":
        problems.append(f"{where}: not in Chinese")
    if not page.evaluate(FONT_JS):
        problems.append(f"{where}: no CJK font (install fonts-noto-cjk)")
    if viewport_name == "phone":
        box = page.evaluate(OVERFLOW_JS)
        if box["scroll"] > box["client"] + 1:
            problems.append(f"{where}: page is {box['scroll']} px wide on a {box['client']} px screen: {box['wide']}")
    shoot(page, f"{user}-{_slug(path)}-{viewport_name}", docs=DOC_SHOTS.get((user, path, viewport_name)))
    problems += [f"{where}: {p}" for p in page.problems.take()]
    page.context.close()
    return problems


@pytest.mark.parametrize("user", ["sysadmin", "secadmin", "auditor", "dispatch"])
def test_every_page_renders_on_desktop_and_phone(browsing: Browsing, user: str) -> None:
    paths = [*_nav_links(browsing, user), *EXTRA_PAGES[user]]
    assert len(paths) >= 2, f"{user} sees no pages in the navigation"
    problems: list[str] = []
    for path in paths:
        for viewport_name in ("desktop", "phone"):
            problems += _check_page(browsing, user, path, viewport_name)
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
