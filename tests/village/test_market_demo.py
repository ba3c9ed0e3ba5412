"""The market demo loads on a small world: demand of the buyers, supply, orders with deliveries of the
batches that exist (checked and accepted, one rejected), one in the cold-chain van; loading twice adds nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.village import demo_market
from countyos.village.models.certs import Batch, Certificate
from countyos.village.models.market import Delivery, DeliveryItem, Demand, Order, OrderState, Supply
from countyos.village.service import flows
from tests.village import market_helpers
from tests.village.market_helpers import MarketWorld, batch

market_world_baseline = market_helpers.market_world_baseline  # fixtures
world = market_helpers.world


def test_the_demo_season(db: Database, world: MarketWorld) -> None:
    today = utcnow().date()
    with db.unit_of_work() as s:  # a season of the near farm's cabbage batches, each with its certificate
        for k in range(1, 9):
            batch(s, world.near_id, world.near_base, f"S-{k}", 200.0, today - timedelta(days=7 * k), f"HG-S-{k:04d}")
    ctx = DemoContext()
    with db.unit_of_work() as s:
        demo_market.load(s, ctx)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Demand)) == 4 + 2  # the canteen's and the shop's
        assert s.scalar(select(func.count()).select_from(Supply)) >= 1
        orders = list(s.scalars(select(Order)))
        assert len(orders) == 10  # every cabbage batch
        states = [o.state for o in orders]
        assert states.count(OrderState.REJECTED) == 1
        assert states.count(OrderState.CHECKED) >= 7
        for o in orders:
            assert o.number.startswith("DD") and o.buyer_id in (world.canteen_id, world.shop_id)
        # every delivered quantity is within its batch, and every check names the batch's certificate
        for item, d in s.execute(
            select(DeliveryItem, Delivery).join(Delivery, Delivery.id == DeliveryItem.delivery_id)
        ):
            b = s.get(Batch, item.batch_id)
            assert item.quantity <= b.quantity
            if d.certificate_no:
                assert d.certificate_no in set(
                    s.scalars(select(Certificate.number).where(Certificate.batch_id == b.id))
                )
        cold = list(s.scalars(select(Delivery).where(Delivery.thing_id.is_not(None))))
        assert len(cold) == 1 and cold[0].temp_limit == 8.0
        # a batch with a delivery shows it among its flows (which batch that is depends on the hour: the newest
        # are still under way, and "newest" is counted in the county's days)
        delivered = s.scalars(select(DeliveryItem.batch_id).order_by(DeliveryItem.id)).first()
        assert delivered is not None and flows.batch_flows(s, batch_id=delivered)
    assert any("/village/market" in n for n in ctx.notes)
    with db.unit_of_work() as s:
        demo_market.load(s, ctx)
        assert s.scalar(select(func.count()).select_from(Order)) == 10
