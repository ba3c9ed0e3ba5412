"""The demo resident on a phone: finds a matter by its pinyin initials, applies online with a photo,
then follows it in 我的办件 with its timeline — nothing off-screen, in the standard and large text."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

WIDE_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1; })
  .map(el => el.tagName + '#' + el.id + '.' + el.className).slice(0, 5)"""


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def test_a_resident_applies_with_a_photo_and_follows_it(browsing: Browsing) -> None:
    page = browsing.as_user("resident", viewport=PHONE)
    page.goto("/")
    expect(page.locator("a[href='/services/my']").first).to_be_attached()  # 我的办件 in the menu
    page.goto("/services/my")
    before = page.locator("#svc-my-list li").count()
    assert before >= 2  # the demo's own applications, one waiting for corrections
    expect(page.locator("#svc-my-list")).to_contain_text("上传所缺材料并补正提交")
    # find the matter by its pinyin initials
    page.goto("/services")
    page.fill("#svc-q", "jjknlnrylfwbt")
    page.click("#svc-go")
    page.wait_for_load_state()
    results = page.locator("#svc-results a.svc-item")
    expect(results).to_have_count(1)
    results.first.click()
    expect(page.locator("#svc-title")).to_have_text("经济困难老年人养老服务补贴")
    page.click("#svc-apply")
    expect(page.locator("#svc-apply-form")).to_be_visible()
    expect(page.locator("#applicant_name")).to_have_value("张秀英")  # from the account
    assert page.evaluate(WIDE_JS) == []
    # a refused form keeps what was typed
    page.fill("#id_number", "33112319580315002X")
    page.fill("#address", "遂昌县大柘镇大田村 18 号")
    first = page.locator(".svc-upload").first
    material = first.get_attribute("data-material")
    page.set_input_files(f"#camera-{material}", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg",
                                                        "buffer": _photo()}])  # fmt: skip
    page.click("#svc-submit")
    expect(page.locator("#error-declare")).to_have_text("请勾选承诺后再提交")
    expect(page.locator("#address")).to_have_value("遂昌县大柘镇大田村 18 号")
    shoot(page, "services-apply-refused-phone")
    refused = page.problems.take()  # type: ignore[attr-defined]
    assert refused and all("422" in p for p in refused), refused  # the refused form itself, nothing else
    page.set_input_files(f"#camera-{material}", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg",
                                                        "buffer": _photo()}])  # fmt: skip
    page.check("#declare")
    page.click("#svc-submit")
    page.wait_for_load_state()
    expect(page.locator("#svc-flash")).to_contain_text("已提交")
    expect(page.locator("#svc-state")).to_have_text("已提交，待受理")
    expect(page.locator("#svc-materials")).to_contain_text("已收")
    expect(page.locator("#svc-timeline li")).to_have_count(1)
    expect(page.locator("#svc-timeline")).to_contain_text("本人")
    assert page.evaluate(WIDE_JS) == []
    shoot(page, "services-my-application-phone")
    number = page.locator("#svc-number").inner_text()
    # 我的办件 lists it first with what happens next
    page.click("#svc-my-link")
    expect(page.locator("#svc-my-list li")).to_have_count(before + 1)
    expect(page.locator("#svc-my-list li").first).to_contain_text(number)
    expect(page.locator("#svc-my-list li").first).to_contain_text("等待窗口审核受理")
    # the large-text mode
    page.click("#font-large")
    expect(page.locator("body.svc-large")).to_have_count(1)
    assert page.evaluate(WIDE_JS) == []
    page.locator("#svc-my-list a.svc-item").first.click()
    expect(page.locator("body.svc-large")).to_have_count(1)
    expect(page.locator("#svc-number")).to_have_text(number)
    assert page.problems.take() == []  # type: ignore[attr-defined]
