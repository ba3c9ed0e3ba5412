"""The demo county's market (产供销): the five buyers' demand (the school canteen's weekly vegetables, the
hospital's, the supermarket's tea and 菊米, the e-commerce shop's 番薯干 and 猕猴桃, the wholesaler's 竹笋;
``data/market_demo.json``), producers' open supply of what is asked for, and a season of orders answering
those demands with the batches the certs part made (a product without batches has no orders): most
delivered, checked and accepted; one rejected on arrival; the newest still placed, accepted or on the way;
one delivery carried in the van of the first cold-chain device, its temperatures taken from the sensing
history. Rows are written in bulk with their own past times (a few hundred), so it stays quick.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any
from uuid import uuid4

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import as_utc, county_zone, utcnow
from countyos.core.errors import CountyError
from countyos.sensing.models import Thing
from countyos.village.models.certs import Batch, Certificate
from countyos.village.models.market import (
    CheckResult,
    Delivery,
    DeliveryItem,
    Demand,
    ListingState,
    Order,
    OrderEvent,
    OrderState,
    Side,
    Supply,
)
from countyos.village.models.producers import BUYER_KINDS, PRODUCER_KINDS, Entity, ProductionBase
from countyos.village.service import market, products
from countyos.village.service import market_deliveries as deliveries

SEED = 1836
MOST_ORDERS = 240
MOST_SUPPLIES = 60
PLATES = ["浙H3A821", "浙H5C207", "浙H8K115", "浙HD0931", "浙H2F660"]
REJECT_NOTE = "叶片发黄，部分腐烂，不合格"
Step = tuple[datetime, str, OrderState | None, OrderState, Side]  # at, action, before, after, side


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("countyos.village").joinpath("data/market_demo.json").read_text("utf-8")
    )
    return data


def _at(day: Any, hour: int, minute: int = 0) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=county_zone()))


def _money(v: Decimal) -> Decimal:
    return v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _event(
    order: Order,
    at: datetime,
    action: str,
    before: OrderState | None,
    after: OrderState,
    side: Side,
    who: str,
    note: str = "",
) -> OrderEvent:
    return OrderEvent(
        order_id=order.id,
        at=at,
        action=action,
        from_state=before,
        to_state=after,
        side=side,
        user_id=None,
        user_name=who,
        note=note,
    )


def load(session: Session, ctx: Any) -> None:
    data = _data()
    rng = np.random.default_rng(SEED)
    now, today = utcnow(), market.today()
    buyers = list(session.scalars(select(Entity).where(Entity.kind.in_(BUYER_KINDS)).order_by(Entity.id)))
    if not buyers or session.scalar(select(Demand.id).limit(1)) is not None:
        return
    bases = list(
        session.scalars(select(ProductionBase).where(ProductionBase.active.is_(True)).order_by(ProductionBase.id))
    )
    centre = (
        (float(np.mean([b.geom.centroid.x for b in bases])), float(np.mean([b.geom.centroid.y for b in bases])))
        if bases
        else (119.27, 28.59)
    )
    prices = {k: Decimal(v) for k, v in data["prices"].items()}

    # demand of the five buyers
    demands: dict[str, list[Demand]] = defaultdict(list)
    for b in buyers:
        try:
            lon, lat, place = market.place_of(session, b)
        except CountyError:
            (lon, lat), place = centre, b.address or b.name
        for spec in data["demands"].get(b.kind.value, []):
            code = spec["product"]
            if code not in products.catalog().products:
                continue
            d = Demand(
                entity_id=b.id,
                product_code=code,
                quantity=float(spec["quantity"]),
                unit=products.product(code).unit,
                period_from=today - timedelta(days=150),
                period_to=today + timedelta(days=60),
                max_price=Decimal(spec["max_price"]) if spec.get("max_price") else None,
                place_name=place,
                lon=lon,
                lat=lat,
                frequency=spec.get("frequency", ""),
                note="",
                state=ListingState.OPEN,
                created_by="demo",
                created_at=now - timedelta(days=150),
            )
            session.add(d)
            demands[code].append(d)
    session.flush()
    wanted = set(demands)

    # producers' open supply of what is asked for
    producers = {e.id: e for e in session.scalars(select(Entity).where(Entity.kind.in_(PRODUCER_KINDS)))}
    supplies = 0
    seen: set[tuple[int, str]] = set()
    for base in bases:
        if supplies >= MOST_SUPPLIES or base.entity_id not in producers:
            continue
        for code in base.product_codes:
            if code not in wanted or (base.entity_id, code) in seen or code not in prices:
                continue
            seen.add((base.entity_id, code))
            price = _money(prices[code] * Decimal(str(round(0.9 + 0.2 * float(rng.random()), 2))))
            session.add(
                Supply(
                    entity_id=base.entity_id,
                    base_id=base.id,
                    product_code=code,
                    quantity=float(demands[code][0].quantity) * float(1 + int(rng.integers(0, 4))),
                    unit=products.product(code).unit,
                    period_from=today - timedelta(days=int(rng.integers(0, 14))),
                    period_to=today + timedelta(days=int(rng.integers(14, 45))),
                    price=price,
                    note="",
                    state=ListingState.OPEN,
                    created_by="demo",
                    created_at=now - timedelta(days=3),
                )
            )
            supplies += 1

    # a season of orders answering the demands, with the certs part's batches
    batches = list(
        session.scalars(
            select(Batch)
            .where(Batch.parent_id.is_(None), Batch.product_code.in_(sorted(wanted)), Batch.harvest_date <= today)
            .order_by(Batch.harvest_date.desc(), Batch.id.desc())
            .limit(MOST_ORDERS)
        )
    )[::-1]
    if not batches:
        _note(ctx, len(buyers), sum(len(v) for v in demands.values()), supplies, 0)
        return
    numbers: dict[int, str] = {}
    for batch_id, number in session.execute(
        select(Certificate.batch_id, Certificate.number)
        .where(Certificate.batch_id.in_([b.id for b in batches]), Certificate.revoked_at.is_(None))
        .order_by(Certificate.id)
    ):
        numbers.setdefault(batch_id, number)
    names = {e.id: e.name for e in buyers} | {i: e.name for i, e in producers.items()}
    made: list[tuple[Order, Batch, list[Step], Delivery | None]] = []
    rejected = False
    for i, batch in enumerate(batches):
        if batch.entity_id not in producers:
            continue
        options = demands[batch.product_code]
        d = options[i % len(options)]
        whole = batch.unit in ("head", "piece", "box")
        qty = float(max(1, int(batch.quantity * 0.6))) if whole else round(batch.quantity * 0.6, 1)
        if qty <= 0:
            continue
        price = _money(
            prices.get(batch.product_code, Decimal("5")) * Decimal(str(round(0.92 + 0.16 * float(rng.random()), 2)))
        )
        if d.max_price is not None:
            price = min(price, d.max_price)
        placed = _at(batch.harvest_date - timedelta(days=1), 10, int(rng.integers(0, 50)))
        accepted, departed = placed + timedelta(hours=2), _at(batch.harvest_date, 6, int(rng.integers(0, 50)))
        arrived, checked = departed + timedelta(minutes=int(rng.integers(50, 150))), None
        o = Order(
            number=uuid4().hex[:20],
            buyer_id=d.entity_id,
            seller_id=batch.entity_id,
            supply_id=None,
            demand_id=d.id,
            placed_by=Side.SELLER,
            product_code=batch.product_code,
            quantity=qty,
            unit=batch.unit,
            price=price,
            amount=_money(Decimal(str(qty)) * price),
            wanted_on=batch.harvest_date,
            note="",
            state=OrderState.PLACED,
            placed_at=placed,
            changed_at=placed,
            created_by="demo",
        )
        steps: list[Step] = [(placed, "place", None, OrderState.PLACED, Side.SELLER)]
        recent = (today - batch.harvest_date).days
        stop = {0: 3, 1: 2, 2: 1}.get(recent, 0) if i >= len(batches) - 3 else 0  # the newest: still under way
        plan = [
            (accepted, "accept", OrderState.ACCEPTED, Side.BUYER),
            (departed, "ship", OrderState.SHIPPED, Side.SELLER),
            (arrived, "arrive", OrderState.DELIVERED, Side.BUYER),
        ]
        if batch.id in numbers:
            checked = arrived + timedelta(minutes=20)
            fail = not rejected and i >= 4
            rejected = rejected or fail
            plan.append((checked, "check", OrderState.REJECTED if fail else OrderState.CHECKED, Side.BUYER))
        plan = plan[: len(plan) - stop] if stop else plan
        state = OrderState.PLACED
        for at, action, after, side in plan:
            if at > now:
                break
            steps.append((at, action, state, after, side))
            state = after
        o.state, o.changed_at = state, steps[-1][0]
        delivery = None
        if state in (OrderState.SHIPPED, OrderState.DELIVERED, OrderState.CHECKED, OrderState.REJECTED):
            delivery = Delivery(vehicle_plate=PLATES[i % len(PLATES)], departed_at=departed, check_note="")
            if state != OrderState.SHIPPED:
                delivery.arrived_at = arrived
            if state in (OrderState.CHECKED, OrderState.REJECTED):
                delivery.certificate_no = numbers[batch.id]
                delivery.check_result = CheckResult.PASS if state == OrderState.CHECKED else CheckResult.FAIL
                delivery.check_note = "" if state == OrderState.CHECKED else REJECT_NOTE
                delivery.checked_at = checked
        made.append((o, batch, steps, delivery))
    session.add_all(o for o, *_ in made)
    session.flush()
    for o, _batch, steps, delivery in made:
        o.number = f"DD{o.placed_at.astimezone(county_zone()):%Y%m%d}{o.id:06d}"
        for at, action, before, after, side in steps:
            who = names.get(o.buyer_id if side == Side.BUYER else o.seller_id, "")
            note = REJECT_NOTE if after == OrderState.REJECTED else ""
            session.add(_event(o, at, action, before, after, side, who, note))
        if delivery is not None:
            delivery.order_id = o.id
            session.add(delivery)
    session.flush()
    for o, batch, _, delivery in made:
        if delivery is not None:
            session.add(DeliveryItem(delivery_id=delivery.id, batch_id=batch.id, quantity=o.quantity))
    _cold_chain(session, [(o, d) for o, _, _, d in made if d is not None and d.arrived_at is not None], now)
    session.flush()
    _note(ctx, len(buyers), sum(len(v) for v in demands.values()), supplies, len(made))


def _cold_chain(session: Session, delivered: list[tuple[Order, Delivery]], now: datetime) -> None:
    """The newest delivery within the sensing history goes in the first cold-chain van."""
    cls = market.settings()["cold_chain"]["device_class"]
    thing = session.scalars(select(Thing).where(Thing.device_class == cls).order_by(Thing.device_key)).first()
    if thing is None:
        return
    recent = [(o, d) for o, d in delivered if d.departed_at >= now - timedelta(days=18)]
    if not recent:
        return
    _, d = max(recent, key=lambda od: od[1].departed_at)
    assert d.arrived_at is not None
    d.thing_id = thing.id
    t = deliveries.temperatures(session, thing_id=thing.id, start=d.departed_at, end=d.arrived_at)
    limit = float(market.settings()["cold_chain"]["upper_limit_c"])
    d.temp_n, d.temp_min, d.temp_mean, d.temp_max, d.temp_limit = t.n, t.min, t.mean, t.max, limit
    d.excursion = None if t.max is None else t.max > limit


def _note(ctx: Any, buyers: int, demands: int, supplies: int, orders: int) -> None:
    if hasattr(ctx, "notes"):
        ctx.notes.append(
            f"Market (产供销): {demands} demands of {buyers} buyers, {supplies} supply listings, {orders} orders "
            "(/village/market; buyer: buyer)"
        )
