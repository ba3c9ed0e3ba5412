"""Layout of the screens people use all day: nothing drawn over anything else, nothing empty."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}

BOXES_JS = """() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const map = document.getElementById('cases-map');
  const canvas = map && map.querySelector('canvas');
  return {header: box(document.querySelector('main .toolbar')), facts: box(document.querySelector('#case-facts')),
          map: box(map), canvas: box(canvas)};
}"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def _a_case_with_a_position(browsing: Browsing) -> int:
    con = sqlite3.connect(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        return int(con.execute("SELECT id FROM case_case WHERE lon IS NOT NULL ORDER BY id LIMIT 1").fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize("viewport", [FULL_HD, PHONE], ids=["1920x1080", "phone"])
def test_case_page_map_is_beside_the_facts_not_over_the_header(browsing: Browsing, viewport: dict[str, int]) -> None:
    case_id = _a_case_with_a_position(browsing)
    page = browsing.as_user("dispatch", viewport=viewport)
    page.goto(f"/cases/{case_id}")
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function("() => document.querySelector('#cases-map canvas') !== null", timeout=10_000)
    boxes = page.evaluate(BOXES_JS)
    shoot(page, f"case-page-{viewport['width']}")
    header, facts, map_, canvas = boxes["header"], boxes["facts"], boxes["map"], boxes["canvas"]
    assert header and facts and map_ and canvas, boxes
    assert map_["w"] >= 200 and map_["h"] >= 200, boxes
    # the drawing is inside the map box (not somewhere over the page)
    assert (round(canvas["x"]), round(canvas["y"])) == (round(map_["x"] + 1), round(map_["y"] + 1)), boxes
    for a, b in ((header, map_), (header, facts), (facts, map_), (header, canvas), (facts, canvas)):
        assert not _overlap(a, b), boxes
    assert page.problems.take() == []


WIDTHS_JS = """() => {
  const doc = document.documentElement, wrap = document.querySelector('#eval-table').closest('.table-wrap');
  const r = wrap.getBoundingClientRect();
  return {page: doc.scrollWidth, screen: doc.clientWidth, wrapRight: r.right, wrapScroll: wrap.scrollWidth,
          wrapClient: wrap.clientWidth, overflow: getComputedStyle(wrap).overflowX};
}"""


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, PHONE], ids=["1366", "phone"])
def test_evaluation_table_scrolls_inside_its_box(browsing: Browsing, viewport: dict[str, int]) -> None:
    page = browsing.as_user("shift", viewport=viewport)
    page.goto("/cases/evaluation?subject=department")
    w = page.evaluate(WIDTHS_JS)
    shoot(page, f"evaluation-{viewport['width']}")
    assert w["page"] <= w["screen"] + 1, w  # the page itself is never wider than the screen
    assert w["wrapRight"] <= w["screen"] + 1, w
    assert w["overflow"] == "auto", w
    assert page.problems.take() == []
