"""Output and sales by product, village and month, from the records (产销统计).

- **Output** (产量) is the quantity of the producers' own batches (not a buyer's repacked ones) harvested in
  the period; a batch's village is its 基地's village (the producer's when the batch names no 基地), its
  month the local month of its harvest date.
- **Output value** (产值) is each batch's quantity × the month's mean sale price of its product — the
  amount over the quantity of the orders of that product checked and accepted on arrival in the same month,
  county-wide — or, where no such order exists, × the mean price of the product's supply listings whose
  period overlaps that month; a batch with neither is counted in output but has no value (the row says so).
- **Sales** (销量, 销售额) are the orders checked and accepted on arrival in the period: their quantity and
  amount (quantity × the price fixed when ordered); the village is the producer's, the month that of the
  arrival.

Each figure and the list it opens come from the same rows (:func:`output_records`, :func:`sales_records`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import as_utc, county_zone
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.village.models.certs import Batch
from countyos.village.models.market import Delivery, Order, OrderState, Supply
from countyos.village.models.producers import Entity, ProductionBase
from countyos.village.service import products

BY = ("product", "village", "month")
LONGEST_RANGE_DAYS = 3 * 366
MOST_RECORDS = 1000
NO_VILLAGE = "-"
DEFINITION = N_(
    "Output: the quantity of producers' batches harvested in the period. Output value: each batch's quantity "
    "times the month's mean price of its product in orders checked and accepted on arrival (amount over "
    "quantity), or the mean price of its supply listings of that month when there was no such order. Sales: "
    "orders checked and accepted on arrival in the period, their quantity and amount."
)


@dataclass(frozen=True)
class Filter:
    date_from: date
    date_to: date
    product: str | None = None
    village: str | None = None
    month: str | None = None
    unit: str | None = None

    def query(self, **extra: str) -> str:
        values = {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "product": self.product or "",
            "village": self.village or "",
            "month": self.month or "",
            "unit": self.unit or "",
            **extra,
        }
        return urlencode({k: v for k, v in values.items() if v})

    def keeps(self, *, product: str, village: str, month: str, unit: str) -> bool:
        """Whether a record of this product, village ("" for none; "-" in the filter), month and unit is in."""
        wanted_village = None if not self.village else ("" if self.village == NO_VILLAGE else self.village)
        return (
            (not self.product or product == self.product)
            and (wanted_village is None or village == wanted_village)
            and (not self.month or month == self.month)
            and (not self.unit or unit == self.unit)
        )


def check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValidationFailed(
            N_("The period ends before it starts"),
            errors=[{"field": "to", "message": "The period ends before it starts"}],
        )
    if (date_to - date_from).days > LONGEST_RANGE_DAYS:
        raise ValidationFailed(
            N_("The period is longer than three years"),
            errors=[{"field": "from", "message": "The period is longer than three years"}],
        )


@dataclass(frozen=True)
class OutputRecord:
    batch: Batch
    village_code: str
    village_name: str
    month: str
    price: Decimal | None  # per unit, by the definition above
    value: Decimal | None


@dataclass(frozen=True)
class SaleRecord:
    order: Order
    village_code: str
    village_name: str
    month: str
    arrived_on: date


def _money(v: Decimal) -> Decimal:
    return v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _utc_day_start(d: date) -> datetime:
    return as_utc(datetime.combine(d, time(0), tzinfo=county_zone()))


def _all_sales(session: Session, date_from: date, date_to: date) -> list[SaleRecord]:
    rows = session.execute(
        select(Order, Delivery.arrived_at, Entity.village_code, Entity.village_name)
        .join(Delivery, Delivery.order_id == Order.id)
        .join(Entity, Entity.id == Order.seller_id)
        .where(
            Order.state == OrderState.CHECKED,
            Delivery.arrived_at >= _utc_day_start(date_from),
            Delivery.arrived_at < _utc_day_start(date_to + timedelta(days=1)),
        )
        .order_by(Delivery.arrived_at, Order.id)
    ).all()
    out = []
    for order, arrived, vcode, vname in rows:
        if arrived is None:  # not reached: the query asks for an arrival in the period
            continue
        day = as_utc(arrived).astimezone(county_zone()).date()
        out.append(SaleRecord(order, vcode or "", vname or "", f"{day:%Y-%m}", day))
    return out


def _month_prices(session: Session, months: set[str], codes: set[str]) -> dict[tuple[str, str], Decimal]:
    """(product, month) → the price per unit of the definition (orders first, supply listings second)."""
    if not months or not codes:
        return {}
    first = date.fromisoformat(min(months) + "-01")
    last_month = date.fromisoformat(max(months) + "-01")
    last = (last_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    qty: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    amt: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in _all_sales(session, first, last):
        key = (r.order.product_code, r.month)
        qty[key] += Decimal(str(r.order.quantity))
        amt[key] += r.order.amount
    prices = {k: amt[k] / qty[k] for k in qty if qty[k] > 0}
    listed: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for s in session.scalars(
        select(Supply).where(
            Supply.product_code.in_(sorted(codes)), Supply.period_from <= last, Supply.period_to >= first
        )
    ):
        for m in months:
            start = date.fromisoformat(m + "-01")
            end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            if s.period_from <= end and s.period_to >= start:
                listed[(s.product_code, m)].append(s.price)
    for key, values in listed.items():
        prices.setdefault(key, sum(values, Decimal(0)) / len(values))
    return prices


def output_records(session: Session, f: Filter) -> list[OutputRecord]:
    """The producers' batches harvested in the period (with the drill-down's product, village, month)."""
    check_range(f.date_from, f.date_to)
    stmt = (
        select(
            Batch, ProductionBase.village_code, ProductionBase.village_name, Entity.village_code, Entity.village_name
        )
        .join(Entity, Entity.id == Batch.entity_id)
        .outerjoin(ProductionBase, ProductionBase.id == Batch.base_id)
        .where(Batch.parent_id.is_(None), Batch.harvest_date >= f.date_from, Batch.harvest_date <= f.date_to)
        .order_by(Batch.harvest_date, Batch.id)
    )
    if f.product:
        stmt = stmt.where(Batch.product_code == f.product)
    picked = []
    for batch, bcode, bname, ecode, ename in session.execute(stmt):
        vcode, vname = (bcode, bname) if bcode else (ecode or "", ename or "")
        month = f"{batch.harvest_date:%Y-%m}"
        if not f.keeps(product=batch.product_code, village=vcode, month=month, unit=batch.unit):
            continue
        picked.append((batch, vcode, vname or "", month))
    prices = _month_prices(session, {m for *_, m in picked}, {b.product_code for b, *_ in picked})
    out = []
    for batch, vcode, vname, month in picked:
        price = prices.get((batch.product_code, month))
        value = _money(Decimal(str(batch.quantity)) * price) if price is not None else None
        out.append(OutputRecord(batch, vcode, vname, month, price, value))
    return out


def sales_records(session: Session, f: Filter) -> list[SaleRecord]:
    """The orders checked and accepted on arrival in the period (with the drill-down's filters)."""
    check_range(f.date_from, f.date_to)
    out = []
    for r in _all_sales(session, f.date_from, f.date_to):
        if f.keeps(product=r.order.product_code, village=r.village_code, month=r.month, unit=r.order.unit):
            out.append(r)
    return out


@dataclass
class Row:
    key: str
    label: str
    unit: str
    output_quantity: float = 0.0
    output_value: Decimal = Decimal("0.00")
    output_value_known: bool = True
    batches: int = 0
    sales_quantity: float = 0.0
    sales_amount: Decimal = Decimal("0.00")
    orders: int = 0


def _key(by: str, product: str, village: str, month: str) -> str:
    return {"product": product, "village": village, "month": month}[by]


def table(session: Session, *, by: str, date_from: date, date_to: date) -> list[Row]:
    """One row per product (or village, or month) and unit: output, its value, sales."""
    if by not in BY:
        raise ValidationFailed(
            N_("Group by product, village or month"), errors=[{"field": "by", "message": "Not valid"}]
        )
    f = Filter(date_from, date_to)
    rows: dict[tuple[str, str], Row] = {}
    names: dict[str, str] = {}

    def row(key: str, unit: str, label: str) -> Row:
        r = rows.get((key, unit))
        if r is None:
            r = rows[(key, unit)] = Row(key, label, unit)
        return r

    def label(product: str, vcode: str, vname: str, month: str) -> str:
        if by == "product":
            return products.product_label(product)
        if by == "village":
            names.setdefault(vcode, vname)
            return names[vcode] or vcode
        return month

    for o in output_records(session, f):
        b = o.batch
        r = row(
            _key(by, b.product_code, o.village_code, o.month),
            b.unit,
            label(b.product_code, o.village_code, o.village_name, o.month),
        )
        r.output_quantity += b.quantity
        r.batches += 1
        if o.value is None:
            r.output_value_known = False
        else:
            r.output_value += o.value
    for s in sales_records(session, f):
        order = s.order
        r = row(
            _key(by, order.product_code, s.village_code, s.month),
            order.unit,
            label(order.product_code, s.village_code, s.village_name, s.month),
        )
        r.sales_quantity += order.quantity
        r.sales_amount += order.amount
        r.orders += 1
    return sorted(rows.values(), key=lambda r: (r.key, r.unit))


def filter_for(by: str, row: Row, date_from: date, date_to: date) -> Filter:
    """The drill-down filter of a row (village "" means batches and orders without a village)."""
    return Filter(
        date_from,
        date_to,
        product=row.key if by == "product" else None,
        village=(row.key or NO_VILLAGE) if by == "village" else None,
        month=row.key if by == "month" else None,
        unit=row.unit,
    )


def sum_sales(records: Iterable[SaleRecord]) -> tuple[float, Decimal]:
    q, a = 0.0, Decimal("0.00")
    for r in records:
        q += r.order.quantity
        a += r.order.amount
    return q, a
