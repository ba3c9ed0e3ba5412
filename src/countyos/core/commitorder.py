"""Reading an append-only timeline in commit order: "the rows committed after position P", with no
row ever appearing behind a position already read (what the live feed needs).

Reading by increasing id is not enough on PostgreSQL: ids come from a sequence when a row is
inserted, not when its transaction commits. With several workers, transaction A takes id 5, B takes
id 6 and commits first; a reader then sees 6, moves its cursor past it, and 5, committed a moment
later, is behind the cursor and lost for good.

On PostgreSQL each row therefore carries the id of the transaction that wrote it
(``xact xid8 DEFAULT pg_current_xact_id()``, :class:`TransactionId`), a position is the pair
``(xact, id)``, and a read returns only rows whose transaction is older than every transaction
still in progress — ``xact < pg_snapshot_xmin(pg_current_snapshot())`` — evaluated in the snapshot
of the same statement. Every transaction below that horizon has ended (committed, and visible to
the statement, or rolled back), and every transaction that ends later has a larger id, so the rows
below the horizon are final: ordered by ``(xact, id)`` they form a sequence that only grows at its
end. (The scheme of transactional outbox readers built on ``pg_current_xact_id()``.) A transaction
that stays open holds the horizon back, so rows committed after it started wait for it: they are
delayed by as long, never lost.

Transaction ids are shared by every database of the server, so an idle transaction of another
application's database would hold the feed back too. The horizon is therefore the oldest
in-progress transaction of the snapshot (``pg_snapshot_xip``) that ``pg_stat_activity`` does not
show running in another database (or the snapshot's ``xmax`` when there is none): another database's
transactions never write these tables, and a transaction not found there (just begun, already
ended, or not visible to this role) counts as ours, which can only delay a row, never skip one.

On SQLite writes are serialised (one writer at a time, ``core.db``), so ids are assigned in commit
order already; the column stays empty there and a position is ``(0, id)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, FetchedValue, cast, func, literal, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstrumentedAttribute, QueryableAttribute, Session
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator, UserDefinedType

Position = tuple[int, int]  # (transaction id, row id); the transaction id is 0 on SQLite


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id type."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


ischema_names.setdefault("xid8", XID8)  # so that reading the schema (Alembic's check) knows the type


class TransactionId(TypeDecorator[int]):
    """The writing transaction's id: ``xid8`` filled by the server on PostgreSQL (declare the column
    with ``server_default=WRITING_TRANSACTION``), an always empty ``BIGINT`` on SQLite."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(XID8() if dialect.name == "postgresql" else BigInteger())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(int(value)) if dialect.name == "postgresql" else int(value)  # xid8 is read from text

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


WRITING_TRANSACTION = FetchedValue()  # the migration sets DEFAULT pg_current_xact_id() on PostgreSQL


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


HORIZON_SQL = """(SELECT coalesce(min(x.xid), pg_snapshot_xmax(pg_current_snapshot()))
  FROM pg_snapshot_xip(pg_current_snapshot()) AS x(xid)
  WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a WHERE a.backend_xid = x.xid::xid
    AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())))"""


def _horizon() -> ColumnElement[Any]:
    """The oldest transaction of this database still in progress in the statement's snapshot."""
    return literal_column(HORIZON_SQL, type_=XID8())


def after(
    session: Session, xact: InstrumentedAttribute[Any], id_: InstrumentedAttribute[Any], position: Position
) -> tuple[list[ColumnElement[bool]], list[QueryableAttribute[Any]]]:
    """The conditions and the order of "the final rows after ``position``, oldest first"."""
    if not _is_postgres(session):
        return [id_ > position[1]], [id_]
    mark = tuple_(cast(literal(str(position[0])), XID8()), literal(position[1]))
    return [tuple_(xact, id_) > mark, xact < _horizon()], [xact, id_]


def last(session: Session, xact: InstrumentedAttribute[Any], id_: InstrumentedAttribute[Any]) -> Position:
    """The position of the newest final row (``(0, 0)`` when there is none): reading after it
    returns exactly what becomes final from now on."""
    if not _is_postgres(session):
        return 0, int(session.scalar(select(func.max(id_))) or 0)
    row = session.execute(select(xact, id_).where(xact < _horizon()).order_by(xact.desc(), id_.desc()).limit(1)).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def position_of(row: Any, xact: str = "xact", id_: str = "id") -> Position:
    return int(getattr(row, xact) or 0), int(getattr(row, id_))
