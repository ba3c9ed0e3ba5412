"""One way to page and count lists, used by every API and page.

Query parameters are ``limit`` (1–500, default 50) and ``offset`` (≥ 0); responses carry
``items``, ``total``, ``limit`` and ``offset``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    offset: int = 0


class Paged(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def fetch_page(session: Session, stmt: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    total = count(session, stmt)
    rows = list(session.scalars(stmt.limit(page.limit).offset(page.offset)))
    return rows, total
