"""Orders between buyers and producers.

An order's state moves only through :data:`TRANSITIONS`, applied by :func:`apply`; each step is a row of
the order's timeline and an audit record. A buyer orders from a supply (the supply's price; no more than
it has left) or a producer answers a demand (their price; no more than the demand's highest, nor its
quantity). Shipping, arrival and the 入市查验 are in ``market_deliveries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import as_utc, county_zone, utcnow
from countyos.core.errors import ActionForbidden, Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.village.models.market import (
    CheckResult,
    Delivery,
    ListingState,
    Order,
    OrderEvent,
    OrderState,
    Side,
)
from countyos.village.models.producers import Entity
from countyos.village.schemas.market import OrderIn
from countyos.village.service import market, scope

CLOCK_SKEW = timedelta(minutes=5)
EPSILON = 1e-6


class Action(StrEnum):
    ACCEPT = "accept"  # 接单
    CANCEL = "cancel"  # 取消
    SHIP = "ship"  # 发货
    ARRIVE = "arrive"  # 送达
    CHECK = "check"  # 入市查验


class By(StrEnum):
    """Who may take a step: the buyer, the producer, either, or the side that did not place the order."""

    BUYER = "buyer"
    SELLER = "seller"
    EITHER = "either"
    OTHER_SIDE = "other_side"


@dataclass(frozen=True)
class Step:
    to: tuple[OrderState, ...]  # the first unless the step's outcome decides (a check: checked or rejected)
    by: By


TRANSITIONS: dict[tuple[OrderState, Action], Step] = {
    (OrderState.PLACED, Action.ACCEPT): Step((OrderState.ACCEPTED,), By.OTHER_SIDE),
    (OrderState.PLACED, Action.CANCEL): Step((OrderState.CANCELLED,), By.EITHER),
    (OrderState.ACCEPTED, Action.CANCEL): Step((OrderState.CANCELLED,), By.EITHER),
    (OrderState.ACCEPTED, Action.SHIP): Step((OrderState.SHIPPED,), By.SELLER),
    (OrderState.SHIPPED, Action.ARRIVE): Step((OrderState.DELIVERED,), By.EITHER),
    (OrderState.DELIVERED, Action.CHECK): Step((OrderState.CHECKED, OrderState.REJECTED), By.BUYER),
}

STATE_NAMES = {
    OrderState.PLACED: N_("Placed"),
    OrderState.ACCEPTED: N_("Order taken"),
    OrderState.SHIPPED: N_("Shipped"),
    OrderState.DELIVERED: N_("Delivered"),
    OrderState.CHECKED: N_("Checked and accepted"),
    OrderState.REJECTED: N_("Rejected on arrival"),
    OrderState.CANCELLED: N_("Cancelled"),
}
ACTION_NAMES = {
    "place": N_("Place the order"),
    Action.ACCEPT: N_("Accept the order"),
    Action.CANCEL: N_("Cancel the order"),
    Action.SHIP: N_("Ship"),
    Action.ARRIVE: N_("Record arrival"),
    Action.CHECK: N_("Check on arrival"),
}
SIDE_NAMES = {Side.BUYER: N_("Buyer"), Side.SELLER: N_("Producer")}
CHECK_NAMES = {CheckResult.PASS: N_("Up to standard"), CheckResult.FAIL: N_("Not up to standard")}


field_error = ValidationFailed.on_field


# --- who is acting ---------------------------------------------------------------------------------


def sides_of(session: Session, actor: Actor, order: Order, mine: set[int] | None = None) -> set[Side]:
    """The caller's sides on the order (``mine``: the caller's entities, when already known)."""
    mine = set(scope.entity_ids_of(session, actor)) if mine is None else mine
    out = set()
    if order.buyer_id in mine:
        out.add(Side.BUYER)
    if order.seller_id in mine:
        out.add(Side.SELLER)
    return out


def _may(step: Step, order: Order, sides: set[Side]) -> bool:
    if step.by == By.EITHER:
        return bool(sides)
    if step.by == By.OTHER_SIDE:
        return any(s != order.placed_by for s in sides)
    return Side(step.by.value) in sides


def allowed_actions(order: Order, sides: set[Side]) -> list[str]:
    """The actions this caller may take on the order now, in the table's order."""
    return [a.value for (st, a), step in TRANSITIONS.items() if st == order.state and _may(step, order, sides)]


