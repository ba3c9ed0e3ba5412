"""Bounds of one SensorThings read, so that no query string can make the server work or allocate
without limit (docs/sensing.md, "Bounds of a read").

The operator-tunable ones come from settings (``COUNTYOS_STA_MAX_*``, ``COUNTYOS_STA_QUERY_SECONDS``);
the shape bounds of a ``$filter`` expression are in :mod:`countyos.sensing.service.sta.parser`.
A request past a bound is a :class:`~countyos.sensing.service.sta.parser.StaQueryError` (a 400
naming the bound).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from countyos.core.db import timeout_ms
from countyos.core.settings import get_settings
from countyos.sensing.service.sta.parser import StaQueryError

MAX_LIST = 64  # names in one $select, keys in one $orderby, items in one $expand


@dataclass(frozen=True)
class Limits:
    expand_depth: int = 4
    entities: int = 20_000
    top: int = 10_000
    skip: int = 1_000_000
    query_length: int = 16_384
    seconds: float = 20.0

    @classmethod
    def current(cls) -> Limits:
        s = get_settings()
        return cls(
            expand_depth=s.sta_max_expand_depth,
            entities=s.sta_max_entities,
            top=s.sta_max_top,
            skip=s.sta_max_skip,
            query_length=s.sta_max_query_length,
            seconds=s.sta_query_seconds,
        )


class StaTooCostly(StaQueryError):
    """The read needs more database time than one request may take."""


@dataclass
class Budget:
    """What one response may still build and until when it may query."""

    limits: Limits = field(default_factory=Limits.current)
    built: int = 0
    deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.seconds

    @property
    def room(self) -> int:
        """How many more entities the response may hold."""
        return self.limits.entities - self.built

    def take(self, n: int) -> None:
        self.built += n
        if self.built > self.limits.entities:
            raise StaQueryError(
                f"the response would hold more than {self.limits.entities} entities; ask for fewer with $top "
                "(also inside $expand), $filter or a shallower $expand"
            )

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.too_costly()

    def too_costly(self) -> StaTooCostly:
        return StaTooCostly(
            f"the query needs longer than {self.limits.seconds:g} s of database time; narrow it with $filter, "
            "a smaller $top or fewer $count and $expand"
        )


@contextmanager
def bounded_time(session: Session, budget: Budget) -> Iterator[None]:
    """Interrupt the statements of one read when its time is up (SQLite: a progress handler;
    PostgreSQL: ``statement_timeout`` of this transaction, unless the session's connections have it
    already, see ``Database.reading_within``), and say so as a 400."""
    dialect = session.get_bind().dialect.name
    raw: Any = None
    if dialect == "sqlite":
        raw = session.connection().connection.dbapi_connection

        def interrupt() -> int:
            return 1 if time.monotonic() > budget.deadline else 0

        raw.set_progress_handler(interrupt, 10_000)
    elif dialect == "postgresql" and session.info.get("statement_timeout_ms") != timeout_ms(budget.limits.seconds):
        ms = timeout_ms(budget.limits.seconds)
        session.execute(text(f"SET LOCAL statement_timeout = {ms}"))
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig).lower()
        if "interrupted" in message or "statement timeout" in message or "canceling statement" in message:
            raise budget.too_costly() from exc
        raise
    finally:
        if raw is not None:
            raw.set_progress_handler(None, 0)
