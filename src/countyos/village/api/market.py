"""API of the market part (产供销对接) under /api/v1/village.

Supply listings are posted and closed by producers (``village.produce``), demand listings by buyers
(``village.buy``); both are read by the market's people (producers, buyers, the bureau). Matching gives at
most 50 listings, nearest first, then by price. Orders are seen by their buyer, their producer and the
bureau; their steps follow one transition table (a refused step is a 409 listing the allowed actions).
Statistics are the bureau's (``village.agri.read``). Errors are problem+json.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PermissionDenied
from countyos.core.i18n import gettext
from countyos.sensing.models import Thing
from countyos.village.models.certs import Batch
from countyos.village.models.market import Delivery, Demand, Order, OrderState, Supply
from countyos.village.models.producers import ProductionBase
from countyos.village.permissions import AGRI_MANAGE, AGRI_READ, BUY, PRODUCE
from countyos.village.schemas.market import (
    ActionIn,
    ArriveIn,
    CheckIn,
    DeliveryIn,
    DeliveryItemOut,
    DeliveryOut,
    DemandIn,
    DemandMatchOut,
    DemandOut,
    EventOut,
    ListingPatch,
    OrderIn,
    OrderOut,
    StatRowOut,
    StatsOut,
    SupplyIn,
    SupplyMatchOut,
    SupplyOut,
)
from countyos.village.service import market as svc
from countyos.village.service import market_deliveries as deliveries
from countyos.village.service import market_orders as orders
from countyos.village.service import market_stats as stats
from countyos.village.service import products, scope
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter()
Member = Annotated[Auth, Depends(authenticated)]
Producer = Annotated[Auth, Depends(require(PRODUCE))]
Buyer = Annotated[Auth, Depends(require(BUY))]
Bureau = Annotated[Auth, Depends(require(AGRI_READ))]
MAX_LIMIT = 200
MARKET_PERMISSIONS = (PRODUCE, BUY, AGRI_READ, AGRI_MANAGE)


def in_market(actor: Actor) -> bool:
    return any(actor.can(p) for p in MARKET_PERMISSIONS)


def market_actor(a: Auth) -> Actor:
    """The market is for producers, buyers and the bureau; to anyone else signed in its records do not
    exist (404; the lists are empty)."""
    if not in_market(a.actor):
        raise NotFound()
    return a.actor


# --- outputs ---------------------------------------------------------------------------------------


def supplies_out(session: Session, rows: list[Supply]) -> list[SupplyOut]:
    names = svc.entity_names(session, {s.entity_id for s in rows})
    ordered = svc.ordered_of(session, [s.id for s in rows])
    base_ids = sorted({s.base_id for s in rows if s.base_id is not None})
    bases = {b.id: b for b in session.scalars(select(ProductionBase).where(ProductionBase.id.in_(base_ids)))}
    out = []
    for s in rows:
        b = bases.get(s.base_id) if s.base_id else None
        out.append(
            SupplyOut(
                id=s.id,
                entity_id=s.entity_id,
                entity_name=names.get(s.entity_id, ""),
                product_code=s.product_code,
                product_name=products.product_label(s.product_code),
                quantity=s.quantity,
                left=max(0.0, s.quantity - ordered.get(s.id, 0.0)),
                unit=s.unit,
                period_from=s.period_from,
                period_to=s.period_to,
                price=s.price,
                base_id=s.base_id,
                base_name=b.name if b else None,
                village_name=b.village_name if b else None,
                note=s.note,
                state=svc.effective_state(s),
                url=f"/village/market?supply={s.id}",
            )
        )
    return out


def demands_out(session: Session, rows: list[Demand]) -> list[DemandOut]:
    names = svc.entity_names(session, {d.entity_id for d in rows})
    return [
        DemandOut(
            id=d.id,
            entity_id=d.entity_id,
            entity_name=names.get(d.entity_id, ""),
            product_code=d.product_code,
            product_name=products.product_label(d.product_code),
            quantity=d.quantity,
            unit=d.unit,
            period_from=d.period_from,
            period_to=d.period_to,
            max_price=d.max_price,
            place_name=d.place_name,
            lon=d.lon,
            lat=d.lat,
            frequency=d.frequency,
            note=d.note,
            state=svc.effective_state(d),
            url=f"/village/market/demand#demand-{d.id}",
        )
        for d in rows
    ]


def deliveries_out(session: Session, rows: list[Delivery]) -> list[DeliveryOut]:
    items = deliveries.items_of(session, [d.id for d in rows])
    batch_ids = sorted({i.batch_id for its in items.values() for i in its})
    batches = {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(batch_ids)))}
    thing_ids = [d.thing_id for d in rows if d.thing_id is not None]
    things = {t.id: t for t in session.scalars(select(Thing).where(Thing.id.in_(thing_ids)))}
    out = []
    for d in rows:
        its = [
            DeliveryItemOut(
                batch_id=i.batch_id,
                batch_no=batches[i.batch_id].batch_no,
                trace_code=batches[i.batch_id].trace_code,
                quantity=i.quantity,
            )
            for i in items.get(d.id, [])
            if i.batch_id in batches
        ]
        out.append(
            DeliveryOut(
                id=d.id,
                order_id=d.order_id,
                vehicle_plate=d.vehicle_plate,
                departed_at=d.departed_at,
                arrived_at=d.arrived_at,
                device_key=things[d.thing_id].device_key if d.thing_id in things else None,
                device_name=things[d.thing_id].name if d.thing_id in things else None,
                temp_n=d.temp_n,
                temp_min=d.temp_min,
                temp_mean=d.temp_mean,
                temp_max=d.temp_max,
                temp_limit=d.temp_limit,
                excursion=d.excursion,
                certificate_no=d.certificate_no,
                check_result=d.check_result,
                check_note=d.check_note,
                checked_at=d.checked_at,
                items=its,
            )
        )
    return out


def orders_out(session: Session, actor: Actor, rows: list[Order], *, full: bool = False) -> list[OrderOut]:
    names = svc.entity_names(session, {o.buyer_id for o in rows} | {o.seller_id for o in rows})
    mine = set(scope.entity_ids_of(session, actor))
    out = []
    for o in rows:
        sides = orders.sides_of(session, actor, o, mine)
        out.append(
            OrderOut(
                id=o.id,
                number=o.number,
                buyer_id=o.buyer_id,
                buyer_name=names.get(o.buyer_id, ""),
                seller_id=o.seller_id,
                seller_name=names.get(o.seller_id, ""),
                supply_id=o.supply_id,
                demand_id=o.demand_id,
                placed_by=o.placed_by,
                product_code=o.product_code,
                product_name=products.product_label(o.product_code),
                quantity=o.quantity,
                unit=o.unit,
                price=o.price,
                amount=o.amount,
                wanted_on=o.wanted_on,
                note=o.note,
                state=o.state,
                placed_at=o.placed_at,
                cancel_reason=o.cancel_reason,
                allowed_actions=orders.allowed_actions(o, sides),
                url=f"/village/orders/{o.id}",
                events=[
                    EventOut(
                        at=e.at,
                        action=e.action,
                        from_state=e.from_state,
                        to_state=e.to_state,
                        side=e.side,
                        user_name=e.user_name,
                        note=e.note,
                    )
                    for e in orders.events(session, order_id=o.id)
                ]
                if full
                else [],
                deliveries=deliveries_out(session, deliveries.deliveries_of(session, order_id=o.id)) if full else [],
            )
        )
    return out


def order_out(session: Session, actor: Actor, order: Order) -> OrderOut:
    return orders_out(session, actor, [order], full=True)[0]


# --- supply ----------------------------------------------------------------------------------------


@router.get("/supply")
def list_supply(
    session: ReadSession,
    a: Member,
    product: Annotated[str | None, Query(max_length=40)] = None,
    village: Annotated[str | None, Query(max_length=12, pattern=r"^\d{6,12}$")] = None,
    mine: bool = False,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[SupplyOut]:
    """Supply listings (open ones unless ``open_only=false``); ``mine``: the caller's producers' own."""
    if not in_market(a.actor):
        return []
    actor = a.actor
    rows = svc.list_supply(
        session, actor=actor, mine=mine, open_only=open_only, product_code=product, village_code=village, limit=limit
    )
    return supplies_out(session, rows)


@router.post("/supply", status_code=201)
def create_supply(body: SupplyIn, session: WriteSession, a: Producer) -> SupplyOut:
    return supplies_out(session, [svc.create_supply(session, actor=a.actor, body=body)])[0]


@router.patch("/supply/{supply_id}")
def close_supply(supply_id: int, body: ListingPatch, session: WriteSession, a: Producer) -> SupplyOut:
    return supplies_out(session, [svc.close_supply(session, actor=a.actor, supply_id=supply_id)])[0]


@router.get("/supply/{supply_id}/matches")
def supply_matches(
    supply_id: int, session: ReadSession, a: Member, limit: Annotated[int, Query(ge=1, le=50)] = 50
) -> list[DemandMatchOut]:
    """Open demands of the same product whose period overlaps, nearest first, then the highest price."""
    found = svc.matches_for_supply(session, actor=market_actor(a), supply_id=supply_id, most=limit)
    outs = demands_out(session, [m.listing for m in found if isinstance(m.listing, Demand)])
    return [
        DemandMatchOut(demand=o, distance_km=None if m.distance_km is None else round(m.distance_km, 1))
        for o, m in zip(outs, found, strict=True)
    ]


# --- demand ----------------------------------------------------------------------------------------


@router.get("/demand")
def list_demand(
    session: ReadSession,
    a: Member,
    product: Annotated[str | None, Query(max_length=40)] = None,
    mine: bool = False,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[DemandOut]:
    if not in_market(a.actor):
        return []
    actor = a.actor
    rows = svc.list_demand(session, actor=actor, mine=mine, open_only=open_only, product_code=product, limit=limit)
    return demands_out(session, rows)


@router.post("/demand", status_code=201)
def create_demand(body: DemandIn, session: WriteSession, a: Buyer) -> DemandOut:
    return demands_out(session, [svc.create_demand(session, actor=a.actor, body=body)])[0]


@router.patch("/demand/{demand_id}")
def close_demand(demand_id: int, body: ListingPatch, session: WriteSession, a: Buyer) -> DemandOut:
    return demands_out(session, [svc.close_demand(session, actor=a.actor, demand_id=demand_id)])[0]


@router.get("/demand/{demand_id}/matches")
def demand_matches(
    demand_id: int, session: ReadSession, a: Member, limit: Annotated[int, Query(ge=1, le=50)] = 50
) -> list[SupplyMatchOut]:
    """Open supplies of the same product whose period overlaps, nearest first (km), then cheapest."""
    found = svc.matches_for_demand(session, actor=market_actor(a), demand_id=demand_id, most=limit)
    outs = supplies_out(session, [m.listing for m in found if isinstance(m.listing, Supply)])
    return [
        SupplyMatchOut(supply=o, distance_km=None if m.distance_km is None else round(m.distance_km, 1))
        for o, m in zip(outs, found, strict=True)
    ]


# --- orders ----------------------------------------------------------------------------------------


@router.get("/orders")
def list_orders(
    session: ReadSession,
    a: Member,
    state: OrderState | None = None,
    product: Annotated[str | None, Query(max_length=40)] = None,
    village: Annotated[str | None, Query(max_length=12, pattern=r"^(\d{6,12}|-)$")] = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    unit: Annotated[str | None, Query(max_length=10)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[OrderOut]:
    """The caller's orders (the bureau's: all), newest first. With ``from`` and ``to`` (the statistics'
    drill-down): the orders checked and accepted on arrival in that period, by the same rule as the figures."""
    if not in_market(a.actor):
        return []
    actor = a.actor
    if date_from is not None and date_to is not None:
        if not (actor.can(AGRI_READ) or actor.can(AGRI_MANAGE)):
            raise PermissionDenied()
        f = stats.Filter(date_from, date_to, product=product, village=village, month=month, unit=unit)
        rows = [r.order for r in stats.sales_records(session, f)][: stats.MOST_RECORDS]
        return orders_out(session, actor, rows)
    rows = orders.list_orders(
        session,
        actor=actor,
        state=state,
        product_code=product,
        village_code=village if village != "-" else None,
        month=month,
        limit=limit,
    )
    return orders_out(session, actor, rows)


@router.post("/orders", status_code=201)
def place_order(body: OrderIn, session: WriteSession, a: Member) -> OrderOut:
    """A buyer orders from a supply (``supply_id``), or a producer answers a demand (``demand_id``, price)."""
    actor = market_actor(a)
    return order_out(session, actor, orders.place(session, actor=actor, body=body))


@router.get("/orders/{order_id}")
def get_order(order_id: int, session: ReadSession, a: Member) -> OrderOut:
    actor = market_actor(a)
    return order_out(session, actor, orders.get(session, actor=actor, order_id=order_id))


@router.post("/orders/{order_id}/deliveries", status_code=201)
def ship(order_id: int, body: DeliveryIn, session: WriteSession, a: Producer) -> DeliveryOut:
    """Ship the order: the batches, the vehicle, the departure and the cold-chain device if any."""
    return deliveries_out(session, [deliveries.ship(session, actor=a.actor, order_id=order_id, body=body)])[0]


@router.post("/orders/{order_id}/{action}")
def act(
    order_id: int, action: orders.Action, session: WriteSession, a: Member, body: ActionIn | None = None
) -> OrderOut:
    """``accept`` or ``cancel`` (with a ``reason``); the table decides (409 with the allowed actions)."""
    actor = market_actor(a)
    o = orders.act(session, actor=actor, order_id=order_id, action=action, reason=body.reason if body else "")
    return order_out(session, actor, o)


@router.post("/deliveries/{delivery_id}/arrive")
def arrive(delivery_id: int, session: WriteSession, a: Member, body: ArriveIn | None = None) -> DeliveryOut:
    """The delivery arrived: the cold-chain temperatures between departure and arrival are summed up."""
    actor = market_actor(a)
    return deliveries_out(
        session, [deliveries.arrive(session, actor=actor, delivery_id=delivery_id, body=body or ArriveIn())]
    )[0]


@router.post("/deliveries/{delivery_id}/check")
def check(delivery_id: int, body: CheckIn, session: WriteSession, a: Buyer) -> DeliveryOut:
    """入市查验: the 合格证 number seen (one of the delivered batches'), the result and a note."""
    return deliveries_out(session, [deliveries.check(session, actor=a.actor, delivery_id=delivery_id, body=body)])[0]


# --- statistics ------------------------------------------------------------------------------------


def default_range() -> tuple[date, date]:
    today = svc.today()
    return date(today.year, 1, 1), today


def stats_out(session: Session, *, by: str, date_from: date, date_to: date) -> StatsOut:
    rows = []
    for r in stats.table(session, by=by, date_from=date_from, date_to=date_to):
        q = stats.filter_for(by, r, date_from, date_to).query()
        rows.append(
            StatRowOut(
                key=r.key,
                label=r.label,
                unit=r.unit,
                output_quantity=round(r.output_quantity, 3),
                output_value=r.output_value,
                output_value_known=r.output_value_known,
                batches=r.batches,
                sales_quantity=round(r.sales_quantity, 3),
                sales_amount=r.sales_amount,
                orders=r.orders,
                batches_url=f"/village/market/batches?{q}",
                orders_url=f"/village/orders?{q}",
            )
        )
    return StatsOut(by=by, date_from=date_from, date_to=date_to, rows=rows, definition=gettext(stats.DEFINITION))


@router.get("/market/stats")
def market_stats(
    session: ReadSession,
    a: Bureau,
    by: Annotated[str, Query(pattern=r"^(product|village|month)$")] = "product",
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> StatsOut:
    """Output, output value and sales by product, village or month; each row links to its records."""
    d0, d1 = default_range()
    return stats_out(session, by=by, date_from=date_from or d0, date_to=date_to or d1)
