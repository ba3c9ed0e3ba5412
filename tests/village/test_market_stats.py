"""Output and sales: each figure equals the sum of the records it opens (orders through the API with the
row's own query, batches on the drill-down page); the output value follows the stated definition."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from tests.village import market_helpers
from tests.village.market_helpers import API, Caller, order_from, supply

market_world_baseline = market_helpers.market_world_baseline  # fixtures
world = market_helpers.world


def _sell(farmer: Caller, buyer: Caller, supply_id: int, quantity: float, batch_id: int, cert: str, result: str):
    o = order_from(buyer, supply_id, quantity)
    assert farmer.post(f"{API}/orders/{o['id']}/accept").status_code == 200
    body = {"vehicle_plate": "浙H12345", "items": [{"batch_id": batch_id, "quantity": quantity}]}
    d = farmer.post(f"{API}/orders/{o['id']}/deliveries", body).json()
    assert buyer.post(f"{API}/deliveries/{d['id']}/arrive").status_code == 200
    r = buyer.post(f"{API}/deliveries/{d['id']}/check", {"certificate_no": cert, "result": result})
    assert r.status_code == 200, r.text
    return o


@pytest.fixture
def sales(app, world):
    farmer, grower = Caller(app, world.farmer), Caller(app, world.grower)
    buyer, shop = Caller(app, world.buyer), Caller(app, world.shop)
    near = supply(farmer, base_id=world.near_base, price="3.20", quantity=400)
    far = supply(grower, base_id=world.far_base, price="2.60", quantity=300)
    _sell(farmer, buyer, near["id"], 100, world.near_batch, "HG-NEAR-0001", "pass")
    _sell(farmer, shop, near["id"], 50.5, world.near_batch, "HG-NEAR-0001", "pass")
    _sell(grower, buyer, far["id"], 120, world.far_batch, "HG-FAR-0001", "pass")
    _sell(grower, shop, far["id"], 30, world.far_batch, "HG-FAR-0001", "fail")  # rejected: not a sale
    order_from(buyer, near["id"], 10)  # placed only: not a sale
    return Caller(app, world.officer)


@pytest.mark.parametrize("by", ["product", "village", "month"])
def test_every_figure_equals_the_records_it_opens(sales, by) -> None:
    officer = sales
    r = officer.get(f"{API}/market/stats?by={by}")
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert rows
    total_amount = Decimal(0)
    for row in rows:
        query = urlsplit(row["orders_url"]).query
        listed = officer.get(f"{API}/orders?{query}").json()
        assert len(listed) == row["orders"]
        assert sum(Decimal(o["amount"]) for o in listed) == Decimal(row["sales_amount"])
        assert sum(o["quantity"] for o in listed) == pytest.approx(row["sales_quantity"])
        assert all(o["state"] == "checked" for o in listed)
        page = officer.get(row["batches_url"])
        assert page.status_code == 200
        shown = re.search(r'id="drill-quantity">([\d.]+)<', page.text)
        assert shown and float(shown.group(1)) == pytest.approx(row["output_quantity"])
        assert page.text.count('href="/t/') == row["batches"]
        total_amount += Decimal(row["sales_amount"])
    # three checked orders: 100 + 50.5 kg at 3.20, 120 kg at 2.60
    assert total_amount == Decimal("320.00") + Decimal("161.60") + Decimal("312.00")


def test_output_value_is_priced_by_the_months_checked_orders(sales) -> None:
    rows = sales.get(f"{API}/market/stats?by=product").json()["rows"]
    (cabbage,) = [r for r in rows if r["key"] == "cabbage"]
    assert cabbage["output_quantity"] == 800 and cabbage["batches"] == 2
    mean = (Decimal("320.00") + Decimal("161.60") + Decimal("312.00")) / Decimal("270.5")
    expected = (Decimal("500") * mean).quantize(Decimal("0.01")) + (Decimal("300") * mean).quantize(Decimal("0.01"))
    assert Decimal(cabbage["output_value"]) == expected and cabbage["output_value_known"] is True


def test_figures_are_the_bureaus_and_export(app, world, sales) -> None:
    assert Caller(app, world.farmer).get(f"{API}/market/stats").status_code == 403
    assert Caller(app, world.leader).get(f"{API}/market/stats").status_code == 200
    r = sales.get("/village/market/stats.csv?by=product")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert sales.get("/village/market/stats.xlsx?by=village").status_code == 200
    page = sales.get("/village/market/stats?by=month")
    assert page.status_code == 200 and 'id="stats-table"' in page.text
    assert sales.get(f"{API}/market/stats?from=2026-05-01&to=2020-01-01").status_code == 422
