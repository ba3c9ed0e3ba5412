"""Service of the market part (产供销对接): supply and demand listings and their matching.

A producer lists what it can supply (product, quantity, period, price, 基地); a buyer lists what it needs
(product, quantity, period, highest price, delivery place, how often). Matching a demand gives the open
supplies of the same product whose period overlaps, nearest first by straight-line (haversine) distance
from the delivery place to the centroid of the supply's 基地, then cheapest; matching a supply gives the
demands likewise. Orders, deliveries and checks are in ``market_orders``; figures in ``market_stats``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today, county_zone, utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.service import divisions
from countyos.org.service import audit
from countyos.village.models.market import Demand, ListingState, Order, OrderState, Supply
from countyos.village.models.producers import BUYER_KINDS, PRODUCER_KINDS, Entity, ProductionBase
from countyos.village.permissions import PRODUCE
from countyos.village.schemas.market import DemandIn, SupplyIn
from countyos.village.service import products, scope

EARTH_RADIUS_KM = 6371.0088
LIVE_ORDER_STATES = frozenset(set(OrderState) - {OrderState.CANCELLED})

STATE_NAMES = {
    ListingState.OPEN: N_("Open for orders"),
    ListingState.CLOSED: N_("Listing closed"),
    ListingState.EXPIRED: N_("Expired"),
}


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """The market's data: cold-chain limit, matching bounds (``village/data/market.json``, with its source)."""
    data: dict[str, Any] = json.loads(
        resources.files("countyos.village").joinpath("data/market.json").read_text("utf-8")
    )
    return data


today = county_today


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km on the mean Earth sphere (IUGG R1)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


_field = ValidationFailed.on_field


# --- acting for an entity --------------------------------------------------------------------------


def acting_entity(session: Session, actor: Actor, *, entity_id: int | None, buyer: bool) -> Entity:
    """The producer (or buyer) this person acts for: the one named, or their only one of that kind."""
    kinds = BUYER_KINDS if buyer else PRODUCER_KINDS
    if entity_id is not None:
        scope.require_member(session, actor, entity_id)
        entity = scope.entity_for(session, actor, entity_id, write=True)
        if entity.kind not in kinds:
            raise _field("entity_id", N_("This is not a buyer") if buyer else N_("This is not a producer"))
        return entity
    ids = scope.entity_ids_of(session, actor)
    found = list(session.scalars(select(Entity).where(Entity.id.in_(ids), Entity.kind.in_(kinds)))) if ids else []
    if not found:
        raise PermissionDenied(N_("You do not act for a buyer") if buyer else N_("You do not act for a producer"))
    if len(found) > 1:
        raise _field("entity_id", N_("You act for several; choose which one"))
    return found[0]


entity_names = scope.entity_names


def _visible(session: Session, actor: Actor, entity_id: int) -> bool:
    return scope.sees_all(actor) or entity_id in scope.entity_ids_of(session, actor)


# --- supply ----------------------------------------------------------------------------------------


def effective_state(listing: Supply | Demand, on: date | None = None) -> ListingState:
    """Open supply listings read as expired once their period has passed (before the daily job marks them)."""
    if isinstance(listing, Supply) and listing.state == ListingState.OPEN and listing.period_to < (on or today()):
        return ListingState.EXPIRED
    return listing.state


def ordered_of(session: Session, supply_ids: list[int]) -> dict[int, float]:
    """How much has been ordered (not cancelled) from each supply."""
    if not supply_ids:
        return {}
    rows = session.execute(
        select(Order.supply_id, func.sum(Order.quantity))
        .where(Order.supply_id.in_(supply_ids), Order.state.in_(LIVE_ORDER_STATES))
        .group_by(Order.supply_id)
    )
    return {int(sid): float(q or 0) for sid, q in rows if sid is not None}


def supply_left(session: Session, supply: Supply) -> float:
    return max(0.0, supply.quantity - ordered_of(session, [supply.id]).get(supply.id, 0.0))


def _unit(product_code: str, unit: str | None) -> str:
    p = products.product(product_code)
    if unit and unit != p.unit:
        raise _field("unit", N_("Use the product's unit"))
    return p.unit


def create_supply(session: Session, *, actor: Actor, body: SupplyIn) -> Supply:
    entity = acting_entity(session, actor, entity_id=body.entity_id, buyer=False)
    unit = _unit(body.product_code, body.unit)
    if body.period_to < today():
        raise _field("period_to", N_("The period has already ended"))
    if body.base_id is not None:
        base = session.get(ProductionBase, body.base_id)
        if base is None or base.entity_id != entity.id:
            raise _field("base_id", N_("Not one of this producer's bases"))
    s = Supply(
        entity_id=entity.id,
        base_id=body.base_id,
        product_code=body.product_code,
        quantity=body.quantity,
        unit=unit,
        period_from=body.period_from,
        period_to=body.period_to,
        price=body.price,
        note=body.note,
        state=ListingState.OPEN,
        created_by=actor.name,
    )
    session.add(s)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="village.market.supply.create",
        target_type="village_supply",
        target_id=s.id,
        detail={"entity_id": entity.id, "product": s.product_code, "quantity": s.quantity, "price": str(s.price)},
    )
    return s


