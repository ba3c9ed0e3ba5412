"""Pages of orders, deliveries and the market's figures.

- ``/village/orders``: the caller's orders (the bureau: all); with ``from``/``to`` the statistics'
  drill-down (orders checked and accepted on arrival, by the figures' own rule).
- ``/village/orders/{id}``: the timeline, the delivery with its cold-chain temperatures and batches (each
  with a "扫码查看追溯" link to its trace page), and the forms of the steps the caller may take.
- ``/village/market/stats`` (+ ``.xlsx``/``.csv``): output, output value and sales by product, village or
  month; ``/village/market/batches``: the batches behind an output figure.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from countyos.sensing.models import Thing
from countyos.village.api import market as api
from countyos.village.models.certs import Batch
from countyos.village.models.market import OrderState, Side
from countyos.village.permissions import AGRI_READ, BUY, PRODUCE
from countyos.village.schemas.market import ActionIn, ArriveIn, CheckIn, DeliveryIn
from countyos.village.service import market as svc
from countyos.village.service import market_deliveries as deliveries
from countyos.village.service import market_orders as orders
from countyos.village.service import market_stats as stats
from countyos.village.service import products
from countyos.village.service.producers import KIND_NAMES
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.forms import PostedForm, Refused, parse, typed
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates

router = APIRouter(include_in_schema=False)
SECTION = N_("Agriculture")
NAV = [
    NavItem(SECTION, N_("Orders"), "/village/orders", PRODUCE, order=643),
    NavItem(SECTION, N_("Orders"), "/village/orders", BUY, order=643),
    NavItem(SECTION, N_("Orders"), "/village/orders", AGRI_READ, order=643),
    NavItem(SECTION, N_("Output and sales"), "/village/market/stats", AGRI_READ, order=644),
]
Member = Annotated[Auth, Depends(authenticated)]
Bureau = Annotated[Auth, Depends(require(AGRI_READ))]
Producer = Annotated[Auth, Depends(require(PRODUCE))]
Buyer = Annotated[Auth, Depends(require(BUY))]
BY_NAMES = {"product": N_("By product"), "village": N_("By village"), "month": N_("By month")}
SHIP_ROWS = 3


def _common() -> dict[str, Any]:
    return {
        "order_states": orders.STATE_NAMES,
        "action_names": orders.ACTION_NAMES,
        "side_names": orders.SIDE_NAMES,
        "check_names": orders.CHECK_NAMES,
        "kind_names": KIND_NAMES,
        "product_label": products.product_label,
        "unit_label": products.unit_label,
    }


def _date(value: str, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _filter(product: str, village: str, month: str, unit: str, date_from: str, date_to: str) -> stats.Filter:
    d0, d1 = api.default_range()
    return stats.Filter(
        _date(date_from, d0),
        _date(date_to, d1),
        product=product if product in products.catalog().products else None,
        village=village if (village.isdigit() and len(village) <= 12) or village == stats.NO_VILLAGE else None,
        month=month if len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit() else None,
        unit=unit[:10] or None,
    )


# --- orders ----------------------------------------------------------------------------------------


@router.get("/village/orders")
def orders_page(
    request: Request,
    session: ReadSession,
    a: Member,
    state: str = "",
    product: str = "",
    village: str = "",
    month: str = "",
    unit: str = "",
) -> Response:
    actor = api.market_actor(a)
    q = request.query_params
    drill = None
    if q.get("from") and q.get("to") and actor.can(AGRI_READ):
        drill = _filter(product, village, month, unit, q.get("from", ""), q.get("to", ""))
        records = stats.sales_records(session, drill)[: stats.MOST_RECORDS]
        rows = [r.order for r in records]
        total_q, total_a = stats.sum_sales(records)
    else:
        st = OrderState(state) if state in set(OrderState) else None
        rows = orders.list_orders(session, actor=actor, state=st, product_code=product or None, limit=200)
        total_q, total_a = None, None
    return templates(request).render(
        request,
        "village/market/orders.html",
        {
            **_common(),
            "rows": api.orders_out(session, actor, rows),
            "state": state,
            "drill": drill,
            "total_quantity": total_q,
            "total_amount": total_a,
            "states": list(OrderState),
        },
    )


@router.get("/village/orders/{order_id}")
def order_page(request: Request, order_id: int, session: ReadSession, a: Member) -> Response:
    return _order(request, session, a, order_id, Refused.empty())


def _order(request: Request, session: Session, a: Auth, order_id: int, form: Refused) -> Response:
    actor = api.market_actor(a)
    order = orders.get(session, actor=actor, order_id=order_id)
    out = api.order_out(session, actor, order)
    sides = orders.sides_of(session, actor, order)
    batches: list[tuple[Batch, float]] = []
    devices: list[tuple[str, str]] = []
    if "ship" in out.allowed_actions:
        rows = list(
            session.scalars(
                select(Batch)
                .where(Batch.entity_id == order.seller_id, Batch.product_code == order.product_code)
                .order_by(Batch.harvest_date.desc(), Batch.id.desc())
                .limit(50)
            )
        )
        left = deliveries.delivered_of(session, [b.id for b in rows])
        batches = [(b, b.quantity - left.get(b.id, 0.0)) for b in rows if b.quantity - left.get(b.id, 0.0) > 0]
        cls = svc.settings()["cold_chain"]["device_class"]
        devices = [
            (t.device_key, t.name)
            for t in session.scalars(select(Thing).where(Thing.device_class == cls))
            if t.device_key
        ]
    return templates(request).render(
        request,
        "village/market/order.html",
        {
            **_common(),
            "o": out,
            "sides": sides,
            "seller_side": Side.SELLER in sides,
            "buyer_side": Side.BUYER in sides,
            "batches": batches,
            "devices": sorted(devices),
            "ship_rows": range(1, SHIP_ROWS + 1),
            "form": form,
        },
        status_code=form.status,
    )


@router.post("/village/orders/{order_id}/act")
def order_act(request: Request, order_id: int, session: WriteSession, a: Member, form: PostedForm) -> Response:
    values = typed(form, ("action", "reason"))
    actor = api.market_actor(a)
    try:
        action = orders.Action(values["action"]) if values["action"] in set(orders.Action) else None
        if action not in (orders.Action.ACCEPT, orders.Action.CANCEL):
            raise NotFound()
        body = parse(ActionIn, {"reason": values["reason"]})
        orders.act(session, actor=actor, order_id=order_id, action=action, reason=body.reason)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _order(request, session, a, order_id, Refused.of(request, exc, values, which="act"))
    return redirect(f"/village/orders/{order_id}", gettext(orders.ACTION_NAMES[action]))


@router.post("/village/orders/{order_id}/ship")
def order_ship(request: Request, order_id: int, session: WriteSession, a: Producer, form: PostedForm) -> Response:
    names = ["vehicle_plate", "device_key"]
    for i in range(1, SHIP_ROWS + 1):
        names += [f"batch_{i}", f"quantity_{i}"]
    values = typed(form, names)
    items = [
        {"batch_id": values[f"batch_{i}"], "quantity": values[f"quantity_{i}"]}
        for i in range(1, SHIP_ROWS + 1)
        if values[f"batch_{i}"].strip()
    ]
    try:
        body = DeliveryIn.model_validate(
            {"vehicle_plate": values["vehicle_plate"], "device_key": values["device_key"] or None, "items": items}
        )
        deliveries.ship(session, actor=a.actor, order_id=order_id, body=body)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _order(request, session, a, order_id, Refused.of(request, exc, values, which="ship"))
    return redirect(f"/village/orders/{order_id}", N_("Shipped"))


@router.post("/village/deliveries/{delivery_id}/arrive")
def delivery_arrive(request: Request, delivery_id: int, session: WriteSession, a: Member) -> Response:
    actor = api.market_actor(a)
    d = deliveries.arrive(session, actor=actor, delivery_id=delivery_id, body=ArriveIn())
    return redirect(f"/village/orders/{d.order_id}", N_("Arrival recorded"))


@router.post("/village/deliveries/{delivery_id}/check")
def delivery_check(request: Request, delivery_id: int, session: WriteSession, a: Buyer, form: PostedForm) -> Response:
    values = typed(form, ("certificate_no", "result", "note"))
    _, order = deliveries.get_delivery(session, actor=a.actor, delivery_id=delivery_id)
    order_id = order.id
    try:
        deliveries.check(session, actor=a.actor, delivery_id=delivery_id, body=parse(CheckIn, values))
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _order(request, session, a, order_id, Refused.of(request, exc, values, which="check"))
    return redirect(f"/village/orders/{order_id}", N_("Checked on arrival"))


# --- figures ---------------------------------------------------------------------------------------


def _stats(session: Session, by: str, date_from: str, date_to: str) -> Any:
    d0, d1 = api.default_range()
    by = by if by in stats.BY else "product"
    a, b = _date(date_from, d0), _date(date_to, d1)
    if b < a or (b - a).days > stats.LONGEST_RANGE_DAYS:
        a, b = d0, d1
    return api.stats_out(session, by=by, date_from=a, date_to=b)


@router.get("/village/market/stats")
def stats_page(request: Request, session: ReadSession, a: Bureau, by: str = "product") -> Response:
    q = request.query_params
    with use_locale(request.state.locale):  # the definition and labels the service words
        data = _stats(session, by, q.get("from", ""), q.get("to", ""))
    return templates(request).render(
        request,
        "village/market/stats.html",
        {
            **_common(),
            "data": data,
            "by_names": BY_NAMES,
            "query": f"by={data.by}&from={data.date_from}&to={data.date_to}",
        },
    )


def _export_rows(data: Any) -> tuple[list[str], list[list[Any]]]:
    headers = [
        gettext(BY_NAMES[data.by]),
        gettext("Unit"),
        gettext("Output"),
        gettext("Output value (yuan)"),
        gettext("Batches"),
        gettext("Sales"),
        gettext("Sales amount (yuan)"),
        gettext("Orders"),
    ]
    rows = [
        [
            r.label,
            products.unit_label(r.unit),
            r.output_quantity,
            float(r.output_value) if r.output_value_known else None,
            r.batches,
            r.sales_quantity,
            float(r.sales_amount),
            r.orders,
        ]
        for r in data.rows
    ]
    return headers, rows


@router.get("/village/market/stats.xlsx")
def stats_xlsx(request: Request, session: ReadSession, a: Bureau, by: str = "product") -> Response:
    q = request.query_params
    data = _stats(session, by, q.get("from", ""), q.get("to", ""))
    headers, rows = _export_rows(data)
    name = f"market-{data.by}-{data.date_from}-{data.date_to}.xlsx"
    return Response(
        to_xlsx(headers, rows, "stats"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/village/market/stats.csv")
def stats_csv(request: Request, session: ReadSession, a: Bureau, by: str = "product") -> Response:
    q = request.query_params
    data = _stats(session, by, q.get("from", ""), q.get("to", ""))
    headers, rows = _export_rows(data)
    name = f"market-{data.by}-{data.date_from}-{data.date_to}.csv"
    return Response(
        to_csv(headers, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/village/market/batches")
def batches_page(
    request: Request,
    session: ReadSession,
    a: Bureau,
    product: str = "",
    village: str = "",
    month: str = "",
    unit: str = "",
) -> Response:
    q = request.query_params
    f = _filter(product, village, month, unit, q.get("from", ""), q.get("to", ""))
    try:
        records = stats.output_records(session, f)[: stats.MOST_RECORDS]
    except CountyError:
        records = []
    names = svc.entity_names(session, {r.batch.entity_id for r in records})
    return templates(request).render(
        request,
        "village/market/batches.html",
        {
            **_common(),
            "records": records,
            "names": names,
            "f": f,
            "total_quantity": sum(r.batch.quantity for r in records),
            "total_value": sum((r.value for r in records if r.value is not None), start=Decimal("0.00")),
        },
    )
