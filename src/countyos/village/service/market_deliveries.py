"""Deliveries of orders: shipping names the producer's batches (no more of each than it has left, adding up
to the order), the vehicle, when it left and the van's cold-chain device if any; on arrival the device's
temperatures between departure and arrival are summed up from the sensing observations (the minute, then
hourly rollups where the observations are no longer kept) and flagged above the limit in
``data/market.json``; the buyer's 入市查验 names the 合格证 seen, which must be one of the delivered
batches', and a failed check rejects the order. Each step goes through the order's transition table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import as_utc, utcnow
from countyos.core.errors import NotFound
from countyos.core.i18n import N_
from countyos.sensing.models import Observation, RollupHour, RollupMinute, Thing
from countyos.sensing.service import streams
from countyos.sensing.service.times import to_us
from countyos.village.models.certs import Batch
from countyos.village.models.market import CheckResult, Delivery, DeliveryItem, Order, OrderState
from countyos.village.schemas.market import ArriveIn, CheckIn, DeliveryIn
from countyos.village.service import market
from countyos.village.service import market_certs as certs
from countyos.village.service.market_orders import CLOCK_SKEW, EPSILON, Action, apply, check_step, field_error, get


def delivered_of(session: Session, batch_ids: list[int]) -> dict[int, float]:
    """How much of each batch has left in deliveries (a rejected delivery too: the goods left the farm)."""
    if not batch_ids:
        return {}
    rows = session.execute(
        select(DeliveryItem.batch_id, func.sum(DeliveryItem.quantity))
        .where(DeliveryItem.batch_id.in_(batch_ids))
        .group_by(DeliveryItem.batch_id)
    )
    return {int(b): float(q or 0) for b, q in rows}


def batch_left(session: Session, batch: Batch) -> float:
    return max(0.0, batch.quantity - delivered_of(session, [batch.id]).get(batch.id, 0.0))


def _cold_chain_thing(session: Session, device_key: str) -> Thing:
    cfg = market.settings()["cold_chain"]
    thing = session.scalars(select(Thing).where(Thing.device_key == device_key)).first()
    if thing is None or thing.device_class != cfg["device_class"]:
        raise field_error("device_key", N_("Not a cold-chain device"))
    return thing


def ship(session: Session, *, actor: Actor, order_id: int, body: DeliveryIn) -> Delivery:
    order = get(session, actor=actor, order_id=order_id)
    check_step(session, actor=actor, order=order, action=Action.SHIP)
    now = utcnow()
    departed = as_utc(body.departed_at) if body.departed_at else now
    if departed > now + CLOCK_SKEW:
        raise field_error("departed_at", N_("The departure is in the future"))
    ids = [i.batch_id for i in body.items]
    if len(set(ids)) != len(ids):
        raise field_error("items", N_("A batch is named twice"))
    batches = {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(ids)))}
    left = delivered_of(session, ids)
    for item in body.items:
        b = batches.get(item.batch_id)
        if b is None or b.entity_id != order.seller_id:
            raise field_error("items", N_("Batch %(id)s is not one of this producer's"), id=item.batch_id)
        if b.product_code != order.product_code:
            raise field_error("items", N_("Batch %(no)s is of another product"), no=b.batch_no)
        remaining = b.quantity - left.get(b.id, 0.0)
        if item.quantity > remaining + EPSILON:
            raise field_error(
                "items",
                N_("Only %(left)s %(unit)s left of batch %(no)s"),
                left=round(max(remaining, 0), 3),
                unit=b.unit,
                no=b.batch_no,
            )
    total = sum(i.quantity for i in body.items)
    if abs(total - order.quantity) > EPSILON * max(1.0, order.quantity):
        raise field_error(
            "items",
            N_("The batches add up to %(total)s, the order is for %(quantity)s"),
            total=round(total, 3),
            quantity=order.quantity,
        )
    thing = _cold_chain_thing(session, body.device_key) if body.device_key else None
    delivery = Delivery(
        order_id=order.id,
        vehicle_plate=body.vehicle_plate.upper(),
        departed_at=departed,
        thing_id=thing.id if thing else None,
        check_note="",
    )
    session.add(delivery)
    session.flush()
    session.add_all(DeliveryItem(delivery_id=delivery.id, batch_id=i.batch_id, quantity=i.quantity) for i in body.items)
    apply(session, actor=actor, order=order, action=Action.SHIP, note=delivery.vehicle_plate, at=departed)
    return delivery


def get_delivery(session: Session, *, actor: Actor, delivery_id: int) -> tuple[Delivery, Order]:
    d = session.get(Delivery, delivery_id)
    if d is None:
        raise NotFound(N_("No such delivery"))
    try:
        return d, get(session, actor=actor, order_id=d.order_id)
    except NotFound:
        raise NotFound(N_("No such delivery")) from None


@dataclass(frozen=True)
class Temperatures:
    n: int
    min: float | None
    mean: float | None
    max: float | None


def temperatures(session: Session, *, thing_id: int, start: datetime, end: datetime) -> Temperatures:
    """Min, mean and max of the device's temperature between two instants: from the observations kept, or
    from the minute (then hourly) rollups where the observations are no longer kept."""
    thing = session.get(Thing, thing_id)
    cfg = market.settings()["cold_chain"]
    info = streams.by_key(session, thing.device_key, cfg["metric"]) if thing and thing.device_key else None
    if info is None:
        return Temperatures(0, None, None, None)
    lo, hi = to_us(start), to_us(end)
    n, vmin, vmean, vmax = session.execute(
        select(
            func.count(Observation.result),
            func.min(Observation.result),
            func.avg(Observation.result),
            func.max(Observation.result),
        ).where(Observation.datastream_id == info.id, Observation.phenomenon_us >= lo, Observation.phenomenon_us <= hi)
    ).one()
    if n:
        return Temperatures(int(n), float(vmin), float(vmean), float(vmax))
    for table in (RollupMinute, RollupHour):
        n, vmin, vsum, vmax = session.execute(
            select(func.sum(table.n), func.min(table.vmin), func.sum(table.vsum), func.max(table.vmax)).where(
                table.datastream_id == info.id, table.bucket_us >= lo, table.bucket_us <= hi
            )
        ).one()
        if n and vmin is not None and vsum is not None and vmax is not None:
            return Temperatures(int(n), float(vmin), float(vsum) / int(n), float(vmax))
    return Temperatures(0, None, None, None)


def arrive(session: Session, *, actor: Actor, delivery_id: int, body: ArriveIn) -> Delivery:
    delivery, order = get_delivery(session, actor=actor, delivery_id=delivery_id)
    check_step(session, actor=actor, order=order, action=Action.ARRIVE)
    now = utcnow()
    arrived = as_utc(body.arrived_at) if body.arrived_at else now
    if arrived > now + CLOCK_SKEW:
        raise field_error("arrived_at", N_("The arrival is in the future"))
    if arrived < as_utc(delivery.departed_at):
        raise field_error("arrived_at", N_("The arrival is before the departure"))
    delivery.arrived_at = arrived
    if delivery.thing_id is not None:
        t = temperatures(session, thing_id=delivery.thing_id, start=as_utc(delivery.departed_at), end=arrived)
        limit = float(market.settings()["cold_chain"]["upper_limit_c"])
        delivery.temp_n, delivery.temp_min, delivery.temp_mean, delivery.temp_max = t.n, t.min, t.mean, t.max
        delivery.temp_limit = limit
        delivery.excursion = None if t.max is None else t.max > limit
    apply(session, actor=actor, order=order, action=Action.ARRIVE, at=arrived)
    return delivery


def check(session: Session, *, actor: Actor, delivery_id: int, body: CheckIn) -> Delivery:
    """入市查验: the certificate seen must be one of the delivered batches'; a failed check rejects the order."""
    delivery, order = get_delivery(session, actor=actor, delivery_id=delivery_id)
    check_step(session, actor=actor, order=order, action=Action.CHECK)
    batch_ids = [i.batch_id for i in items_of(session, [delivery.id]).get(delivery.id, [])]
    number = body.certificate_no.strip()
    if number not in certs.certificate_numbers(session, batch_ids=batch_ids):
        raise field_error("certificate_no", N_("This certificate is not one of the delivered batches'"))
    delivery.certificate_no, delivery.check_result, delivery.check_note = number, body.result, body.note
    delivery.checked_at, delivery.checked_by = utcnow(), actor.id
    to = OrderState.CHECKED if body.result == CheckResult.PASS else OrderState.REJECTED
    apply(session, actor=actor, order=order, action=Action.CHECK, to=to, note=body.note)
    return delivery


def items_of(session: Session, delivery_ids: list[int]) -> dict[int, list[DeliveryItem]]:
    out: dict[int, list[DeliveryItem]] = {}
    if not delivery_ids:
        return out
    for it in session.scalars(
        select(DeliveryItem).where(DeliveryItem.delivery_id.in_(delivery_ids)).order_by(DeliveryItem.id)
    ):
        out.setdefault(it.delivery_id, []).append(it)
    return out


def deliveries_of(session: Session, *, order_id: int) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.order_id == order_id).order_by(Delivery.id)))
