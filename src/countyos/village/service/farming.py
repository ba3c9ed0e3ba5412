"""Service of the farming part of the village domain: production records (农事) and the inputs'
安全间隔期/休药期. Services take ``session`` first, never commit and audit every write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from countyos.core.errors import Conflict


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


def interval_block(session: Session, *, base_id: int, product_code: str, on: date) -> IntervalBlock | None:
    """The input whose interval a harvest of ``product_code`` from ``base_id`` on day ``on`` would fall inside
    (the one ending last when several do), or None. Used by harvest records here and by batches (certs)."""
    raise NotImplementedError  # the farming part implements this


def refuse_inside_interval(session: Session, *, base_id: int, product_code: str, on: date) -> None:
    """Raise :class:`InsideSafetyInterval` naming the input, its date and the days remaining, if any."""
    raise NotImplementedError  # the farming part implements this
