"""The case page in a real browser: the header, map, facts and photos never overlap (1920×1080 and a
phone), a keyboard shortcut opens the dispatch form inline (never while typing), and the handler's
feedback photo — refused first because the category needs one — appears beside the report's photo."""

from __future__ import annotations

import contextlib
import io
import re
import sqlite3
from collections.abc import Iterator

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
BOXES_JS = """() => {
  const box = (sel) => { const el = document.querySelector(sel); if (!el) return null;
    const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  return {header: box('#case-header'), map: box('#cases-map'), facts: box('#case-facts'), photos: box('#case-photos'),
          canvas: box('#cases-map canvas')};
}"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


def _jpeg(colour: tuple[int, int, int], *, gps: tuple[float, float] | None = None) -> bytes:
    im = Image.new("RGB", (640, 480), colour)
    exif = im.getexif()
    if gps:
        lon, lat = gps
        dms = lambda v: (float(int(v)), float(int(v * 60 % 60)), round(v * 3600 % 60, 2))  # noqa: E731
        exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _db(browsing: Browsing) -> sqlite3.Connection:
    return sqlite3.connect(browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///"))


def _set_photo_rule(browsing: Browsing, cat_id: int, required: bool) -> None:
    """On the category page, as the shift leader (who configures categories)."""
    page = browsing.as_user("shift")
    page.goto(f"/cases/categories/{cat_id}")
    page.set_checked("#feedback_photo_required", required)
    page.click("#category-form button[type=submit]")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#feedback_photo_required")).to_be_checked(checked=required)
    page.context.close()


@pytest.fixture
def photo_rule(browsing: Browsing) -> Iterator[tuple[int, float, float]]:
    """The garbage category (执法局) needs a photo at feedback while the test runs; a place for the case."""
    con = _db(browsing)
    try:
        cat_id = con.execute("SELECT id FROM case_category WHERE kind = 'matter' AND code = '06010'").fetchone()[0]
        lon, lat = con.execute(
            "SELECT lon, lat FROM geo_component WHERE township_name = '妙高街道' AND class_code = '03005' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    _set_photo_rule(browsing, cat_id, True)
    try:
        yield cat_id, lon, lat
    finally:
        _set_photo_rule(browsing, cat_id, False)


def _report_with_photo(page: Page, cat_id: int, lon: float, lat: float) -> int:
    """The grid worker's report through the API (as the phone's offline queue sends it), with a photo."""
    page.goto("/m/report")
    csrf = page.evaluate("document.body.dataset.csrf")
    up = page.request.post(
        "/api/v1/case-attachments",
        multipart={
            "file": {"name": "before.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((180, 40, 40), gps=(lon, lat))}
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert up.status == 201, up.text()
    body = {
        "category_id": cat_id,
        "description": "路边垃圾成堆",
        "lon": lon,
        "lat": lat,
        "attachment_ids": [up.json()["id"]],
    }
    r = page.request.post("/api/v1/cases", data=body, headers={"X-CSRF-Token": csrf})
    assert r.status == 201, r.text()
    return int(r.json()["id"])


def _act(page: Page, case_id: int, action: str) -> None:
    page.goto(f"/cases/{case_id}")
    if page.locator(f"#do-{action}").is_hidden():
        page.click(f"#act-{action}")
    page.click(f"#do-{action}")
    expect(page.locator(".flash")).to_be_visible()
    assert "flash-error" not in (page.locator(".flash").first.get_attribute("class") or "")


def _boxes_apart(page: Page) -> dict[str, dict[str, float]]:
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function("() => document.querySelector('#cases-map canvas') !== null", timeout=10_000)
    boxes = page.evaluate(BOXES_JS)
    header, map_, facts, photos = boxes["header"], boxes["map"], boxes["facts"], boxes["photos"]
    assert header and map_ and facts and photos, boxes
    assert map_["w"] >= 200 and map_["h"] >= 200, boxes
    for a, b in ((header, map_), (header, facts), (header, photos), (facts, map_), (photos, map_), (facts, photos)):
        assert not _overlap(a, b), boxes
    return boxes


def test_case_page_shortcuts_and_before_after_photos(browsing: Browsing, photo_rule) -> None:
    cat_id, lon, lat = photo_rule
    grid = browsing.as_user("grid", viewport=PHONE)
    case_id = _report_with_photo(grid, cat_id, lon, lat)
    _act(browsing.as_user("intake"), case_id, "accept")
    _act(browsing.as_user("shift"), case_id, "register")

    # the dispatcher at 1920×1080: nothing overlaps; D opens the dispatch form inline, not while typing
    dispatcher = browsing.as_user("dispatch", viewport=FULL_HD)
    dispatcher.goto(f"/cases/{case_id}")
    _boxes_apart(dispatcher)
    expect(dispatcher.locator("#evidence-before img")).to_have_count(1)
    expect(dispatcher.locator("#shortcut-hint")).to_contain_text("D")
    dispatcher.keyboard.press("Escape")
    expect(dispatcher.locator("#form-dispatch")).to_be_hidden()
    dispatcher.locator("#act-comment").click()
    dispatcher.locator("#comment-comment").fill("")
    dispatcher.locator("#comment-comment").press("d")  # typing a "d" in a field
    expect(dispatcher.locator("#form-dispatch")).to_be_hidden()
    expect(dispatcher.locator("#comment-comment")).to_have_value("d")
    dispatcher.locator("#comment-comment").blur()
    dispatcher.keyboard.press("?")
    expect(dispatcher.locator("#shortcut-help")).to_be_visible()
    dispatcher.keyboard.press("Escape")
    expect(dispatcher.locator("#shortcut-help")).to_be_hidden()
    url = dispatcher.url
    dispatcher.keyboard.press("d")
    expect(dispatcher.locator("#form-dispatch")).to_be_visible()
    expect(dispatcher.locator("#form-comment")).to_be_hidden()
    expect(dispatcher.locator("#act-dispatch")).to_have_attribute("aria-expanded", "true")
    assert dispatcher.url == url  # inline: no page jump
    dispatcher.click("#do-dispatch")
    expect(dispatcher.locator(".flash")).to_contain_text("已派遣")

    # the handler: the feedback without a photo is refused beside the photo field, with the comment kept
    handler = browsing.as_user("zfj", viewport=PHONE)
    handler.context.grant_permissions(["geolocation"], origin=browsing.server.url)
    handler.context.set_geolocation({"longitude": lon + 0.0001, "latitude": lat, "accuracy": 9})
    _act(handler, case_id, "sign")
    if handler.locator("#do-feedback").is_hidden():
        handler.click("#act-feedback")
    expect(handler.locator("#needs-photo-feedback")).to_be_visible()
    handler.fill("#comment-feedback", "垃圾已清运")
    handler.click("#do-feedback")
    expect(handler.locator("#error-feedback-photos")).to_be_visible()
    expect(handler.locator("#comment-feedback")).to_have_value("垃圾已清运")
    handler.set_input_files(
        "#photos-feedback", files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((40, 160, 60))}]
    )
    expect(handler.locator("#photo-status-feedback")).to_contain_text("±9", timeout=10_000)
    handler.click("#do-feedback")
    expect(handler.locator(".flash")).to_contain_text(re.compile("已处置|待核查"))
    expect(handler.locator("#evidence-before img")).to_have_count(1)
    expect(handler.locator("#evidence-after img")).to_have_count(1)
    expect(handler.locator("#evidence-after figcaption")).to_contain_text("手机定位")
    _boxes_apart(handler)
    shoot(handler, "case-page-390")

    # at 1920×1080 the photos stand side by side: before on the left, after on the right
    dispatcher.goto(f"/cases/{case_id}")
    boxes = _boxes_apart(dispatcher)
    before = dispatcher.locator("#evidence-before").bounding_box()
    after = dispatcher.locator("#evidence-after").bounding_box()
    assert before and after and before["x"] + before["width"] <= after["x"] and abs(before["y"] - after["y"]) < 2
    dispatcher.wait_for_function("() => [...document.querySelectorAll('#case-photos img')].every((i) => i.complete)")
    shoot(dispatcher, "case-page", docs="case-page.png")
    assert boxes["canvas"], boxes
    for p in (grid, dispatcher, handler):
        problems = [x for x in p.problems.take() if "422" not in x]  # the refused feedback, on purpose
        assert problems == []
