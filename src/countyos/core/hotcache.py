"""Hot configuration kept in memory: small tables read on every request (API tokens, categories,
routing rules, time limits) without a query each time.

A :class:`HotCache` holds values computed from some tables. It is emptied whenever a session of this
process writes one of those tables (at the flush, again at commit or rollback), and a value is never
older than ``ttl`` seconds, which bounds what another process's write takes to be seen here.

A value is kept only when no write to its tables was seen since the loading session's transaction
began: every emptying takes a number from one process-wide counter, and each session notes the
counter when its transaction begins (``after_begin``, before its first statement, so before a SQLite
snapshot is taken). A reader in a long transaction sees its own, older snapshot, and what it loads
after a write is served to it but not kept; a write during a load likewise. So a cache never outlives
the write that made it stale. A session that has written the tables reads them itself (its changes
are not committed yet). Writes that bypass the ORM session (a restore, raw SQL) call
:func:`clear_all`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

V = TypeVar("V")

_BY_TABLE: dict[str, list[HotCache[Any]]] = {}
_DIRTY_KEY = "countyos_hotcache_tables"
_BEGUN_KEY = "countyos_hotcache_begun"  # the write counter when the session's transaction began

_counter_lock = threading.Lock()
_writes = 0  # how many times any cache was emptied in this process


def _next_write() -> int:
    global _writes
    with _counter_lock:
        _writes += 1
        return _writes


class HotCache(Generic[V]):
    def __init__(self, name: str, *, tables: Iterable[str], ttl: float = 5.0, maxsize: int = 4096) -> None:
        self.name = name
        self.tables = frozenset(tables)
        self.ttl = ttl
        self.maxsize = maxsize
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._emptied_at = 0  # the write counter when this cache was last emptied
        self._lock = threading.Lock()
        for table in self.tables:
            _BY_TABLE.setdefault(table, []).append(self)
        _install()

    def get(self, session: Session, key: Hashable, load: Callable[[], V]) -> V:
        """The value for ``key`` in ``session``'s database, or ``load()``, which is kept unless the
        session itself has written the tables (its changes are not committed yet) or the tables were
        written since the session's transaction began (it may read an older snapshot)."""
        if self.tables & session.info.get(_DIRTY_KEY, set()):
            return load()
        key = (session.get_bind().engine.url, key)
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        begun = session.info.get(_BEGUN_KEY)  # set when load() began the transaction, if it did
        with self._lock:
            if begun is not None and self._emptied_at <= begun and session.in_transaction():
                if len(self._values) >= self.maxsize:
                    self._values.clear()
                self._values[key] = (now + self.ttl, value)
        return value

    def written_by(self, session: Session) -> bool:
        """True when ``session`` has written one of the tables (its changes are not committed yet)."""
        return bool(self.tables & session.info.get(_DIRTY_KEY, set()))

    def clear(self) -> None:
        with self._lock:
            self._emptied_at = _next_write()
            self._values.clear()


def clear_all() -> None:
    """Forget every cached value: after writes that bypass the ORM session (a restore, raw SQL)."""
    for caches in _BY_TABLE.values():
        for cache in caches:
            cache.clear()


def invalidate(tables: Iterable[str]) -> None:
    for table in tables:
        for cache in _BY_TABLE.get(table, ()):
            cache.clear()


def _written_tables(session: Session) -> set[str]:
    out = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in _BY_TABLE:
            out.add(table)
    return out


def _after_begin(session: Session, _transaction: Any, _connection: Any) -> None:
    if session.in_nested_transaction():
        return  # a savepoint reads in the snapshot of the transaction around it
    session.info[_BEGUN_KEY] = _writes


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_BEGUN_KEY, None)


def _after_flush(session: Session, _ctx: Any) -> None:
    tables = _written_tables(session)
    if tables:
        session.info.setdefault(_DIRTY_KEY, set()).update(tables)
        invalidate(tables)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in _BY_TABLE:
        state.session.info.setdefault(_DIRTY_KEY, set()).add(table)
        invalidate([table])


def _after_commit(session: Session) -> None:
    tables = session.info.pop(_DIRTY_KEY, None)
    if tables:
        invalidate(tables)


def _after_rollback(session: Session, _previous: Any) -> None:
    tables = session.info.get(_DIRTY_KEY)
    if tables:
        invalidate(tables)
        if not session.in_transaction():  # a savepoint's rollback leaves the outer writes in place
            session.info.pop(_DIRTY_KEY, None)


_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "after_begin", _after_begin)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
