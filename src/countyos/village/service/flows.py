"""Where a batch went (产品流向): the deliveries of the batch to buyers, for the public trace page
(certs) and the batch page. Owned by the market part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import as_utc, county_zone
from countyos.village.models.market import CheckResult, Delivery, DeliveryItem, Order, OrderState
from countyos.village.models.producers import Entity

MOST = 200


@dataclass(frozen=True)
class BatchFlow:
    """One delivery of (part of) a batch: to whom (an organisation's name, never a person's), when, how much,
    and whether the buyer's 入市查验 accepted it."""

    buyer_name: str
    buyer_kind: str  # EntityKind value; pages show its label
    delivered_on: date | None
    quantity: float
    unit: str
    checked: bool | None  # None: not yet checked on arrival


def batch_flows(session: Session, *, batch_id: int) -> list[BatchFlow]:
    """The deliveries of this batch, oldest first (at most 200). Only the buyer organisation's name and kind
    leave here — never a person, a vehicle or a price."""
    rows = session.execute(
        select(
            DeliveryItem.quantity,
            Order.unit,
            Delivery.arrived_at,
            Delivery.departed_at,
            Delivery.check_result,
            Order.state,
            Entity.name,
            Entity.kind,
        )
        .join(Delivery, Delivery.id == DeliveryItem.delivery_id)
        .join(Order, Order.id == Delivery.order_id)
        .join(Entity, Entity.id == Order.buyer_id)
        .where(DeliveryItem.batch_id == batch_id)
        .order_by(Delivery.departed_at, Delivery.id)
        .limit(MOST)
    ).all()
    out = []
    for quantity, unit, arrived, _departed, result, state, name, kind in rows:
        checked = None if result is None else result == CheckResult.PASS
        delivered_on = as_utc(arrived).astimezone(county_zone()).date() if arrived is not None else None
        if state == OrderState.SHIPPED:
            delivered_on = None
        out.append(BatchFlow(name, str(kind), delivered_on, float(quantity), unit, checked))
    return out
