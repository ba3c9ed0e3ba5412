"""Maps in a real browser: the base layer served by CountyOS (no other origin is ever asked), the
boundaries drawn over it, and the map pick on the citizen's report form and the patrol report."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request

from tests.browser.conftest import browser, browsing, browsing_session, server, shoot  # noqa: F401

pytestmark = pytest.mark.browser


class Traffic:
    """Every request a page makes, and the answers of the tile route."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.tiles: list[tuple[int, str]] = []
        page.on("request", self._request)
        page.on("response", lambda r: self.tiles.append((r.status, r.headers.get("content-type", "")))
                if "/api/v1/geo/tiles/" in r.url else None)  # fmt: skip

    def _request(self, req: Request) -> None:
        self.urls.append(req.url)

    def foreign(self, origin: str) -> list[str]:
        web = ("http", "https", "ws", "wss")
        return [u for u in self.urls if urlsplit(u).scheme in web and not u.startswith(origin)]

    def png_tiles(self) -> int:
        return sum(1 for status, kind in self.tiles if status == 200 and kind == "image/png")


def _wait_tiles(page: Page, traffic: Traffic, at_least: int = 2) -> None:
    for _ in range(60):
        if traffic.png_tiles() >= at_least:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"no base tiles loaded: {traffic.tiles[:10]}")


def test_sensing_map_draws_base_tiles_and_boundaries_from_countyos_only(browsing, server):  # noqa: F811
    page = browsing.as_user("leader")
    traffic = Traffic(page)
    page.goto("/sensing")
    page.wait_for_selector("#sensing-map[data-boundaries]", timeout=60_000)
    counts = json.loads(page.get_attribute("#sensing-map", "data-boundaries"))
    assert counts["county"] == 1 and counts["townships"] == 20 and counts["villages"] == 214 and counts["grids"] > 1000
    assert page.get_attribute("#sensing-map", "data-basemap") == "local"
    _wait_tiles(page, traffic)
    page.wait_for_function("() => document.querySelector('#sensing-map canvas') !== null")
    drawn = page.evaluate("""() => {
        const canvas = document.querySelector('#sensing-map canvas');
        return canvas.width > 0 && canvas.height > 0;
    }""")
    assert drawn
    assert page.get_attribute("#sensing-map", "data-map-error") is None
    shoot(page, "maps-sensing-basemap")
    assert traffic.foreign(server.url) == []
    assert page.problems.take() == []


def test_every_map_uses_the_shared_base_layer(browsing, server):  # noqa: F811
    page = browsing.as_user("leader")
    traffic = Traffic(page)
    page.goto("/geo/map")
    page.wait_for_selector("#geo-map[data-ready='1']", timeout=60_000)
    assert page.get_attribute("#geo-map", "data-basemap") == "local"
    _wait_tiles(page, traffic)
    page.goto("/ioc")
    page.wait_for_selector("#ioc-map[data-boundaries]", timeout=60_000)
    assert page.get_attribute("#ioc-map", "data-basemap") == "local"
    assert json.loads(page.get_attribute("#ioc-map", "data-boundaries")) == {"villages": 214}
    assert traffic.foreign(server.url) == []
    assert page.problems.take() == []


def test_citizen_report_form_search_and_map_click_fill_the_position(browsing, server):  # noqa: F811
    page = browsing.new_page()
    traffic = Traffic(page)
    page.goto("/report")
    q = page.locator("[data-position-search]")
    q.wait_for(timeout=30_000)
    page.wait_for_selector("#report-position [data-position-map][data-ready='1']", timeout=60_000)
    _wait_tiles(page, traffic)
    assert page.input_value("#lon") == "" and page.input_value("#lat") == ""
    q.fill("石练村")
    page.locator("#report-position [role=option]").first.wait_for()
    options = page.locator("#report-position [role=option]")
    assert "石练村委会" in options.first.inner_text() and "石练镇" in options.first.inner_text()
    q.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    q.press("Enter")  # chooses the result; never submits the form
    assert page.url.endswith("/report")
    lon, lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
    assert 118.7 < lon < 119.6 and 28.1 < lat < 28.9
    assert page.input_value("#address") == "石练镇石练村委会"
    found = page.evaluate(
        "async ([x, y]) => (await (await fetch(`/api/v1/geo/search?q=石练村`)).json())[0]", [lon, lat]
    )
    assert (round(found["lon"], 6), round(found["lat"], 6)) == (lon, lat)
    # a click on the map moves the position there
    box = page.locator("#report-position [data-position-map]").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    page.wait_for_function("() => document.querySelector('#report-position').dataset.picked !== undefined")
    page.wait_for_function(f"() => document.querySelector('#lon').value !== '{lon:.6f}'")
    lon2, lat2 = float(page.input_value("#lon")), float(page.input_value("#lat"))
    assert (lon2, lat2) != (lon, lat) and 118.5 < lon2 < 119.8 and 28.0 < lat2 < 29.0
    assert page.get_attribute("#report-position [data-position-map]", "data-map-error") is None
    shoot(page, "maps-report-pick")
    assert traffic.foreign(server.url) == []
    assert page.problems.take() == []


def test_patrol_report_on_a_phone_has_the_map_pick(browsing, server):  # noqa: F811
    from tests.browser.conftest import PHONE

    page = browsing.as_user("grid", viewport=PHONE)
    page.goto("/m/report")
    page.wait_for_selector("#m-position [data-position-map][data-ready='1']", timeout=60_000)
    page.select_option("#m-crs", "gcj02")
    q = page.locator("#m-position [data-position-search]")
    q.fill("妙高街道")
    page.locator("#m-position [role=option]").first.wait_for()
    page.locator("#m-position [role=option]").first.click()
    assert float(page.input_value("#m-lon")) > 118 and page.input_value("#m-address") == "妙高街道"
    assert page.input_value("#m-crs") == "wgs84"  # the map pick writes WGS-84
    assert page.problems.take() == []


def test_case_page_correct_position_form_has_the_map_pick(browsing, server):  # noqa: F811
    import sqlite3

    db_path = server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as con:
        (case_id,) = con.execute("SELECT id FROM case_case WHERE state = 'accepted' ORDER BY id LIMIT 1").fetchone()
    page = browsing.as_user("dispatch")
    page.goto(f"/cases/{case_id}?act=relocate")  # the correct-position form open inline
    form = page.locator("#form-relocate form[data-position-pick]")
    form.locator("[data-position-map][data-ready='1']").wait_for(timeout=60_000)
    assert form.locator("[data-position-map]").bounding_box()["height"] > 150  # sized although made closed
    q = form.locator("[data-position-search]")
    q.fill("妙高街道")
    form.locator("[role=option]").first.wait_for()
    q.press("Enter")
    assert float(form.locator("[name=lon]").input_value()) > 118.6
    assert float(form.locator("[name=lat]").input_value()) > 28.2
    assert page.problems.take() == []
