"""Database engine, sessions and column types shared by every domain.

SQLite (the embedded default) runs in WAL mode with foreign keys on. Write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing when one read a snapshot the other
then changed. Inside one process the writers wait in a first-come-first-served queue
(:class:`WriterQueue`) before ``BEGIN IMMEDIATE`` and leave it at ``COMMIT``/``ROLLBACK``: SQLite's
own busy handler only polls with growing sleeps, which under many concurrent writers gives a long
tail and time-outs. Other processes on the same file still meet the busy timeout. On PostgreSQL the
same code runs unchanged.

Services never commit: the request or job that owns a session is the unit of work
(:meth:`Database.unit_of_work`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import orjson
from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from countyos.core.clock import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; CountyOS stores timezone-aware UTC only")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A ``StrEnum`` column: stores the member's value in a plain ``VARCHAR(length)`` (no database
    enum type, so no migration when members are added) and reads it back as the member, as the
    ``Mapped[…]`` annotation says. Plain value strings are accepted when binding (older code, query
    filters); a string that is no member is bound unchanged, so a filter on it matches nothing rather
    than failing, and a stored value that is no member (written before the member was removed) is read
    back as the plain string."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, self.enum):
            return str(value.value)
        try:
            return str(self.enum(value).value)
        except ValueError:
            return str(value)

    def process_result_value(self, value: Any, dialect: Dialect | None) -> E | None:
        if value is None:
            return None
        try:
            return self.enum(value)
        except ValueError:
            return value  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"StrEnumType({self.enum.__name__}, {self.length})"


BUSY_TIMEOUT_S = 15.0


class WriterQueue:
    """A first-come-first-served lock for the write transactions of one SQLite database in this process.

    ``acquire`` waits at most ``timeout`` seconds (then the caller answers 503 as it did on SQLite's
    busy timeout); ``release`` hands the lock to the longest-waiting thread.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append(gate)
        if gate.acquire(timeout=timeout):
            return True  # handed over by release(): _held stayed True
        with self._mutex:
            if gate in self._waiters:
                self._waiters.remove(gate)
                return False
        gate.acquire()  # release() handed it over just as the wait ran out: take it after all
        return True

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


_WRITER_QUEUES: dict[str, WriterQueue] = {}  # one per database file, shared by its engines in this process


class _SQLiteConnection(sqlite3.Connection):
    """Leaves the writer queue when its write transaction ends, whichever way it ends."""

    writer_queue: WriterQueue | None = None

    def _leave_queue(self) -> None:
        queue, self.writer_queue = self.writer_queue, None
        if queue is not None:
            queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's begin event issue BEGIN (the driver's implicit transactions are off).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cur.close()


def _sqlite_begin(queue: WriterQueue) -> Any:
    def on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get("countyos_write"):
            conn.exec_driver_sql("BEGIN DEFERRED")
            return
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn.writer_queue is None:  # not already inside a write transaction on this connection
            if not queue.acquire(BUSY_TIMEOUT_S):
                raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
            dbapi_conn.writer_queue = queue
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_conn._leave_queue()
            raise

    return on_begin


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_S, "factory": _SQLiteConnection}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin(_WRITER_QUEUES.setdefault(url, WriterQueue())))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # orjson reads jsonb several times faster than json. jsonb holds no NaN or Infinity (orjson refuses
    # them); an integer beyond 64 bits comes back as a float, as it does from every JSON body the API
    # parses with orjson.
    kwargs.setdefault("json_deserializer", orjson.loads)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """A pooled connection that has rested for ``PING_AFTER_IDLE_S`` is pinged when it is taken
    (a restarted or failed-over server, a firewall that dropped it) and replaced if it does not
    answer. A busy server's connections are back in use within milliseconds and skip the round trip
    that SQLAlchemy's ``pool_pre_ping`` costs every request."""

    @event.listens_for(engine, "checkin")
    def rested(dbapi_connection: Any, record: Any) -> None:
        record.info["countyos_checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("countyos_checked_in")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool drops this connection and takes another
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()


class Database:
    """The engine plus two session factories: one for reads, one for writes."""

    _bounded: tuple[int, sessionmaker[Session]] | None = None  # see reading_within

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        adopt = _ADOPTERS.get(url)
        if adopt is not None:  # a test harness holds this database (see adopt_databases)
            adopt(self)
            return
        self.engine = make_engine(url, **engine_kwargs)
        writer = self.engine.execution_options(countyos_write=True)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=True)
        self._write = sessionmaker(bind=writer, expire_on_commit=False, autoflush=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A write session committed when the block ends, rolled back if it raises."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = self.session(write=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def reading_within(self, seconds: float) -> Iterator[Session]:
        """A read session for requests that strangers shape (SensorThings reads), each statement
        stopped after SECONDS.

        On PostgreSQL its connections come from a small pool of their own, opened read-only and in
        autocommit with that ``statement_timeout``: a statement is one round trip, without the BEGIN,
        SET LOCAL and ROLLBACK around it. Each statement reads its own snapshot, as every statement
        of a READ COMMITTED transaction does. The session's ``info["statement_timeout_ms"]`` says the
        bound is in place. Elsewhere (SQLite, a test harness's shared connection) this is
        :meth:`reading` and the caller bounds the time itself."""
        maker = self._bounded_reads(timeout_ms(seconds))
        if maker is None:
            with self.reading() as session:
                yield session
            return
        session = maker()
        try:
            yield session
        finally:
            session.close()

    def _bounded_reads(self, ms: int) -> sessionmaker[Session] | None:
        if self.url.startswith("sqlite") or not isinstance(self.engine, Engine):
            return None
        made = self._bounded
        if made is not None and made[0] == ms:
            return made[1]
        with _BOUNDED_LOCK:
            made = self._bounded
            if made is None or made[0] != ms:
                engine = make_engine(
                    self.url,
                    pool_size=4,
                    max_overflow=12,
                    isolation_level="AUTOCOMMIT",
                    connect_args={"options": f"-c statement_timeout={ms} -c default_transaction_read_only=on"},
                )
                maker = sessionmaker(
                    bind=engine, expire_on_commit=False, autoflush=False, info={"statement_timeout_ms": ms}
                )
                if made is not None:
                    made[1].kw["bind"].dispose()
                self._bounded = made = (ms, maker)
            return made[1]

    def dispose(self) -> None:
        self.engine.dispose()
        made = self._bounded
        if made is not None:
            made[1].kw["bind"].dispose()


_ADOPTERS: dict[str, Callable[[Database], None]] = {}
_BOUNDED_LOCK = threading.Lock()


def timeout_ms(seconds: float) -> int:
    """A time limit as PostgreSQL's ``statement_timeout`` takes it (at least 1 ms; 0 would be none)."""
    return max(1, int(seconds * 1000))


def adopt_databases(url: str, adopt: Callable[[Database], None] | None) -> None:
    """Test hook: while ADOPT is set for URL, every ``Database(url)`` made in this process is handed
    to it instead of getting an engine of its own (``None`` ends it).

    The test harness uses it to bind the sessions of every such object (the application's, and
    those of commands run inside the test process) to the one connection whose transaction it rolls
    back after each test. Nothing outside the tests calls it.
    """
    if adopt is None:
        _ADOPTERS.pop(url, None)
    else:
        _ADOPTERS[url] = adopt
