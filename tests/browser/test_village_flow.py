"""数字乡村 from the field to the canteen, each person in their own browser: the ``farmer`` on a phone records
a 吡虫啉 spray on their greenhouse; a harvest inside its 7-day 安全间隔期 is refused beside the date (what was
typed kept); a harvest after it is saved → 开具合格证: a batch and its 承诺达标合格证 (质量安全控制), printed as a
PDF; a supply listing → the school canteen's ``buyer`` orders from it → accepted and shipped with the batch →
delivered and 入市查验 with the certificate number → the batch's QR code, read off the screen, opens the public
trace page without a login: product, producer, certificate, harvest date and the canteen, no personal data.

Everything is done on records of its own: a product of the greenhouse that the demo's own sprays leave free
(the demo sprayed 吡虫啉 on another product of it two days ago), a spray dated ten days ago, a listing with a
note of its own."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

INPUT_NAME = "吡虫啉"
INPUT_REG = "PD20040151"
INTERVAL = 7
SPRAYED_DAYS_AGO = 10  # allowed from 3 days ago
INSIDE_DAYS_AGO = 5  # 2 days short of the interval
AFTER_DAYS_AGO = 2  # a day after the interval ended
PRODUCTS = json.loads(
    (Path(__file__).resolve().parents[2] / "src/countyos/village/data/products.json").read_text("utf-8")
)["products"]
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _county_today() -> date:
    """Today in the county (Asia/Shanghai), as the server counts it."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _decode(png: bytes) -> str:
    import zxingcpp

    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def _entity_of(con: sqlite3.Connection, username: str) -> tuple[int, str, str]:
    row = con.execute(
        "SELECT e.id, e.name, e.kind FROM village_entity e JOIN village_entity_member m ON m.entity_id = e.id "
        "JOIN org_user u ON u.id = m.user_id WHERE u.username = ? ORDER BY e.id LIMIT 1",
        (username,),
    ).fetchone()
    assert row is not None, f"{username} acts for no village entity in the demo"
    return int(row[0]), str(row[1]), str(row[2])


def _free_product(con: sqlite3.Connection, base_id: int, codes: list[str], today: date) -> str:
    """A product of the base that no spray on record (the demo's) keeps from harvest from INSIDE_DAYS_AGO on,
    so that the only interval a harvest of it then meets is the test's own spray."""
    latest = today - timedelta(days=INSIDE_DAYS_AGO)
    free = []
    for code in codes:
        product = next((p for p in PRODUCTS if p["code"] == code), None)
        if product is None or product["kind"] != "crop" or product["class"] != "vegetable":
            continue  # 吡虫啉's 7 days are registered for vegetables
        rows = con.execute(
            "SELECT used_on, interval_days FROM village_record WHERE base_id = ? AND kind = 'pesticide' "
            "AND NOT voided AND interval_days IS NOT NULL AND (product_code = ? OR product_code IS NULL)",
            (base_id, code),
        ).fetchall()
        ends = [date.fromisoformat(str(u)[:10]) + timedelta(days=int(n)) for u, n in rows]
        if all(end <= latest for end in ends):
            free.append(code)
    assert free, f"every product of base {base_id} is inside a demo spray's interval"
    return free[0]


def _label(code: str) -> str:
    return next(p["zh"] for p in PRODUCTS if p["code"] == code)


def _problems(page: Page, *, expected: tuple[str, ...] = ()) -> list[str]:
    return [p for p in page.problems.take() if not any(e in p for e in expected)]  # type: ignore[attr-defined]


