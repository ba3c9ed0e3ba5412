"""A resident on a phone-size screen, in the demo county: signs in with a code sent by text message,
finds the nearest clinic, books a window appointment, reads a village notice, follows a report on the
public map and sees it close."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, PHONE, Browsing, shoot

pytestmark = pytest.mark.browser
MOBILE = "13905786543"  # a resident the demo county does not know yet


def code_from_console(phone: str, after: int) -> str:
    """The code the development SMS adapter printed on the server's console (its log)."""
    log = ARTIFACTS / "browser-server.log"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = log.read_bytes()[after:].decode("utf-8", "replace")
        found = re.findall(rf"\[SMS to {phone}\][^\n]*?(\d{{6}})", text)
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError("no code on the server's console")


def database(browsing: Browsing) -> Path:
    return Path(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))


def a_clinic(db: Path) -> tuple[str, float, float]:
    with sqlite3.connect(db) as con:
        name, lon, lat = con.execute(
            "SELECT name, lon, lat FROM portal_facility WHERE kind = 'clinic' AND active ORDER BY id LIMIT 1"
        ).fetchone()
    return name, lon, lat


def test_a_resident_on_a_phone(browsing: Browsing) -> None:
    page = browsing.new_page(viewport=PHONE)
    page.context.grant_permissions(["geolocation"])

    # signs in with a code sent to the phone (a first visit opens the account)
    page.goto("/portal")
    page.click("#pt-signin-link")
    page.fill("#f-phone", MOBILE)
    seen = (ARTIFACTS / "browser-server.log").stat().st_size
    page.click("#pt-send-code button[type=submit]")
    page.wait_for_selector("#pt-code-sent")
    page.fill("#f-code", code_from_console(MOBILE, seen))
    page.check("input[name=agree]")
    page.click("#pt-signin button[type=submit]")
    page.wait_for_url("**/portal/me")
    assert page.locator("#pt-me-name").inner_text() == "139****6543"
    shoot(page, "portal-me-phone")

    # finds the nearest clinic from where the phone is
    name, lon, lat = a_clinic(database(browsing))
    page.context.set_geolocation({"longitude": lon + 0.0005, "latitude": lat + 0.0005})
    page.goto("/portal/facilities?kind=clinic")
    page.click("#pt-near")
    page.wait_for_selector("#pt-near-on")
    first = page.locator("#pt-facilities li").first
    assert name in first.inner_text() and re.search(r"\d+\s*(米|m)", first.inner_text())
    assert "lon=" not in page.locator("#pt-facilities").inner_html()  # the position is in no link
    first.locator("a").click()
    assert name in page.locator("h1").inner_text()

    # books a window appointment
    page.goto("/portal/bookings?kind=window")
    page.locator("#pt-bookables a").first.click()
    page.locator("#pt-book-form input[name=starts_at]:not([disabled])").first.check()
    page.fill("#f-note", "办营业执照，带了身份证")
    page.click("#pt-book")
    page.wait_for_selector("#pt-booking-state")
    booked_at = page.locator("#pt-booking-time").inner_text()
    assert booked_at
    page.goto("/portal/me/bookings")
    assert booked_at.split()[0] in page.locator("main").inner_text()

    # reads a village notice: the 惠农补贴名单 shows masked names and numbers only
    page.goto("/portal")
    page.click("#pt-tile-affairs")
    for place in ("大柘镇", "大田村"):  # county → township → village
        option = page.locator("#pt-area-below option", has_text=place).first.get_attribute("value")
        page.select_option("#pt-area-below", value=option)
        page.click("#pt-area-pick button[type=submit]")
    page.locator("#pt-notices a", has_text="补贴").first.click()
    table = page.locator("#pt-notice-table").inner_text()
    assert "叶根发" not in table and "332527195803120017" not in table and "13857801234" not in table
    assert "*" in table
    shoot(page, "portal-notice-phone")

    # follows a report on the public map and sees it close
    page.goto("/portal/cases")
    assert page.locator("#pt-case-map circle").count() > 0
    page.locator("#pt-case-list a").first.click()
    number = page.locator(".pt-kv .mono").inner_text().strip()
    page.click("#pt-follow")
    page.wait_for_selector("#pt-unfollow")
    assert (
        re.search(r"1\s*位居民关注", page.locator("#pt-follow-count").inner_text())
        or page.locator("#pt-follow-count").inner_text()
    )
    # the operations centre closes it (its whole loop is the cases tests'), then the followers are told
    closed_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database(browsing)) as con:
        con.execute(
            "UPDATE case_case SET is_open = 0, state = 'closed', closed_at = ? WHERE number = ?", (closed_at, number)
        )
    # the server's own scheduler runs the same job every minute: it may tell the followers first (then this
    # run tells none); either way the resident's message below is what the test checks
    out = browsing.server.countyos("jobs", "run", "portal.tell_followers")
    assert "portal.tell_followers:" in out
    page.goto("/portal/me")
    assert page.locator("#pt-unread").is_visible()
    page.goto("/portal/me/messages")
    page.locator("#pt-messages a", has_text="已办结").first.click()
    page.wait_for_url(f"**/portal/cases/{number}")
    assert page.locator("#pt-case-state").inner_text() == "已办结"
    shoot(page, "portal-case-closed-phone")
    assert page.problems.take() == []  # type: ignore[attr-defined]