def check_step(session: Session, *, actor: Actor, order: Order, action: Action) -> tuple[Step, set[Side]]:
    """The step if the table allows ``action`` in the order's state for this caller: 409 listing the allowed
    actions when the state does not allow it, 403 when the state does but not for the caller's side."""
    sides = sides_of(session, actor, order)
    step = TRANSITIONS.get((order.state, action))
    params = {"action": ACTION_NAMES[action], "state": STATE_NAMES[order.state]}
    if step is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not possible: the order is %(state)s"),
            allowed=allowed_actions(order, sides),
            current_state=order.state.value,
            **params,
        )
    if not _may(step, order, sides):
        raise ActionForbidden(
            N_("%(action)s is not for you on this order"),
            allowed=allowed_actions(order, sides),
            current_state=order.state.value,
            **params,
        )
    return step, sides


def _side_for(step: Step, order: Order, sides: set[Side]) -> Side:
    if step.by == By.BUYER:
        return Side.BUYER
    if step.by == By.SELLER:
        return Side.SELLER
    if step.by == By.OTHER_SIDE:
        return next(s for s in sorted(sides) if s != order.placed_by)
    return sorted(sides)[0]


def apply(
    session: Session,
    *,
    actor: Actor,
    order: Order,
    action: Action,
    note: str = "",
    to: OrderState | None = None,
    at: datetime | None = None,
) -> Order:
    """Move the order by ``action`` (the one function that changes an order's state), with its timeline
    row and audit record."""
    step, sides = check_step(session, actor=actor, order=order, action=action)
    target = to if to is not None else step.to[0]
    if target not in step.to:
        raise ValueError(f"{action} does not lead to {target}")
    before = order.state
    order.state, order.changed_at = target, at or utcnow()
    side = _side_for(step, order, sides)
    session.add(
        OrderEvent(
            order_id=order.id,
            at=order.changed_at,
            action=action.value,
            from_state=before,
            to_state=target,
            side=side,
            user_id=actor.id,
            user_name=actor.name,
            note=note[:300],
        )
    )
    audit.record(
        session,
        actor=actor,
        action=f"village.market.order.{action.value}",
        target_type="village_order",
        target_id=order.id,
        detail={"from": before.value, "to": target.value, "side": side.value, "note": note[:300]},
    )
    return order


# --- orders ----------------------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def place(session: Session, *, actor: Actor, body: OrderIn) -> Order:
    """A buyer orders from a supply, or a producer answers a demand."""
    if body.supply_id is not None:
        supply = market.get_supply(session, actor=actor, supply_id=body.supply_id)
        buyer = market.acting_entity(session, actor, entity_id=body.entity_id, buyer=True)
        if market.effective_state(supply) != ListingState.OPEN:
            raise Conflict(N_("The supply listing is not open"))
        left = market.supply_left(session, supply)
        if body.quantity > left + EPSILON:
            raise field_error(
                "quantity", N_("Only %(left)s %(unit)s left in this supply"), left=round(left, 3), unit=supply.unit
            )
        buyer_id, seller_id, price, placed_by = buyer.id, supply.entity_id, supply.price, Side.BUYER
        product_code, unit, demand_id, supply_id = supply.product_code, supply.unit, None, supply.id
    else:
        assert body.demand_id is not None and body.price is not None  # the schema's rule
        demand = market.get_demand(session, actor=actor, demand_id=body.demand_id)
        seller = market.acting_entity(session, actor, entity_id=body.entity_id, buyer=False)
        if demand.state != ListingState.OPEN or demand.period_to < market.today():
            raise Conflict(N_("The demand listing is not open"))
        if body.quantity > demand.quantity + EPSILON:
            raise field_error("quantity", N_("More than the buyer asks for"))
        if demand.max_price is not None and body.price > demand.max_price:
            raise field_error("price", N_("Above the buyer's highest price"))
        buyer_id, seller_id, price, placed_by = demand.entity_id, seller.id, body.price, Side.SELLER
        product_code, unit, demand_id, supply_id = demand.product_code, demand.unit, demand.id, None
    order = Order(
        number=uuid4().hex[:20],
        buyer_id=buyer_id,
        seller_id=seller_id,
        supply_id=supply_id,
        demand_id=demand_id,
        placed_by=placed_by,
        product_code=product_code,
        quantity=body.quantity,
        unit=unit,
        price=price,
        amount=_money(Decimal(str(body.quantity)) * price),
        wanted_on=body.wanted_on,
        note=body.note,
        state=OrderState.PLACED,
        placed_at=utcnow(),
        changed_at=utcnow(),
        created_by=actor.name,
    )
    session.add(order)
    session.flush()
    order.number = f"DD{order.placed_at.astimezone(county_zone()):%Y%m%d}{order.id:06d}"
    session.add(
        OrderEvent(
            order_id=order.id,
            at=order.placed_at,
            action="place",
            from_state=None,
            to_state=OrderState.PLACED,
            side=placed_by,
            user_id=actor.id,
            user_name=actor.name,
            note=body.note[:300],
        )
    )
    audit.record(
        session,
        actor=actor,
        action="village.market.order.place",
        target_type="village_order",
        target_id=order.id,
        detail={
            "number": order.number,
            "quantity": order.quantity,
            "price": str(order.price),
            "supply_id": supply_id,
            "demand_id": demand_id,
        },
    )
    return order


