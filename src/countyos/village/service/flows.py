"""Where a batch went (产品流向): the deliveries of the batch to buyers, for the public trace page
(certs) and the batch page. Owned by the market part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session


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
    """The deliveries of this batch, oldest first (at most 200)."""
    return []  # the market part fills this from its orders and deliveries
