"""Pages of the market part (产供销对接), phone-friendly (a canteen's buyer orders on a phone).

- ``/village/market``: open supply with filters (product, village), ordering from a listing; a buyer's open
  demands with their matches, nearest first.
- ``/village/market/supply``: a producer's supply listings and a new one; ``/village/market/demand``: a
  buyer's demand listings and a new one.
- ``/village/orders[/{id}]``, ``/village/market/stats``, ``/village/market/batches``: in ``market_orders``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.village.api import market as api
from countyos.village.models.market import ListingState
from countyos.village.models.producers import BUYER_KINDS, PRODUCER_KINDS, Entity, ProductionBase
from countyos.village.pages.market_orders import NAV as ORDER_NAV
from countyos.village.pages.market_orders import SECTION
from countyos.village.pages.market_orders import router as orders_router
from countyos.village.permissions import AGRI_READ, BUY, PRODUCE
from countyos.village.schemas.market import DemandIn, OrderIn, SupplyIn
from countyos.village.service import market as svc
from countyos.village.service import market_orders as orders
from countyos.village.service import products, scope
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.forms import PostedForm, Refused, parse, typed
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates

router = APIRouter(include_in_schema=False)
router.include_router(orders_router)
NAV = [
    NavItem(SECTION, N_("Market: supply and demand"), "/village/market", PRODUCE, order=640),
    NavItem(SECTION, N_("Market: supply and demand"), "/village/market", BUY, order=640),
    NavItem(SECTION, N_("Market: supply and demand"), "/village/market", AGRI_READ, order=640),
    NavItem(SECTION, N_("My supply"), "/village/market/supply", PRODUCE, order=641),
    NavItem(SECTION, N_("My demand"), "/village/market/demand", BUY, order=642),
    *ORDER_NAV,
]
Member = Annotated[Auth, Depends(authenticated)]
Producer = Annotated[Auth, Depends(require(PRODUCE))]
Buyer = Annotated[Auth, Depends(require(BUY))]
SUPPLY_FIELDS = ("entity_id", "product_code", "quantity", "price", "period_from", "period_to", "base_id", "note")
DEMAND_FIELDS = (
    "entity_id",
    "product_code",
    "quantity",
    "max_price",
    "period_from",
    "period_to",
    "place_name",
    "frequency",
    "note",
)
MOST_MATCHES = 10

audit.name_codes(
    actions={
        "village.market.supply.create": N_("Supply listed"),
        "village.market.supply.close": N_("Supply listing closed"),
        "village.market.demand.create": N_("Demand listed"),
        "village.market.demand.close": N_("Demand listing closed"),
        "village.market.expire": N_("Supply listings past their period marked expired"),
        "village.market.order.place": N_("Order placed"),
        "village.market.order.accept": N_("Order accepted"),
        "village.market.order.cancel": N_("Order cancelled"),
        "village.market.order.ship": N_("Order shipped"),
        "village.market.order.arrive": N_("Delivery arrived"),
        "village.market.order.check": N_("Delivery checked on arrival"),
    },
    targets={
        "village_supply": N_("Supply listing"),
        "village_demand": N_("Demand listing"),
        "village_order": N_("Order"),
    },
)


def common() -> dict[str, Any]:
    cat = products.catalog()
    return {
        "products": sorted(cat.products.values(), key=lambda p: (p.class_code, p.code)),
        "product_label": products.product_label,
        "unit_label": products.unit_label,
        "listing_states": svc.STATE_NAMES,
        "order_states": orders.STATE_NAMES,
        "today": svc.today(),
    }


def _entities(session: Session, a: Auth, *, buyer: bool) -> list[Any]:
    ids = scope.entity_ids_of(session, a.actor)
    kinds = BUYER_KINDS if buyer else PRODUCER_KINDS
    if not ids:
        return []
    return list(session.scalars(select(Entity).where(Entity.id.in_(ids), Entity.kind.in_(kinds)).order_by(Entity.id)))


def _bases(session: Session, entity_ids: list[int]) -> list[Any]:
    if not entity_ids:
        return []
    stmt = select(ProductionBase).where(ProductionBase.entity_id.in_(entity_ids), ProductionBase.active.is_(True))
    return list(session.scalars(stmt.order_by(ProductionBase.name)))


# --- the market ------------------------------------------------------------------------------------


@router.get("/village/market")
def market_page(
    request: Request, session: ReadSession, a: Member, product: str = "", village: str = "", supply: str = ""
) -> Response:
    return _market(request, session, a, product=product, village=village, supply=supply, form=Refused.empty())


def _market(
    request: Request, session: Session, a: Auth, *, product: str, village: str, supply: str, form: Refused
) -> Response:
    actor = api.market_actor(a)
    product = product if product in products.catalog().products else ""
    village = village if village.isdigit() and len(village) <= 12 else ""
    rows = svc.list_supply(session, actor=actor, product_code=product or None, village_code=village or None)
    demands: list[tuple[Any, list[Any]]] = []
    if actor.can(BUY):
        mine = svc.list_demand(session, actor=actor, mine=True)[:20]
        for d in mine:
            found = svc.matches_for_demand(session, actor=actor, demand_id=d.id, most=MOST_MATCHES)
            outs = api.supplies_out(session, [m.listing for m in found])  # type: ignore[misc]
            demands.append((api.demands_out(session, [d])[0], list(zip(outs, found, strict=True))))
    chosen = int(supply) if supply.isdigit() and len(supply) < 10 else None
    return templates(request).render(
        request,
        "village/market/market.html",
        {
            **common(),
            "rows": api.supplies_out(session, rows),
            "product": product,
            "village": village,
            "demands": demands,
            "can_buy": actor.can(BUY),
            "chosen": chosen,
            "form": form,
        },
        status_code=form.status,
    )


@router.post("/village/market/order")
def order_from_market(request: Request, session: WriteSession, a: Buyer, form: PostedForm) -> Response:
    values = typed(form, ("supply_id", "quantity", "wanted_on", "note"))
    try:
        order = orders.place(session, actor=a.actor, body=parse(OrderIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which=values["supply_id"])
        return _market(request, session, a, product="", village="", supply=values["supply_id"], form=refused)
    return redirect(f"/village/orders/{order.id}", N_("Order placed"))


# --- supply ----------------------------------------------------------------------------------------


@router.get("/village/market/supply")
def supply_page(request: Request, session: ReadSession, a: Producer) -> Response:
    return _supply(request, session, a, Refused.empty())


def _supply(request: Request, session: Session, a: Auth, form: Refused) -> Response:
    entities = _entities(session, a, buyer=False)
    rows = svc.list_supply(session, actor=a.actor, mine=True, open_only=False, limit=200)
    return templates(request).render(
        request,
        "village/market/supply.html",
        {
            **common(),
            "rows": api.supplies_out(session, rows),
            "entities": entities,
            "bases": _bases(session, [e.id for e in entities]),
            "form": form,
            "default_to": svc.today() + timedelta(days=30),
            "open_state": ListingState.OPEN,
        },
        status_code=form.status,
    )


@router.post("/village/market/supply")
def supply_create(request: Request, session: WriteSession, a: Producer, form: PostedForm) -> Response:
    values = typed(form, SUPPLY_FIELDS)
    try:
        svc.create_supply(session, actor=a.actor, body=parse(SupplyIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _supply(request, session, a, Refused.of(request, exc, values))
    return redirect("/village/market/supply", N_("Supply listed"))


@router.post("/village/market/supply/{supply_id}/close")
def supply_close(supply_id: int, session: WriteSession, a: Producer) -> Response:
    svc.close_supply(session, actor=a.actor, supply_id=supply_id)
    return redirect("/village/market/supply", N_("Supply listing closed"))


# --- demand ----------------------------------------------------------------------------------------


@router.get("/village/market/demand")
def demand_page(request: Request, session: ReadSession, a: Buyer) -> Response:
    return _demand(request, session, a, Refused.empty())


def _demand(request: Request, session: Session, a: Auth, form: Refused) -> Response:
    rows = svc.list_demand(session, actor=a.actor, mine=True, open_only=False, limit=200)
    return templates(request).render(
        request,
        "village/market/demand.html",
        {
            **common(),
            "rows": api.demands_out(session, rows),
            "entities": _entities(session, a, buyer=True),
            "form": form,
            "default_to": svc.today() + timedelta(days=30),
            "open_state": ListingState.OPEN,
        },
        status_code=form.status,
    )


@router.post("/village/market/demand")
def demand_create(request: Request, session: WriteSession, a: Buyer, form: PostedForm) -> Response:
    values = typed(form, DEMAND_FIELDS)
    try:
        svc.create_demand(session, actor=a.actor, body=parse(DemandIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _demand(request, session, a, Refused.of(request, exc, values))
    return redirect("/village/market/demand", N_("Demand listed"))


@router.post("/village/market/demand/{demand_id}/close")
def demand_close(demand_id: int, session: WriteSession, a: Buyer) -> Response:
    svc.close_demand(session, actor=a.actor, demand_id=demand_id)
    return redirect("/village/market/demand", N_("Demand listing closed"))
