"""How tests get a database: committed baselines, and one rolled-back transaction per test.

A *baseline* is a committed state of the test database: the bootstrapped catalog (permissions and
roles), optionally with a shared world built on top (the security county, the cases county, the ioc
history). Each is built once per run through the services, dumped, and loaded back (a few inserts)
whenever a test needs another baseline than the one in place; tests are grouped by folder, so that
happens a handful of times per run.

Each test then runs inside ONE connection's outer transaction on top of its baseline
(:class:`SharedConnection`): every session of every :class:`Database` of the test URL made in this
process — the fixture's, the application's, a command's — is bound to that connection with
``join_transaction_mode="create_savepoint"``, so a unit of work's commit releases a savepoint and its
rollback returns to it, and the outer transaction is rolled back after the test. The connection is
used by one session at a time (the test thread, the TestClient's threads, the group-commit writer,
the live-feed poller, the MQTT bridge take turns: :class:`_Turns`).

Tests that need real commits (a second connection or process must see the data) are marked
``@pytest.mark.committed``: they get the real database on the baseline, and the baseline is loaded
again after them.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from countyos import domains
from countyos.core import hotcache
from countyos.core.db import Base, Database, adopt_databases
from countyos.org import flows

TURN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Baseline:
    """A committed state tests start from: the bootstrapped catalog, then ``build`` (if any) on top
    of what ``extends`` built. ``build(db, built)`` commits through ``db`` and returns what tests get
    (``built`` holds the values of the baselines it extends, by name)."""

    name: str
    build: Callable[[Database, dict[str, Any]], Any] | None = None
    extends: Baseline | None = None

    def chain(self) -> list[Baseline]:
        """This baseline and those it extends, the innermost first."""
        out: list[Baseline] = []
        b: Baseline | None = self
        while b is not None:
            out.append(b)
            b = b.extends
        return out[::-1]


BOOTSTRAPPED = Baseline("bootstrapped")


def bootstrap(db: Database) -> None:
    with db.unit_of_work() as s:
        flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )


# Module-level state of the application that outlives a transaction: emptied whenever the database
# goes back to a baseline (ids are reused after a rollback, so a kept value could describe another row).
_PROCESS_CACHES = [
    ("countyos.sensing.service.streams", "invalidate", None),
    ("countyos.ioc.service.places", None, "_cache"),
    ("countyos.ioc.service.mapdata", None, "_components"),
    ("countyos.sensing.api.sta", None, "_basic_cache"),
]


def forget_process_caches() -> None:
    hotcache.clear_all()
    for module, function, mapping in _PROCESS_CACHES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:  # a module that moved away: nothing of it to empty
            continue
        if function is not None and callable(getattr(mod, function, None)):
            getattr(mod, function)()
        if mapping is not None and isinstance(getattr(mod, mapping, None), dict):
            getattr(mod, mapping).clear()


def empty_all_tables(db: Database) -> None:
    forget_process_caches()  # the raw statements below bypass the sessions that keep the caches current
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        return
    raw = db.engine.raw_connection()  # autocommit mode: PRAGMA foreign_keys only works outside a transaction
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("BEGIN IMMEDIATE")
        for t in tables:
            cur.execute(f'DELETE FROM "{t}"')
        cur.execute("COMMIT")
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


Dump = list[tuple[Any, list[dict[str, Any]]]]


def dump(db: Database) -> Dump:
    with db.engine.connect() as conn:
        # In key order, so that rows referring to earlier rows of the same table (parents) load after them.
        return [
            (t, [dict(r._mapping) for r in conn.execute(t.select().order_by(*t.primary_key.columns))])
            for t in Base.metadata.sorted_tables
        ]


def load(db: Database, tables: Dump) -> None:
    """Empty the database and insert the rows of TABLES (as ``dump`` returned them)."""
    empty_all_tables(db)
    with db.engine.begin() as conn:
        later: list[tuple[Any, list[str], list[dict[str, Any]]]] = []
        for t, rows in tables:
            if not rows:
                continue
            # a reference that closes a cycle (use_alter: a matter's current version) is set after
            # every row is in
            cycle = sorted({fk.parent.name for fk in t.foreign_keys if fk.use_alter or fk.constraint.use_alter})
            if cycle:
                later.append((t, cycle, rows))
                rows = [{**r, **dict.fromkeys(cycle)} for r in rows]
            conn.execute(t.insert(), rows)
        for t, cycle, rows in later:
            pk = list(t.primary_key.columns)
            where = and_(*(c == bindparam(f"pk_{c.name}") for c in pk))
            values = [
                {**{f"pk_{c.name}": r[c.name] for c in pk}, **{f"v_{name}": r[name] for name in cycle}}
                for r in rows
                if any(r[name] is not None for name in cycle)
            ]
            if values:
                conn.execute(t.update().where(where).values({name: bindparam(f"v_{name}") for name in cycle}), values)
        if conn.dialect.name == "postgresql":  # explicit ids do not move the sequences
            for t, rows in tables:
                pk = list(t.primary_key.columns)
                if rows and len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', '{pk[0].name}'), "
                            f'(SELECT max("{pk[0].name}") FROM "{t.name}"))'
                        )
                    )
    forget_process_caches()


class _Turns:
    """The shared connection serves one session at a time. A thread may open sessions inside its own
    (they nest as savepoints); another thread waits until the holder's sessions have ended. Ending is
    allowed from any thread: a request's session may begin in one worker thread and be closed in
    another."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._owner_name = ""
        self._depth = 0
        self.taken = 0  # turns since the outer transaction began

    def take(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if not self._cond.wait_for(lambda: self._depth == 0 or self._owner == me, TURN_TIMEOUT_S):
                raise RuntimeError(
                    f"the test connection has been held by thread {self._owner_name!r} for {TURN_TIMEOUT_S:.0f} s "
                    "(a session left open, or a thread waiting for another while it holds a session)"
                )
            self._owner, self._owner_name = me, threading.current_thread().name
            self._depth += 1
            self.taken += 1

    def give_back(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth <= 0:
                self._depth, self._owner = 0, None
                self._cond.notify_all()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        self.take()
        try:
            yield
        finally:
            self.give_back()


class _Block:
    """A connection reached through ``db.engine`` in a test: the shared connection in a savepoint
    (``commit``/``rollback`` end the savepoint and start the next one)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._savepoint = conn.begin_nested()

    def commit(self) -> None:
        self._savepoint.commit()
        self._savepoint = self._conn.begin_nested()

    def rollback(self) -> None:
        self._savepoint.rollback()
        self._savepoint = self._conn.begin_nested()

    def end(self, *, keep: bool) -> None:
        if self._savepoint.is_active:
            (self._savepoint.commit if keep else self._savepoint.rollback)()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class SharedEngine:
    """What ``db.engine`` is in a test: ``begin()`` and ``connect()`` on the shared connection
    (``begin`` keeps its writes at the end of the block, ``connect`` only what was committed)."""

    def __init__(self, shared: SharedConnection) -> None:
        self._shared = shared
        real = shared.real.engine
        self.url, self.dialect, self.name, self.driver = real.url, real.dialect, real.name, real.driver

    @contextlib.contextmanager
    def _block(self, *, keep: bool) -> Iterator[Any]:
        with self._shared.turns.turn():
            block = _Block(self._shared.conn)
            try:
                yield block
            except BaseException:
                block.end(keep=False)
                raise
            block.end(keep=keep)

    def begin(self) -> contextlib.AbstractContextManager[Any]:
        return self._block(keep=True)

    def connect(self) -> contextlib.AbstractContextManager[Any]:
        return self._block(keep=False)

    def raw_connection(self) -> Any:
        raise RuntimeError(
            "a raw DB-API connection would leave the test's transaction: mark the test @pytest.mark.committed"
        )

    def dispose(self) -> None:
        """The connection belongs to the harness."""


class SharedConnection:
    """One connection in an outer transaction; every adopted Database's sessions bind to it."""

    def __init__(self, real: Database) -> None:
        self.real = real
        self.turns = _Turns()
        self.conn = _clean_connection(real.engine)
        self.outer = self.conn.begin()
        self.engine = SharedEngine(self)
        options: dict[str, Any] = dict(expire_on_commit=False, autoflush=True, join_transaction_mode="create_savepoint")
        self._read = sessionmaker(bind=self.conn, **options)
        self._write = sessionmaker(bind=self.conn, **options)
        for maker in (self._read, self._write):
            event.listen(maker, "after_transaction_create", self._began)
            event.listen(maker, "after_transaction_end", self._ended)

    def _began(self, _session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # a session's own transaction (a savepoint on the connection)
            self.turns.take()

    def _ended(self, _session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            self.turns.give_back()

    def adopt(self, db: Database) -> None:
        db.engine = self.engine  # type: ignore[assignment]
        db._read = self._read
        db._write = self._write

    def restart(self) -> None:
        """Roll back and begin again (the committed baseline under it may change in between)."""
        if self.outer.is_active:
            self.outer.rollback()
        self.outer = self.conn.begin()
        self.turns.taken = 0

    def close(self) -> None:
        """Roll back once no thread is inside a session (a side writer finishing its last write), so
        that no statement of this test reaches the connection after it went back to the pool."""
        try:
            with self.turns.turn():
                if self.outer.is_active:
                    self.outer.rollback()
        finally:
            self.conn.close()


def _clean_connection(engine: Engine) -> Connection:
    """A connection of ENGINE outside any transaction. One that a thread of an earlier test used after
    it went back to the pool (a failed statement leaves it "in error") is dropped, not handed on: the
    test that took it would fail on its first statement for what another test did."""
    for _ in range(3):
        conn = engine.connect()
        status = getattr(getattr(conn.connection.dbapi_connection, "info", None), "transaction_status", None)
        if status is None or int(status) == 0:  # SQLite, or psycopg's TransactionStatus.IDLE
            return conn
        warnings.warn(f"a pooled test connection was not idle (status {status!r}): dropped", stacklevel=2)
        conn.invalidate()
        conn.close()
    return engine.connect()


_READING = frozenset({"SELECT", "WITH", "SHOW", "SET", "PRAGMA", "EXPLAIN", "VALUES"})
_TRANSACTION = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def _refuse_writes(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    words = statement.split(None, 1)
    if words and words[0].upper() not in _READING | _TRANSACTION:
        raise RuntimeError(
            "this test writes through a connection of its own to the test database, outside the test's "
            "rolled-back transaction: use `db` (or a Database of the same URL), or mark the test "
            "@pytest.mark.committed"
        )


class Harness:
    """The test database of a run: which baseline is committed in it, and the per-test modes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.current: str | None = None
        self.saved: dict[str, tuple[Dump, dict[str, Any]]] = {}
        self.shared: SharedConnection | None = None
        self._own_engines: weakref.WeakSet[Engine] = weakref.WeakSet([db.engine])
        event.listen(Engine, "engine_connect", self._refuse_other_connections)

    def own(self, engine: Engine) -> Engine:
        """Let ENGINE connect to the test database during a test (e.g. to create other databases)."""
        self._own_engines.add(engine)
        return engine

    def _refuse_other_connections(self, conn: Connection) -> None:
        """A connection of its own to the test database during a rolled-back test may read (it sees
        the committed baseline, e.g. the schema version a command checks) but not write: its commit
        would outlive the test, and on SQLite it would wait for the test's lock."""
        if self.shared is None or conn.engine in self._own_engines or conn.engine.url != self.db.engine.url:
            return
        event.listen(conn, "before_cursor_execute", _refuse_writes, retval=False)

    def ensure(self, baseline: Baseline) -> None:
        """Make BASELINE the committed state of the database (built the first time, loaded after)."""
        if self.current == baseline.name:
            return
        self.current = None
        if baseline.name in self.saved:
            load(self.db, self.saved[baseline.name][0])
        else:
            empty_all_tables(self.db)
            bootstrap(self.db)
            built: dict[str, Any] = {}
            for b in baseline.chain():
                if b.build is not None:
                    built[b.name] = b.build(self.db, dict(built))
            self.saved[baseline.name] = (dump(self.db), built)
            forget_process_caches()
        self.current = baseline.name

    def value(self, baseline: Baseline, *, db: Database) -> Any:
        """A copy of what BASELINE's build returned, for the test running on DB; switches the
        database to BASELINE when the test's fixtures asked for another (before using it)."""
        current = self.current
        if current is None or baseline.name not in self.saved.get(current, ((), {}))[1]:
            self._switch(baseline, db)
            current = baseline.name
        return copy.deepcopy(self.saved[current][1][baseline.name])

    def _switch(self, baseline: Baseline, db: Database) -> None:
        shared = self.shared
        if shared is None or db.engine is not shared.engine:
            raise RuntimeError(f"the baseline {baseline.name!r} was asked for after the test's database was chosen")
        if shared.turns.taken:
            raise RuntimeError(
                f"the baseline {baseline.name!r} was asked for after the test used the database: "
                "ask for its fixture first"
            )
        shared.outer.rollback()
        self.ensure(baseline)
        shared.restart()

    @contextlib.contextmanager
    def isolated(self, baseline: Baseline) -> Iterator[Database]:
        """A Database on BASELINE whose changes vanish after the block."""
        self.ensure(baseline)
        shared = self.shared = SharedConnection(self.db)
        adopt_databases(self.db.url, shared.adopt)
        try:
            yield Database(self.db.url)
        finally:
            adopt_databases(self.db.url, None)
            self.shared = None
            try:
                shared.close()
            finally:
                forget_process_caches()

    @contextlib.contextmanager
    def committed(self, baseline: Baseline) -> Iterator[Database]:
        """The real database on BASELINE (its commits are real); the baseline is restored after."""
        self.ensure(baseline)
        try:
            yield self.db
        finally:
            self.current = None
            forget_process_caches()
