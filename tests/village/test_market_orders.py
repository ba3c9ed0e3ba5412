"""Orders: the transition table (every step outside it a 409 naming the allowed actions), quantity bounds,
deliveries of batches with the cold chain's temperatures from observations posted through the ingest API,
入市查验 against the batches' certificates, and where a batch went (``batch_flows``)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.org.models import AuditEvent
from countyos.village.models.market import OrderState
from countyos.village.service import flows
from countyos.village.service.market_orders import TRANSITIONS, Action
from tests.village import market_helpers
from tests.village.market_helpers import (
    API,
    DEVICE,
    Caller,
    order_from,
    supply,
)

market_world_baseline = market_helpers.market_world_baseline  # fixtures
world = market_helpers.world

INGEST = "/api/v1/sensing/ingest"


def _ship(farmer: Caller, order_id: int, batch_id: int, quantity: float, **kw: object):
    body = {"vehicle_plate": "浙H12345", "items": [{"batch_id": batch_id, "quantity": quantity}], **kw}
    return farmer.post(f"{API}/orders/{order_id}/deliveries", body)


def _to_state(app, world, state: OrderState) -> tuple[int, int | None, Caller, Caller]:
    """An order of 100 kg from the near farm brought to STATE; (order id, delivery id, farmer, buyer)."""
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    s = supply(farmer, base_id=world.near_base)
    o = order_from(buyer, s["id"], 100)
    delivery = None
    path = {
        OrderState.PLACED: [],
        OrderState.ACCEPTED: ["accept"],
        OrderState.SHIPPED: ["accept", "ship"],
        OrderState.DELIVERED: ["accept", "ship", "arrive"],
        OrderState.CHECKED: ["accept", "ship", "arrive", "pass"],
        OrderState.REJECTED: ["accept", "ship", "arrive", "fail"],
        OrderState.CANCELLED: ["cancel"],
    }[state]
    for step in path:
        if step == "accept":
            r = farmer.post(f"{API}/orders/{o['id']}/accept")
        elif step == "cancel":
            r = buyer.post(f"{API}/orders/{o['id']}/cancel", {"reason": "菜单调整"})
        elif step == "ship":
            r = _ship(farmer, o["id"], world.near_batch, 100)
            delivery = r.json()["id"]
        elif step == "arrive":
            r = buyer.post(f"{API}/deliveries/{delivery}/arrive")
        else:
            r = buyer.post(f"{API}/deliveries/{delivery}/check", {"certificate_no": "HG-NEAR-0001", "result": step})
        assert r.status_code in (200, 201), (step, r.text)
    assert buyer.get(f"{API}/orders/{o['id']}").json()["state"] == state.value
    return o["id"], delivery, farmer, buyer


def test_the_happy_path_is_audited_and_timed(app, world, db) -> None:
    order_id, _, farmer, buyer = _to_state(app, world, OrderState.CHECKED)
    o = buyer.get(f"{API}/orders/{order_id}").json()
    assert [e["action"] for e in o["events"]] == ["place", "accept", "ship", "arrive", "check"]
    assert [e["to_state"] for e in o["events"]][-1] == "checked"
    assert o["price"] == "3.20" and o["amount"] == "320.00"  # fixed when placed
    assert o["deliveries"][0]["certificate_no"] == "HG-NEAR-0001" and o["allowed_actions"] == []
    with db.reading() as s:
        codes = set(
            s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.target_type == "village_order", AuditEvent.target_id == str(order_id)
                )
            )
        )
    assert codes == {f"village.market.order.{a}" for a in ("place", "accept", "ship", "arrive", "check")}
    # the farmer sees the same order; the other producer and the shop do not
    assert farmer.get(f"{API}/orders/{order_id}").status_code == 200
    assert Caller(app, world.grower).get(f"{API}/orders/{order_id}").status_code == 404
    assert Caller(app, world.shop).get(f"{API}/orders/{order_id}").status_code == 404
    assert Caller(app, world.officer).get(f"{API}/orders/{order_id}").status_code == 200


ACTION_CALLS = {
    Action.ACCEPT: lambda c, o, d, w: c.post(f"{API}/orders/{o}/accept"),
    Action.CANCEL: lambda c, o, d, w: c.post(f"{API}/orders/{o}/cancel", {"reason": "测试"}),
    Action.SHIP: lambda c, o, d, w: _ship(c, o, w.near_batch, 100),
    Action.ARRIVE: lambda c, o, d, w: (
        c.post(f"{API}/deliveries/{d}/arrive") if d else c.post(f"{API}/orders/{o}/arrive")
    ),
    Action.CHECK: lambda c, o, d, w: (
        c.post(f"{API}/deliveries/{d}/check", {"certificate_no": "HG-NEAR-0001", "result": "pass"})
        if d
        else c.post(f"{API}/orders/{o}/check")
    ),
}


# what each side may do in each state (the buyer placed these orders)
ALLOWED = {
    (OrderState.PLACED, "seller"): {"accept", "cancel"},
    (OrderState.PLACED, "buyer"): {"cancel"},
    (OrderState.ACCEPTED, "seller"): {"cancel", "ship"},
    (OrderState.ACCEPTED, "buyer"): {"cancel"},
    (OrderState.SHIPPED, "seller"): {"arrive"},
    (OrderState.SHIPPED, "buyer"): {"arrive"},
    (OrderState.DELIVERED, "buyer"): {"check"},
}


@pytest.mark.parametrize("state", list(OrderState))
def test_every_step_outside_the_table_is_a_409_listing_the_allowed_ones(app, world, state) -> None:
    order_id, delivery_id, farmer, buyer = _to_state(app, world, state)
    for action in Action:
        if (state, action) in TRANSITIONS:
            continue
        # the side that would take it if it were allowed: the producer ships, the buyer checks
        caller = farmer if action in (Action.SHIP, Action.ACCEPT) else buyer
        r = ACTION_CALLS[action](caller, order_id, delivery_id, world)
        assert r.status_code == 409, (state, action, r.text)
        body = r.json()
        assert body["code"] == "transition_not_allowed" and body["state"] == state.value
        in_state = {a.value for (st, a) in TRANSITIONS if st == state}
        assert set(body["allowed_actions"]) <= in_state  # only steps the table has for this state
        side = "seller" if caller is farmer else "buyer"
        assert set(body["allowed_actions"]) == ALLOWED.get((state, side), set()), (state, side)


def test_the_side_decides_within_the_table(app, world) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    o = order_from(buyer, supply(farmer, base_id=world.near_base)["id"], 10)
    r = buyer.post(f"{API}/orders/{o['id']}/accept")  # the buyer placed it: only the producer accepts
    assert r.status_code == 403 and r.json()["allowed_actions"] == ["cancel"]
    assert buyer.post(f"{API}/orders/{o['id']}/cancel", {"reason": ""}).status_code == 422  # a reason is needed
    assert farmer.post(f"{API}/orders/{o['id']}/accept").json()["state"] == "accepted"
    # a producer answers a demand: the buyer accepts
    from tests.village.market_helpers import demand

    d = demand(buyer, max_price="3.00")
    assert farmer.post(f"{API}/orders", {"demand_id": d["id"], "quantity": 10, "price": "3.10"}).status_code == 422
    r = farmer.post(f"{API}/orders", {"demand_id": d["id"], "quantity": 10, "price": "2.90"})
    assert r.status_code == 201 and r.json()["placed_by"] == "seller"
    assert farmer.post(f"{API}/orders/{r.json()['id']}/accept").status_code == 403
    assert buyer.post(f"{API}/orders/{r.json()['id']}/accept").json()["state"] == "accepted"


def test_quantities_are_bounded_by_the_supply_and_the_batch(app, world) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    s = supply(farmer, base_id=world.near_base, quantity=400)
    order_from(buyer, s["id"], 300)
    r = buyer.post(f"{API}/orders", {"supply_id": s["id"], "quantity": 100.5})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quantity"
    assert farmer.get(f"{API}/supply?mine=true").json()[0]["left"] == 100
    big = supply(farmer, base_id=world.near_base, quantity=1000)
    o1 = order_from(buyer, big["id"], 450)
    o2 = order_from(buyer, big["id"], 100)
    for o in (o1, o2):
        farmer.post(f"{API}/orders/{o['id']}/accept")
    assert _ship(farmer, o1["id"], world.near_batch, 450).status_code == 201
    r = _ship(farmer, o2["id"], world.near_batch, 100)  # 50 kg left of the 500 kg batch
    assert r.status_code == 422 and "50" in r.json()["detail"]
    assert _ship(farmer, o2["id"], world.far_batch, 100).status_code == 422  # not the farmer's batch
    assert _ship(farmer, o2["id"], world.near_batch, 40).status_code == 422  # does not add up to the order
    r = _ship(farmer, o2["id"], world.near_batch, 100, device_key="nope")
    assert r.status_code == 422


def test_cold_chain_temperatures_come_from_the_observations(app, world, client) -> None:
    farmer, buyer = Caller(app, world.farmer), Caller(app, world.buyer)
    o = order_from(buyer, supply(farmer, base_id=world.near_base)["id"], 100)
    farmer.post(f"{API}/orders/{o['id']}/accept")
    departed = utcnow().replace(microsecond=0) - timedelta(hours=3)
    arrived = departed + timedelta(hours=2)
    inside = [3.0, 4.0, 9.5, 5.5]  # every 30 minutes from the departure
    data = [[(departed + timedelta(minutes=30 * i + 1)).timestamp(), v] for i, v in enumerate(inside)]
    data += [
        [(departed - timedelta(minutes=20)).timestamp(), 20.0],
        [(arrived + timedelta(minutes=20)).timestamp(), 25.0],
    ]
    data += [data[0]]  # a duplicate is stored once
    r = client.post(
        INGEST,
        json={"series": [{"device": DEVICE, "metric": "temperature", "data": data}]},
        headers={"X-Device-Token": world.device_token},
    )
    assert r.status_code == 200 and r.json()["errors"] == [], r.text
    d = _ship(farmer, o["id"], world.near_batch, 100, device_key=DEVICE, departed_at=departed.isoformat()).json()
    r = buyer.post(f"{API}/deliveries/{d['id']}/arrive", {"arrived_at": (departed - timedelta(hours=1)).isoformat()})
    assert r.status_code == 422  # before the departure
    r = buyer.post(f"{API}/deliveries/{d['id']}/arrive", {"arrived_at": arrived.isoformat()})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["temp_n"] == 4 and got["temp_min"] == 3.0 and got["temp_max"] == 9.5
    assert got["temp_mean"] == pytest.approx(sum(inside) / 4)
    assert got["excursion"] is True and got["temp_limit"] == 8.0
    page = buyer.get(f"/village/orders/{o['id']}")
    assert page.status_code == 200 and "9.5" in page.text


def test_a_check_names_one_of_the_delivered_batches_certificates(app, world) -> None:
    order_id, delivery_id, farmer, buyer = _to_state(app, world, OrderState.DELIVERED)
    url = f"{API}/deliveries/{delivery_id}/check"
    for wrong in ("HG-FAR-0001", "HG-NONE"):
        r = buyer.post(url, {"certificate_no": wrong, "result": "pass"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "certificate_no"
    assert buyer.get(f"{API}/orders/{order_id}").json()["state"] == "delivered"
    assert farmer.post(url, {"certificate_no": "HG-NEAR-0001", "result": "pass"}).status_code == 403  # buyers only
    r = buyer.post(url, {"certificate_no": "HG-NEAR-0001", "result": "fail", "note": "叶片腐烂"})
    assert r.status_code == 200 and r.json()["check_result"] == "fail"
    assert buyer.get(f"{API}/orders/{order_id}").json()["state"] == "rejected"


def test_batch_flows_name_organisations_only(app, world, db) -> None:
    _to_state(app, world, OrderState.CHECKED)
    _to_state(app, world, OrderState.REJECTED)
    _to_state(app, world, OrderState.SHIPPED)
    with db.reading() as s:
        got = flows.batch_flows(s, batch_id=world.near_batch)
    assert [(f.buyer_name, f.buyer_kind, f.quantity, f.unit, f.checked) for f in got] == [
        ("测试中学食堂", "school_canteen", 100.0, "kg", True),
        ("测试中学食堂", "school_canteen", 100.0, "kg", False),
        ("测试中学食堂", "school_canteen", 100.0, "kg", None),
    ]
    assert got[0].delivered_on is not None and got[2].delivered_on is None
    fields = {f.name for f in dataclasses.fields(flows.BatchFlow)}
    assert fields == {"buyer_name", "buyer_kind", "delivered_on", "quantity", "unit", "checked"}
    with db.reading() as s:
        assert flows.batch_flows(s, batch_id=world.far_batch) == []
