"""The county map in a real browser: the demo county with every layer drawn, click and search."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import browser, browsing, browsing_session, server, shoot  # noqa: F401

pytestmark = pytest.mark.browser


def _wait_ready(page) -> dict:
    page.wait_for_selector("#geo-map[data-ready='1']", timeout=60_000)
    return json.loads(page.get_attribute("#geo-map", "data-counts"))


def test_map_shows_all_layers_of_the_demo_county(browsing):  # noqa: F811
    page = browsing.as_user("leader")
    page.goto("/geo/map")
    counts = _wait_ready(page)
    assert counts["townships"] == 20 and counts["villages"] == 214
    assert counts["grids"] > 1000 and counts["components"] > 2000
    # every layer is in the style, and features of each are really drawn on the canvas
    drawn = page.evaluate("""() => {
        const m = window.countyosMap;
        const ids = ['county-line', 'townships-line', 'townships-label', 'villages-line', 'grids-fill',
                     'components'];
        const out = {};
        for (const id of ids) out[id] = m.queryRenderedFeatures({layers: [id]}).length;
        return out;
    }""")
    for layer in ("county-line", "townships-line", "villages-line", "grids-fill"):
        assert drawn[layer] > 0, (layer, drawn)
    # the demo's base layer carries the township and village names: they are not drawn twice
    assert page.get_attribute("#geo-map", "data-basemap") == "local"
    assert drawn["townships-label"] == 0
    assert page.evaluate("() => window.countyosMap.getLayoutProperty('townships-label', 'visibility')") == "none"
    path = shoot(page, "geo-map-county", docs="geo-map.png")
    assert path.stat().st_size > 50_000  # a drawn map, not a blank canvas
    # zoom into the seat of 妙高街道 (where the demo's components are densest): grid codes and
    # components appear
    seat = page.evaluate("""async () => {
        const r = await fetch('/api/v1/geo/collections/components/items?township_code=331123001&limit=1');
        return (await r.json()).features[0].geometry.coordinates;
    }""")
    page.evaluate("(c) => window.countyosMap.jumpTo({center: c, zoom: 14.5})", seat)
    page.wait_for_function("() => window.countyosMap.loaded() && !window.countyosMap.isMoving()")
    page.wait_for_timeout(500)
    close = page.evaluate("""() => {
        const m = window.countyosMap;
        return {components: m.queryRenderedFeatures({layers: ['components']}).length,
                grids: m.queryRenderedFeatures({layers: ['grids-label']}).length};
    }""")
    assert close["components"] > 0 and close["grids"] > 0, close
    shoot(page, "geo-map-zoomed")
    assert page.problems.take() == []


def test_click_shows_details_and_search_finds_a_village(browsing):  # noqa: F811
    page = browsing.as_user("data")
    page.goto("/geo/map")
    _wait_ready(page)
    box = page.locator("#geo-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    assert page.problems.take() == []
    details = page.locator("#geo-details-body")
    details.locator("dl").wait_for(timeout=10_000)
    text = details.inner_text()
    assert "331123" in text  # codes of the grid / village / township under the click
    page.fill("#geo-search-q", "妙高街道")
    page.click("#geo-search button[type=submit]")
    page.locator("#geo-results-list button").first.wait_for()
    assert "331123001" in page.locator("#geo-results-list").inner_text()
    assert page.problems.take() == []