def test_farmer_spray_harvest_certificate_order_check_and_public_trace(browsing: Browsing) -> None:
    today = _county_today()
    sprayed = today - timedelta(days=SPRAYED_DAYS_AGO)
    inside = today - timedelta(days=INSIDE_DAYS_AGO)
    after = today - timedelta(days=AFTER_DAYS_AGO)
    db_path = browsing.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as con:
        farm_id, farm_name, farm_kind = _entity_of(con, "farmer")
        _, buyer_name, buyer_kind = _entity_of(con, "buyer")
        base_id, base_name, codes = con.execute(
            "SELECT id, name, product_codes FROM village_base WHERE entity_id = ? AND facility = 'greenhouse' "
            "AND active ORDER BY id LIMIT 1",
            (farm_id,),
        ).fetchone()
        product = _free_product(con, base_id, json.loads(codes), today)
        (input_id,) = con.execute(
            "SELECT id FROM village_input WHERE registration_no = ? AND active ORDER BY id LIMIT 1", (INPUT_REG,)
        ).fetchone()
    assert farm_kind == "family_farm" and buyer_kind == "school_canteen"
    label = _label(product)
    note = f"浏览器测试 {uuid.uuid4().hex[:8]}"

    # 1. the farmer, on a phone: 我的 → 农事记录 → the greenhouse → 用药 → 吡虫啉, ten days ago
    farmer = browsing.as_user("farmer", viewport=PHONE)
    farmer.goto("/village/my")
    expect(farmer.locator("#vp-my h1").first).to_contain_text(farm_name)
    shoot(farmer, "village-my-phone")
    farmer.click("#vp-big-buttons a[href='/village/records/new']")
    farmer.wait_for_url("**/village/records/new")
    farmer.locator("#vf-bases a", has_text=base_name).click()
    farmer.wait_for_url(f"**/village/records/new?base={base_id}")
    pesticide = farmer.locator("#vf-kinds a[data-kind=pesticide]")
    expect(pesticide).to_contain_text("用药")
    pesticide.click()
    farmer.wait_for_selector("#vf-form")
    farmer.fill("#used_on", sprayed.isoformat())
    farmer.select_option("#product_code", product)
    farmer.select_option("#input_id", str(input_id))
    expect(farmer.locator("#input_id option:checked")).to_contain_text(INPUT_NAME)
    farmer.fill("#dose", "20")
    farmer.fill("#dose_unit", "g/亩")
    shoot(farmer, "village-record-spray-phone")
    farmer.click("#vf-save")
    farmer.wait_for_url(re.compile(r"/village/records/\d+$"))
    record = farmer.locator("#vf-record")
    expect(record).to_contain_text(INPUT_NAME)
    expect(record).to_contain_text(f"{INTERVAL}")
    expect(record).to_contain_text((sprayed + timedelta(days=INTERVAL)).isoformat())
    assert farmer.locator("#vf-certify").count() == 0  # a spray is no harvest

    # 2. a harvest inside the interval is refused beside the date, what was typed kept
    farmer.goto(f"/village/records/new?base={base_id}&kind=harvest")
    expect(farmer.locator("#vf-kinds")).to_have_count(0)
    farmer.select_option("#product_code", product)
    farmer.fill("#used_on", inside.isoformat())
    farmer.fill("#quantity", "150")
    farmer.click("#vf-save")
    message = farmer.locator("#error-used_on")
    expect(message).to_be_visible()
    text = message.inner_text()
    assert INPUT_NAME in text and sprayed.isoformat() in text, text
    days = re.search(r"(\d+)\s*天", text)
    assert days is not None and int(days.group(1)) == INTERVAL - (SPRAYED_DAYS_AGO - INSIDE_DAYS_AGO), text
    expect(farmer.locator("#used_on")).to_have_value(inside.isoformat())
    expect(farmer.locator("#quantity")).to_have_value("150")
    expect(farmer.locator("#product_code")).to_have_value(product)
    expect(farmer.locator(f"#vf-interval [data-product={product}]")).to_have_attribute("data-days", days.group(1))
    shoot(farmer, "village-harvest-refused-phone")
    assert _problems(farmer, expected=("HTTP 409", "status of 409")) == []

    # 3. after the interval: saved → 开具合格证 → a batch → the 合格证 (质量安全控制) → print (PDF)
    farmer.fill("#used_on", after.isoformat())
    farmer.click("#vf-save")
    farmer.wait_for_url(re.compile(r"/village/records/\d+$"))
    harvest_id = int(farmer.url.rsplit("/", 1)[1])
    expect(farmer.locator("#vf-record")).to_contain_text(after.isoformat())
    certify = farmer.locator("#vf-certify")
    expect(certify).to_have_attribute("href", f"/village/batches/new?record={harvest_id}")
    expect(certify).to_have_text("开具合格证")
    shoot(farmer, "village-harvest-saved-phone")
    certify.click()
    farmer.wait_for_selector("#batch-from-record")
    expect(farmer.locator("#harvest_date")).to_have_value(after.isoformat())
    expect(farmer.locator("#product_code")).to_have_value(product)
    farmer.click("#batch-save")
    farmer.wait_for_url(re.compile(r"/village/batches/\d+$"))
    batch_id = int(farmer.url.rsplit("/", 1)[1])
    expect(farmer.locator("#batch-facts")).to_contain_text(label)
    farmer.select_option("#basis", "control")
    expect(farmer.locator("#basis option:checked")).to_have_text("质量安全控制")
    shoot(farmer, "village-batch-phone")
    farmer.click("#certificate-issue")
    farmer.wait_for_url(re.compile(r"/village/certificates/\d+$"))
    cert_number = farmer.locator("#cert-number").inner_text().strip()
    assert cert_number
    expect(farmer.locator("#cert-elements")).to_contain_text("质量安全控制")
    printing = farmer.locator("#cert-print")
    expect(printing).to_be_visible()
    expect(printing).to_have_text("打印")
    shoot(farmer, "village-certificate-phone")
    pdf = farmer.request.get(printing.get_attribute("href") or "")
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body().startswith(b"%PDF")

    # 4. a supply listing → the canteen orders → accepted, shipped with the batch → delivered, checked
    farmer.goto("/village/market/supply")
    farmer.select_option("#supply-form #product_code", product)
    farmer.fill("#supply-form #quantity", "100")
    farmer.fill("#supply-form #price", "6.5")
    farmer.select_option("#supply-form #base_id", str(base_id))
    farmer.fill("#supply-form #note", note)
    farmer.click("#supply-form button[type=submit]")
    farmer.wait_for_url("**/village/market/supply")
    expect(farmer.locator("#my-supply")).to_contain_text(label)
    with sqlite3.connect(db_path) as con:
        (supply_id,) = con.execute(
            "SELECT id FROM village_supply WHERE entity_id = ? AND note = ?", (farm_id, note)
        ).fetchone()

    buyer = browsing.as_user("buyer", viewport=PHONE)
    buyer.goto(f"/village/market?product={product}")
    row = buyer.locator(f"#supply-{supply_id}")
    expect(row).to_contain_text(farm_name)
    expect(row).to_contain_text("6.50")
    row.locator("summary").click()
    buyer.fill(f"#q-{supply_id}", "40")
    shoot(buyer, "village-market-order-phone")
    buyer.click(f"#order-form-{supply_id} button[type=submit]")
    buyer.wait_for_url(re.compile(r"/village/orders/\d+$"))
    order_path = urlsplit(buyer.url).path
    expect(buyer.locator("#order-state")).to_have_text("已下单")

    farmer.goto(order_path)
    farmer.click("#accept")
    farmer.wait_for_load_state()
    expect(farmer.locator("#order-state")).to_have_text("已接单")
    farmer.select_option("#batch_1", str(batch_id))
    expect(farmer.locator("#quantity_1")).to_have_value(re.compile(r"^40(\.0*)?$"))
    farmer.fill("#vehicle_plate", "浙H12345")
    farmer.click("#ship-form button[type=submit]")
    farmer.wait_for_load_state()
    expect(farmer.locator("#order-state")).to_have_text("已发货")
    shoot(farmer, "village-order-shipped-phone")

    buyer.reload()
    buyer.click("#arrive")
    buyer.wait_for_load_state()
    expect(buyer.locator("#order-state")).to_have_text("已送达")
    buyer.fill("#certificate_no", cert_number)
    buyer.check("#check-form input[name=result][value=pass]")
    buyer.click("#check-form button[type=submit]")
    buyer.wait_for_load_state()
    expect(buyer.locator("#order-state")).to_have_text("已查验合格")
    expect(buyer.locator("#check-result")).to_contain_text(cert_number)
    shoot(buyer, "village-order-checked-phone")

    # 5. the batch's QR code (the label's, shown on the producer's batch page: a buyer may not open that page),
    # read off the screen, opens the public trace page on a phone without a login
    farmer.goto(f"/village/batches/{batch_id}")
    qr = farmer.locator("#batch-qr")
    expect(qr).to_be_visible()
    url = _decode(qr.screenshot())
    path = urlsplit(url).path
    assert path.startswith("/t/") and farmer.locator("#batch-trace-link").get_attribute("href") == path
    assert buyer.locator(f"a[href='{path}']").count() == 1  # the same trace as the delivery's batch

    phone = browsing.new_page(viewport=PHONE)  # anyone, no login
    phone.goto(path)
    expect(phone.locator("#trace-product")).to_have_text(label)
    expect(phone.locator("#trace-producer")).to_contain_text(farm_name)  # a 家庭农场 is named in full
    expect(phone.locator("#trace-harvest")).to_have_text(after.isoformat())
    expect(phone.locator("#trace-certificates")).to_contain_text(cert_number)
    expect(phone.locator("#trace-flows")).to_contain_text(buyer_name)
    expect(phone.locator("#trace-records")).to_contain_text(INPUT_NAME)
    shoot(phone, "village-trace-phone")
    text = phone.inner_text("body")
    html = phone.content()
    for where in (text, html):
        assert not PHONE_RE.search(where), PHONE_RE.search(where)
        assert not ID_RE.search(where), ID_RE.search(where)
    assert phone.locator("#trace-repack").count() == 0  # no buyer's button for a stranger

    assert _problems(farmer) == []
    assert _problems(buyer) == []
    assert _problems(phone) == []
