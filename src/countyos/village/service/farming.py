"""Service of the farming part of the village domain: production records (农事) and the inputs'
安全间隔期/休药期. Services take ``session`` first, never commit and audit every write.

The safety-interval rule (kept here once; harvest records and batches both ask):

- an input used on day D with an interval of N days allows a harvest (or slaughter, catch) from day D+N:
  a harvest on D+N-1 is refused, on D+N allowed;
- an input applies to a harvest of product P from base B when its record is on B, names P (or names no
  product: it was used on the whole base), is not voided, and is a pesticide (安全间隔期) when P is a crop, or
  a veterinary drug (休药期) when P is livestock, poultry, eggs or an aquatic product;
- the interval is the one recorded with the use (a snapshot of the county's list on that day), so a later
  change of the list does not rewrite what applied;
- when several apply, the one ending last is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from countyos.core.errors import Conflict
from countyos.core.i18n import N_
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.service import products

# no registered interval is longer than this; older uses are not looked at
MAX_INTERVAL_DAYS = 365


@dataclass(frozen=True)
class IntervalBlock:
    """Why a harvest on a day is refused: the input used, when, its interval and the first allowed day."""

    record_id: int  # the 农事 record of the input's use
    input_name: str
    registration_no: str | None  # 农药/兽药 登记证号
    used_on: date
    interval_days: int  # 安全间隔期 or 休药期
    allowed_from: date  # the first day a harvest (or slaughter, catch) is allowed

    def days_remaining(self, on: date) -> int:
        return (self.allowed_from - on).days


class InsideSafetyInterval(Conflict):
    """A harvest or batch inside an input's 安全间隔期/休药期 (409). Carries the input, date and days left."""

    code = "inside_safety_interval"
    takes_message_id = False  # built from the block

    def __init__(self, block: IntervalBlock, on: date) -> None:
        super().__init__(
            N_("Inside the safety interval of %(input)s used on %(date)s: %(days)s more days"),
            input=block.input_name,
            date=block.used_on.isoformat(),
            days=block.days_remaining(on),
        )
        self.block, self.on = block, on

    @property
    def errors(self) -> list[dict[str, str]]:
        """The message beside the date of a harvest form (read in the reader's language)."""
        return [{"field": "used_on", "message": self.message}]

    def extra(self) -> dict[str, Any]:
        return {
            "input": self.block.input_name,
            "registration_no": self.block.registration_no,
            "record_id": self.block.record_id,
            "used_on": self.block.used_on.isoformat(),
            "interval_days": self.block.interval_days,
            "allowed_from": self.block.allowed_from.isoformat(),
            "days_remaining": self.block.days_remaining(self.on),
            "errors": self.errors,
        }


def interval_kind(product_code: str) -> RecordKind:
    """The record kind whose inputs carry an interval for this product: pesticides for crops (安全间隔期),
    veterinary drugs for livestock, poultry, eggs and aquatic products (休药期)."""
    return RecordKind.PESTICIDE if products.product(product_code).kind == "crop" else RecordKind.VET_DRUG


def interval_block(session: Session, *, base_id: int, product_code: str, on: date) -> IntervalBlock | None:
    """The input whose interval a harvest of ``product_code`` from ``base_id`` on day ``on`` would fall inside
    (the one ending last when several do), or None. Used by harvest records here and by batches (certs)."""
    kind = interval_kind(product_code)
    rows = session.scalars(
        select(FarmRecord).where(
            FarmRecord.base_id == base_id,
            FarmRecord.kind == kind,
            FarmRecord.voided.is_(False),
            FarmRecord.interval_days.is_not(None),
            or_(FarmRecord.product_code == product_code, FarmRecord.product_code.is_(None)),
            FarmRecord.used_on <= on,
            FarmRecord.used_on > on - timedelta(days=MAX_INTERVAL_DAYS),
        )
    )
    best: IntervalBlock | None = None
    for r in rows:
        days = int(r.interval_days or 0)
        allowed = r.used_on + timedelta(days=days)
        if allowed > on and (best is None or allowed > best.allowed_from):
            best = IntervalBlock(r.id, r.input_name or "", r.registration_no, r.used_on, days, allowed)
    return best


def refuse_inside_interval(session: Session, *, base_id: int, product_code: str, on: date) -> None:
    """Raise :class:`InsideSafetyInterval` naming the input, its date and the days remaining, if any."""
    block = interval_block(session, base_id=base_id, product_code=product_code, on=on)
    if block is not None:
        raise InsideSafetyInterval(block, on)
