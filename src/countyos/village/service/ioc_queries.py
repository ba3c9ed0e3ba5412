"""Read-only queries of the operations view (ioc) for the village domain: one WHERE per measure, used for the
count and the list alike, so that a number and the records behind it agree.

Measures:
- ``certificates``: 承诺达标合格证 issued in the period and not revoked (of producers in the township);
- ``uncertified``: batches of a class that needs a 合格证 (the six classes of the 2026 rules), harvested in the
  period, with no current certificate;
- ``orders_checked``: orders the buyer accepted on arrival (入市查验) in the period — the 产供销 sales;
- ``spots_crowded``: scenic spots at 75 % of their instantaneous capacity or more now (county-wide: a spot has
  no township of its own, so a township's view counts none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.orm import Session

from countyos.core.i18n import N_
from countyos.core.listing import ListedRecord
from countyos.village.models.certs import Batch, Certificate
from countyos.village.models.market import Order, OrderState
from countyos.village.models.producers import Entity
from countyos.village.models.tourism import Crowding, Spot
from countyos.village.service import products

MEASURES = ("certificates", "uncertified", "orders_checked", "spots_crowded")
LABELS = {
    "certificates": N_("Certificates of commitment issued"),
    "uncertified": N_("Batches that need a certificate and have none"),
    "orders_checked": N_("Orders accepted on arrival"),
    "spots_crowded": N_("Scenic spots at three quarters of capacity or more"),
}


@dataclass(frozen=True)
class VillageSlice:
    start: datetime | None = None
    end: datetime | None = None
    township_code: str | None = None


def _in_town(entity_column: Any, code: str | None) -> ColumnElement[bool]:
    if not code:
        return true()
    inside = select(Entity.id).where(Entity.village_code.startswith(code))
    return entity_column.in_(inside)  # type: ignore[no-any-return]


def _period(column: Any, s: VillageSlice) -> list[ColumnElement[bool]]:
    out = []
    if s.start is not None:
        out.append(column >= s.start)
    if s.end is not None:
        out.append(column < s.end)
    return out


def _query(measure: str, s: VillageSlice, what: Any) -> Select[Any]:
    if measure == "certificates":
        stmt = select(what).select_from(Certificate).where(Certificate.revoked_at.is_(None))
        return stmt.where(_in_town(Certificate.issuer_id, s.township_code), *_period(Certificate.issued_at, s))
    if measure == "uncertified":
        mandatory = [c.code for c in products.catalog().classes.values() if c.mandatory]
        has = select(Certificate.batch_id).where(Certificate.revoked_at.is_(None))
        stmt = select(what).select_from(Batch).where(Batch.product_class.in_(mandatory), Batch.id.not_in(has))
        return stmt.where(_in_town(Batch.entity_id, s.township_code), *_period(Batch.created_at, s))
    if measure == "orders_checked":
        stmt = select(what).select_from(Order).where(Order.state == OrderState.CHECKED)
        return stmt.where(_in_town(Order.seller_id, s.township_code), *_period(Order.changed_at, s))
    if measure == "spots_crowded":
        stmt = select(what).select_from(Spot).where(Spot.active, Spot.crowding != Crowding.NORMAL)
        return stmt.where(false()) if s.township_code else stmt
    raise ValueError(measure)


_ENTITY: dict[str, Any] = {
    "certificates": Certificate,
    "uncertified": Batch,
    "orders_checked": Order,
    "spots_crowded": Spot,
}
_ORDER: dict[str, tuple[Any, ...]] = {
    "certificates": (Certificate.issued_at.desc(), Certificate.id.desc()),
    "uncertified": (Batch.created_at.desc(), Batch.id.desc()),
    "orders_checked": (Order.changed_at.desc(), Order.id.desc()),
    "spots_crowded": (Spot.crowding_at.asc(), Spot.id),
}


def count(session: Session, *, measure: str, s: VillageSlice) -> int:
    return int(session.scalar(_query(measure, s, func.count())) or 0)


def rows(session: Session, *, measure: str, s: VillageSlice, limit: int, offset: int = 0) -> list[Any]:
    stmt = _query(measure, s, _ENTITY[measure]).order_by(*_ORDER[measure]).limit(limit).offset(offset)
    return list(session.scalars(stmt))


CROWDING_LABELS = {
    Crowding.NORMAL: N_("Comfortable"),
    Crowding.WARN: N_("Busy"),
    Crowding.HIGH: N_("Crowded"),
    Crowding.FULL: N_("Full"),
}


def _entity(session: Session, entity_id: int) -> Entity | None:
    return session.get(Entity, entity_id)


def describe(session: Session, row: Any) -> ListedRecord:
    """One record of a measure's list, each opening its own page."""
    if isinstance(row, Certificate):
        return ListedRecord(
            row.id, row.number, f"{row.product_name} {row.quantity:g}{products.unit_label(row.unit)}", row.origin,
            N_("Certificate"), N_("Issued"), "green", row.issued_at, row.producer_name,
            f"/village/certificates/{row.id}",
        )  # fmt: skip
    if isinstance(row, Batch):
        e = _entity(session, row.entity_id)
        return ListedRecord(
            row.id, row.batch_no, products.product_label(row.product_code), (e.village_name or "") if e else "",
            N_("Batch"), N_("No certificate"), "yellow", row.created_at, e.name if e else "",
            f"/village/batches/{row.id}",
        )  # fmt: skip
    if isinstance(row, Order):
        seller = _entity(session, row.seller_id)
        buyer = _entity(session, row.buyer_id)
        title = f"{products.product_label(row.product_code)} {row.quantity:g}{products.unit_label(row.unit)}"
        return ListedRecord(
            row.id, row.number, title, (seller.village_name or "") if seller else "", N_("Order"),
            N_("Accepted on arrival"), "green", row.changed_at, buyer.name if buyer else "",
            f"/village/orders/{row.id}",
        )  # fmt: skip
    if isinstance(row, Spot):
        level = "red" if row.crowding in (Crowding.HIGH, Crowding.FULL) else "yellow"
        return ListedRecord(
            row.id, "", row.name, "", N_("Scenic spot"),
            CROWDING_LABELS.get(row.crowding, N_("Busy")), level, row.crowding_at, "",
            f"/village/tourism/spots/{row.id}",
        )  # fmt: skip
    raise TypeError(type(row).__name__)
