"""What a list across domains (the operations view's drill-down) shows of one record of a domain: each
domain's ``service/ioc_queries.describe`` returns one, and the list opens ``url``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ListedRecord:
    id: int
    ref: str
    title: str
    place: str
    kind: str  # message id
    status: str  # message id or plain text
    level: str  # green / red / yellow / none
    at: datetime | None
    owner: str
    url: str