def get(session: Session, *, actor: Actor, order_id: int) -> Order:
    """The order if the caller is its buyer, its producer or the bureau; NotFound otherwise."""
    order = session.get(Order, order_id)
    if order is None or not (scope.sees_all(actor) or sides_of(session, actor, order)):
        raise NotFound(N_("No such order"))
    return order


def act(session: Session, *, actor: Actor, order_id: int, action: Action, reason: str = "") -> Order:
    """Accept or cancel (with a reason). Shipping, arrival and the check carry their own records: the table
    is asked first (a 409 lists what is allowed), then the caller is sent to the delivery's address."""
    order = get(session, actor=actor, order_id=order_id)
    if action in (Action.ACCEPT, Action.CANCEL):
        if action == Action.CANCEL:
            check_step(session, actor=actor, order=order, action=action)
            if not reason.strip():
                raise field_error("reason", N_("Say why the order is cancelled"))
            order.cancel_reason = reason.strip()[:300]
        return apply(session, actor=actor, order=order, action=action, note=reason.strip())
    check_step(session, actor=actor, order=order, action=action)
    raise ValidationFailed(
        N_("Record this step with the delivery: shipping, arrival and the check have their own form")
    )


def list_orders(
    session: Session,
    *,
    actor: Actor,
    state: OrderState | None = None,
    product_code: str | None = None,
    village_code: str | None = None,
    month: str | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> list[Order]:
    """The caller's orders as buyer or producer (the bureau: all), newest first; ``month`` (YYYY-MM) and
    ``village_code`` (the producer's) are the statistics' drill-down filters (month of arrival)."""
    stmt = select(Order)
    if not scope.sees_all(actor):
        mine = scope.entity_ids_of(session, actor)
        stmt = stmt.where(Order.buyer_id.in_(mine) | Order.seller_id.in_(mine))
    if state is not None:
        stmt = stmt.where(Order.state == state)
    if product_code:
        stmt = stmt.where(Order.product_code == product_code)
    if entity_id:
        stmt = stmt.where((Order.buyer_id == entity_id) | (Order.seller_id == entity_id))
    if village_code:
        stmt = stmt.join(Entity, Entity.id == Order.seller_id).where(Entity.village_code.startswith(village_code))
    if month:
        start, end = month_bounds(month)
        stmt = stmt.join(Delivery, Delivery.order_id == Order.id).where(
            Delivery.arrived_at >= start, Delivery.arrived_at < end
        )
    return list(session.scalars(stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)))


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants where a local month (YYYY-MM) starts and the next one starts."""
    try:
        y, m = (int(x) for x in month.split("-"))
        start = datetime(y, m, 1, tzinfo=county_zone())
    except ValueError:
        raise field_error("month", N_("Give the month as YYYY-MM")) from None
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=county_zone())
    return as_utc(start), as_utc(end)


def events(session: Session, *, order_id: int) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)))
