"""The wall screen (大屏) at 1920×1080: a display, not a desk — no filter controls; header, tiles,
map, charts and rankings side by side without overlapping; every tile's words fit or wrap; the
clock reads the same before and after a live update. Screenshot: docs/screenshots/wall.png
(with COUNTYOS_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsing, shoot

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
CLOCK = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")

LAYOUT_JS = """() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height}; };
  const q = (s) => document.querySelector(s);
  const tiles = [...document.querySelectorAll('.ioc-tile')].map(t => ({
    code: t.dataset.code, sw: t.scrollWidth, cw: t.clientWidth, sh: t.scrollHeight, ch: t.clientHeight,
    parts: [...t.children].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.className)}));
  const doc = document.documentElement;
  return {header: box(q('.ioc-toolbar')), tiles: box(q('#ioc-tiles')), map: box(q('#ioc-map')),
          charts: box(q('.ioc-charts')), rankings: box(q('.ioc-rankings')), side: box(q('.ioc-side')),
          each: tiles, page: {sw: doc.scrollWidth, cw: doc.clientWidth, sh: doc.scrollHeight, ch: doc.clientHeight}};
}"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 1
        and b["x"] < a["x"] + a["w"] - 1
        and a["y"] < b["y"] + b["h"] - 1
        and b["y"] < a["y"] + a["h"] - 1
    )


def _citizen_reports(browsing: Browsing) -> None:
    """The public report form, filled as a citizen does (the position set as the map pick sets it)."""
    citizen = browsing.new_page()
    citizen.goto("/report")
    citizen.select_option("#category_id", index=1)
    citizen.fill("#description", "井盖松动，行人绊倒风险")
    citizen.evaluate(
        "() => { for (const [k, v] of [['lon', '119.2745'], ['lat', '28.5924']]) "
        "document.querySelector(`#report-form [name=${k}]`).value = v; }"
    )
    citizen.click("#report-submit")
    citizen.wait_for_load_state()
    assert "/r/" in citizen.url, citizen.url
    citizen.context.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_wall_screen_at_full_hd(browsing: Browsing, lang: str) -> None:
    page = browsing.as_user("leader", viewport=FULL_HD)
    page.goto(f"/ioc/wall?lang={lang}")
    root = page.locator("#ioc")
    # map, charts and rankings drawn, the live feed connected
    page.wait_for_function("() => document.getElementById('ioc').dataset.ready === '1'", timeout=20_000)
    expect(root).to_have_attribute("data-live", "1", timeout=20_000)

    # a display: no filter controls (they are on the desk view), no menus
    expect(page.locator("#ioc-filters")).to_have_count(0)
    expect(root.locator("select, input[type=date], button[type=submit]")).to_have_count(0)
    expect(page.locator("nav.sidenav")).not_to_be_visible()

    layout = page.evaluate(LAYOUT_JS)
    shoot(page, f"wall-{lang}", docs="wall.png" if lang == "zh_CN" else None)
    parts = {k: layout[k] for k in ("header", "tiles", "map", "charts", "rankings", "side")}
    assert all(parts.values()), parts
    names = list(parts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not _overlap(parts[a], parts[b]), f"{a} and {b} overlap: {parts}"
    assert parts["map"]["w"] >= 600 and parts["map"]["h"] >= 300, parts
    page_box = layout["page"]
    assert page_box["sw"] <= page_box["cw"] and page_box["sh"] <= page_box["ch"], page_box  # one screen
    cut = [t for t in layout["each"] if t["sw"] > t["cw"] or t["sh"] > t["ch"] or t["parts"]]
    assert len(layout["each"]) >= 8 and cut == [], cut

    # the clock: the county's time, one format before and after live updates
    clock = page.locator("#ioc-clock")
    first = clock.inner_text()
    assert CLOCK.fullmatch(first), first
    # a citizen reports a problem: it arrives live, and the page re-reads every tile (and the clock)
    _citizen_reports(browsing)
    expect(page.locator("#ioc-feed .ioc-feed-item").first).to_be_visible(timeout=30_000)
    page.wait_for_function("() => Number(document.getElementById('ioc').dataset.refreshed || 0) >= 1", timeout=30_000)
    feed_time = page.locator("#ioc-feed .ioc-feed-item .time").first.inner_text()
    assert re.fullmatch(r"\d{2}:\d{2}", feed_time), feed_time
    assert CLOCK.fullmatch(clock.inner_text()), clock.inner_text()
    assert page.problems.take() == []
