"""A certificate's QR code, read off the screen, opens its verification page on a phone: valid; the
window clerk revokes it and the same code then says revoked. The printed PDF carries the same code."""

from __future__ import annotations

import io
import sqlite3
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

WIDE_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1; })
  .map(el => el.tagName + '#' + el.id + '.' + el.className).slice(0, 5)"""


def _decode(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def test_scan_the_certificate_verify_on_a_phone_revoke_and_verify_again(browsing: Browsing) -> None:
    db_path = browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as con:
        (app_id,) = con.execute(
            "SELECT application_id FROM services_certificate WHERE number = 'JY13311250000001'"
        ).fetchone()
    staff = browsing.as_user("window")
    staff.goto(f"/services/applications/{app_id}/certificate")
    expect(staff.locator("#cert-status")).to_have_text("有效")
    expect(staff.locator("#cert-number")).to_have_text("JY13311250000001")
    url = _decode(staff.locator(".svc-cert-qr").screenshot())
    path = urlsplit(url).path
    assert path.startswith("/services/verify/") and staff.locator("#cert-verify-link").get_attribute("href") == url
    # the PDF of the same certificate
    pdf = staff.request.get(f"/services/applications/{app_id}/certificate.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    phone = browsing.new_page(viewport=PHONE)  # anyone, no login
    phone.goto(path)
    expect(phone.locator("#verify-status")).to_have_text("有效")
    expect(phone.locator("#verify-name")).to_have_text("食品经营许可证")
    expect(phone.locator("#verify-holder")).to_have_text("演示县****食品店")
    expect(phone.locator("#verify-issuer")).to_have_text("县市场监督管理局")
    assert phone.evaluate(WIDE_JS) == []
    shoot(phone, "services-verify-phone")

    staff.fill("#cert-revoke-form textarea[name=reason]", "经营场所已变更，原证照作废")
    staff.click("#cert-revoke")
    staff.wait_for_load_state()
    expect(staff.locator("#cert-status")).to_have_text("已撤销")
    expect(staff.locator("#cert-revoked-reason")).to_have_text("经营场所已变更，原证照作废")

    phone.reload()
    expect(phone.locator("#verify-status")).to_have_text("已撤销")
    expect(phone.locator("#verify-revoked")).to_be_visible()
    assert "经营场所已变更" not in phone.content()
    assert staff.problems.take() == []  # type: ignore[attr-defined]
    assert phone.problems.take() == []  # type: ignore[attr-defined]