def get_supply(session: Session, *, actor: Actor, supply_id: int) -> Supply:
    """Any signed-in buyer, producer or bureau may read a supply listing (the market is open to them)."""
    s = session.get(Supply, supply_id)
    if s is None:
        raise NotFound(N_("No such supply listing"))
    return s


def close_supply(session: Session, *, actor: Actor, supply_id: int) -> Supply:
    s = get_supply(session, actor=actor, supply_id=supply_id)
    scope.require_member(session, actor, s.entity_id)
    if s.state != ListingState.OPEN:
        raise Conflict(N_("The listing is not open"))
    s.state, s.closed_at = ListingState.CLOSED, utcnow()
    audit.record(
        session, actor=actor, action="village.market.supply.close", target_type="village_supply", target_id=s.id
    )
    return s


def list_supply(
    session: Session,
    *,
    actor: Actor,
    mine: bool = False,
    open_only: bool = True,
    product_code: str | None = None,
    village_code: str | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> list[Supply]:
    stmt = select(Supply)
    if mine:
        stmt = stmt.where(Supply.entity_id.in_(scope.entity_ids_of(session, actor)))
    if open_only:
        stmt = stmt.where(Supply.state == ListingState.OPEN, Supply.period_to >= today())
    if product_code:
        stmt = stmt.where(Supply.product_code == product_code)
    if entity_id:
        stmt = stmt.where(Supply.entity_id == entity_id)
    if village_code:
        stmt = stmt.join(Entity, Entity.id == Supply.entity_id).where(Entity.village_code.startswith(village_code))
    return list(session.scalars(stmt.order_by(Supply.period_from.desc(), Supply.id.desc()).limit(limit)))


# --- demand ----------------------------------------------------------------------------------------


def place_of(session: Session, entity: Entity) -> tuple[float, float, str]:
    """The buyer's village (a point inside it) as the delivery place."""
    if not entity.village_code:
        raise _field("lon", N_("The buyer has no village; give the delivery place as a point"))
    try:
        d = divisions.get_by_code(session, code=entity.village_code)
    except NotFound:
        raise _field("lon", N_("The buyer has no village; give the delivery place as a point")) from None
    p = d.geom.representative_point()
    return float(p.x), float(p.y), entity.address or entity.village_name or d.name


def create_demand(session: Session, *, actor: Actor, body: DemandIn) -> Demand:
    entity = acting_entity(session, actor, entity_id=body.entity_id, buyer=True)
    unit = _unit(body.product_code, body.unit)
    if body.period_to < today():
        raise _field("period_to", N_("The period has already ended"))
    if body.lon is not None and body.lat is not None:
        lon, lat, place = body.lon, body.lat, body.place_name or entity.address or entity.name
    else:
        lon, lat, place = place_of(session, entity)
        place = body.place_name or place
    d = Demand(
        entity_id=entity.id,
        product_code=body.product_code,
        quantity=body.quantity,
        unit=unit,
        period_from=body.period_from,
        period_to=body.period_to,
        max_price=body.max_price,
        place_name=place,
        lon=lon,
        lat=lat,
        frequency=body.frequency,
        note=body.note,
        state=ListingState.OPEN,
        created_by=actor.name,
    )
    session.add(d)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="village.market.demand.create",
        target_type="village_demand",
        target_id=d.id,
        detail={"entity_id": entity.id, "product": d.product_code, "quantity": d.quantity},
    )
    return d


def get_demand(session: Session, *, actor: Actor, demand_id: int) -> Demand:
    d = session.get(Demand, demand_id)
    if d is None:
        raise NotFound(N_("No such demand listing"))
    return d


def close_demand(session: Session, *, actor: Actor, demand_id: int) -> Demand:
    d = get_demand(session, actor=actor, demand_id=demand_id)
    scope.require_member(session, actor, d.entity_id)
    if d.state != ListingState.OPEN:
        raise Conflict(N_("The listing is not open"))
    d.state, d.closed_at = ListingState.CLOSED, utcnow()
    audit.record(
        session, actor=actor, action="village.market.demand.close", target_type="village_demand", target_id=d.id
    )
    return d


