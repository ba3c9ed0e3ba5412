"""Services of the resources of the plans part: warehouses and their stock, rescue teams, shelters, experts;
nearest-first lists from any point. (Interface stub: the plans part implements it.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

ResourceKind = Literal["warehouse", "team", "shelter", "expert"]


@dataclass(frozen=True)
class NearestResource:
    kind: str  # one of ResourceKind
    id: int
    name: str
    lon: float
    lat: float
    distance_m: float
    by: str  # "straight" or "road"
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. capacity, stock summary, members, phone (masked)


def nearest(
    session: Session,
    *,
    lon: float,
    lat: float,
    kinds: list[str] | None = None,
    limit: int = 10,
    by: str = "straight",
) -> list[NearestResource]:
    """Resources of KINDS (all when None) nearest first from (LON, LAT) WGS 84: by straight-line distance, or
    along the imported roads when BY is "road" and a road network exists (else straight-line, said in ``by``)."""
    return []
