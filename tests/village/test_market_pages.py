"""The market's pages for each role: the producer's supply, the buyer's demand with matches and ordering on a
phone, the order page with its steps (a refused check re-rendered beside its field), the bureau's figures."""

from __future__ import annotations

from tests.factories import csrf_from
from tests.village import market_helpers
from tests.village.market_helpers import API, Caller, demand, supply
from tests.web.visible import raw_marks, visible_text

market_world_baseline = market_helpers.market_world_baseline  # fixtures
world = market_helpers.world


def test_a_buyer_finds_a_match_orders_and_checks_on_arrival(app, world) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    page = farmer.get("/village/market/supply")
    assert page.status_code == 200 and 'id="supply-form"' in page.text
    r = farmer.client.post(
        "/village/market/supply",
        data={"csrf_token": csrf_from(page.text), "product_code": "cabbage", "quantity": "300", "price": "3.3",
              "period_from": "2020-01-01", "period_to": "2020-01-02", "base_id": str(world.near_base)},
    )  # fmt: skip
    assert r.status_code == 422 and 'id="error-form-period_to"' in r.text and 'value="300"' in r.text
    s = supply(farmer, base_id=world.near_base)
    d = demand(buyer)
    page = buyer.get("/village/market")
    assert page.status_code == 200 and f'id="demand-{d["id"]}"' in page.text and f"supply-{s['id']}" in page.text
    assert 'name="viewport"' in page.text  # phone
    r = buyer.client.post(
        "/village/market/order",
        data={"csrf_token": csrf_from(page.text), "supply_id": str(s["id"]), "quantity": "9999"},
    )
    assert r.status_code == 422 and f'id="error-{s["id"]}-quantity"' in r.text
    r = buyer.client.post(
        "/village/market/order",
        data={"csrf_token": csrf_from(page.text), "supply_id": str(s["id"]), "quantity": "100"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"]
    order_id = int(url.rsplit("/", 1)[1])
    # the producer accepts and ships from the page
    page = farmer.get(url)
    assert 'id="accept"' in page.text
    farmer.client.post(f"{url}/act", data={"csrf_token": csrf_from(page.text), "action": "accept"})
    page = farmer.get(url)
    assert 'id="ship-form"' in page.text
    r = farmer.client.post(
        f"{url}/ship",
        data={"csrf_token": csrf_from(page.text), "batch_1": str(world.near_batch), "quantity_1": "100",
              "vehicle_plate": "浙H12345", "device_key": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    page = buyer.get(url)
    assert 'id="arrive"' in page.text and 'href="/t/TNEAR-1"' in page.text and "扫码查看追溯" in page.text
    delivery_id = buyer.get(f"{API}/orders/{order_id}").json()["deliveries"][0]["id"]
    buyer.client.post(f"/village/deliveries/{delivery_id}/arrive", data={"csrf_token": csrf_from(page.text)})
    page = buyer.get(url)
    r = buyer.client.post(
        f"/village/deliveries/{delivery_id}/check",
        data={"csrf_token": csrf_from(page.text), "certificate_no": "HG-WRONG", "result": "pass"},
    )
    assert r.status_code == 422 and 'id="error-check-certificate_no"' in r.text and 'value="HG-WRONG"' in r.text
    r = buyer.client.post(
        f"/village/deliveries/{delivery_id}/check",
        data={"csrf_token": csrf_from(page.text), "certificate_no": "HG-NEAR-0001", "result": "pass"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = buyer.get(url)
    assert 'id="check-result"' in page.text and "HG-NEAR-0001" in page.text and 'id="timeline"' in page.text


def test_each_role_sees_its_pages(app, world) -> None:
    officer, leader = Caller(app, world.officer), Caller(app, world.leader)
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    for c in (officer, leader, farmer, buyer):
        for path in ("/village/market", "/village/orders"):
            r = c.get(path)
            assert r.status_code == 200 and raw_marks(visible_text(r.text)) == []
    assert farmer.get("/village/market/supply").status_code == 200
    assert buyer.get("/village/market/demand").status_code == 200
    assert buyer.get("/village/market/supply").status_code == 403
    assert farmer.get("/village/market/demand").status_code == 403
    for c in (officer, leader):
        r = c.get("/village/market/stats")
        assert r.status_code == 200 and raw_marks(visible_text(r.text)) == []
        assert c.get("/village/market/batches?from=2026-01-01&to=2026-12-31&product=cabbage").status_code == 200
    assert farmer.get("/village/market/stats").status_code == 403


def test_strangers_to_the_market_find_nothing(app, db) -> None:
    from tests import factories

    clerk = Caller(app, factories.person(db, ["intake"]))
    assert clerk.get("/village/market").status_code == 404
    assert clerk.get(f"{API}/supply").json() == []
    assert clerk.get(f"{API}/orders").json() == []