def list_demand(
    session: Session,
    *,
    actor: Actor,
    mine: bool = False,
    open_only: bool = True,
    product_code: str | None = None,
    limit: int = 100,
) -> list[Demand]:
    stmt = select(Demand)
    if mine:
        stmt = stmt.where(Demand.entity_id.in_(scope.entity_ids_of(session, actor)))
    if open_only:
        stmt = stmt.where(Demand.state == ListingState.OPEN, Demand.period_to >= today())
    if product_code:
        stmt = stmt.where(Demand.product_code == product_code)
    return list(session.scalars(stmt.order_by(Demand.period_from.desc(), Demand.id.desc()).limit(limit)))


# --- matching --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    listing: Supply | Demand
    distance_km: float | None


def base_points(session: Session, base_ids: set[int]) -> dict[int, tuple[float, float]]:
    """The centroid (lon, lat) of each 基地's polygon."""
    if not base_ids:
        return {}
    out = {}
    for b in session.scalars(select(ProductionBase).where(ProductionBase.id.in_(sorted(base_ids)))):
        c = b.geom.centroid
        out[b.id] = (float(c.x), float(c.y))
    return out


def _distance(point: tuple[float, float] | None, lon: float, lat: float) -> float | None:
    return None if point is None else haversine_km(point[0], point[1], lon, lat)


def _sort_key(m: Match, price: Any) -> tuple[int, float, float, int]:
    return (m.distance_km is None, m.distance_km or 0.0, float(price), m.listing.id)


def matches_for_demand(session: Session, *, actor: Actor, demand_id: int, most: int = 50) -> list[Match]:
    """Open supplies of the demand's product whose period overlaps it and with something left, nearest
    first (haversine from the delivery place to the 基地's centroid; a supply without a 基地 last), then
    cheapest. At most ``most`` (≤ 50)."""
    d = get_demand(session, actor=actor, demand_id=demand_id)
    if not _visible(session, actor, d.entity_id) and not actor.can(PRODUCE):
        raise NotFound(N_("No such demand listing"))
    cfg = settings()["matching"]
    rows = list(
        session.scalars(
            select(Supply)
            .where(
                Supply.product_code == d.product_code,
                Supply.state == ListingState.OPEN,
                Supply.period_to >= max(today(), d.period_from),
                Supply.period_from <= d.period_to,
            )
            .order_by(Supply.id)
            .limit(int(cfg["candidates"]))
        )
    )
    ordered = ordered_of(session, [s.id for s in rows])
    rows = [s for s in rows if s.quantity - ordered.get(s.id, 0.0) > 0]
    points = base_points(session, {s.base_id for s in rows if s.base_id is not None})
    found = [Match(s, _distance(points.get(s.base_id) if s.base_id else None, d.lon, d.lat)) for s in rows]
    found.sort(key=lambda m: _sort_key(m, m.listing.price if isinstance(m.listing, Supply) else 0))
    return found[: min(most, int(cfg["most"]))]


def matches_for_supply(session: Session, *, actor: Actor, supply_id: int, most: int = 50) -> list[Match]:
    """Open demands of the supply's product whose period overlaps it, nearest first, then the highest price
    offered (a demand without a highest price after those with one)."""
    s = get_supply(session, actor=actor, supply_id=supply_id)
    cfg = settings()["matching"]
    rows = list(
        session.scalars(
            select(Demand)
            .where(
                Demand.product_code == s.product_code,
                Demand.state == ListingState.OPEN,
                Demand.period_to >= max(today(), s.period_from),
                Demand.period_from <= s.period_to,
            )
            .order_by(Demand.id)
            .limit(int(cfg["candidates"]))
        )
    )
    point = base_points(session, {s.base_id}).get(s.base_id) if s.base_id else None
    found = [Match(d, _distance(point, d.lon, d.lat)) for d in rows]

    def key(m: Match) -> tuple[int, float, float, int]:
        price = m.listing.max_price if isinstance(m.listing, Demand) else None
        return (m.distance_km is None, m.distance_km or 0.0, -float(price) if price is not None else 0.0, m.listing.id)

    found.sort(key=key)
    return found[: min(most, int(cfg["most"]))]


def expire_listings(session: Session, *, actor: Actor, now: datetime | None = None) -> int:
    """Mark open supply listings whose period has passed as expired (the daily job). A demand has no
    expired state: past its period it is simply no longer matched."""
    on = (now or utcnow()).astimezone(county_zone()).date()
    n = 0
    for listing in session.scalars(select(Supply).where(Supply.state == ListingState.OPEN, Supply.period_to < on)):
        listing.state = ListingState.EXPIRED
        n += 1
    if n:
        audit.record(session, actor=actor, action="village.market.expire", detail={"listings": n})
    return n
