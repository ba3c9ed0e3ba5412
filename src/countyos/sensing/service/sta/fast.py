"""Reads kept as SQL text: the common collection reads answered from the driver's connection.

A collection read of one statement (no ``$expand``, no ``$count``) is first answered in full by
:func:`read.read_collection`. Its statement is then compiled once for the dialect and kept here under
the request's shape: the path with its ids as ``#``, the query string as sent and the service's base
address. The next request of that shape binds its own ids into the kept text, runs it on a DB-API
connection (``core.loopreads``) and builds the same JSON with the same row → JSON function, without
the session, the statement building and the result layer of SQLAlchemy, which cost more than the
read itself.

A statement is kept only when the driver's rows, converted as SQLAlchemy converts them, are the rows
SQLAlchemy returned for the very request that kept it. Plans of shapes that could not be kept, and
of statements that may not run on the event loop (too long for it, see ``core.loopreads``), are
remembered as such so that they are not tried again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect

# Bounded like read.PLANS_MAX: the oldest half goes when it is full.
KEPT_MAX = 1024
_PATH_ID = re.compile(r"\((\d{1,19})\)")
_MAX_ID = 2**63 - 1
_SENTINEL = 7_000_000_000_000_000_000  # ids no path names, to tell which bind stands for which id


@dataclass(frozen=True)
class Kept:
    sql: str
    positional: tuple[str, ...] | None  # bind names in order (qmark/format), None: named (pyformat)
    params: dict[str, Any]  # the statement's own values (row limit, offset, literals of $filter)
    slots: tuple[tuple[str, int], ...]  # (bind name, index of the path id it takes)
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]  # driver value → SQLAlchemy's, by column
    build: Callable[[Sequence[Any]], list[dict[str, Any]]]  # rows → JSON objects (read._page_builder)
    top: int
    next_query: str  # the query string of the next page (urlencoded), when there is one

    def bind(self, ids: Sequence[int]) -> Any:
        values = dict(self.params)
        for name, slot in self.slots:
            values[name] = ids[slot]
        if self.positional is None:
            return values
        return tuple(values[name] for name in self.positional)

    def rows(self, raw: Sequence[Any]) -> Sequence[Any]:
        if not self.convert or not raw:
            return raw
        columns: list[Any] = list(zip(*raw, strict=True))  # converted a column at a time
        for i, fn in self.convert:
            columns[i] = [None if v is None else fn(v) for v in columns[i]]
        return list(zip(*columns, strict=True))

    def answer(self, rows: Sequence[Any], base: str, path: str) -> dict[str, Any]:
        """What :func:`read.read_collection` answers for these rows (the statement asks for ``top + 1``)."""
        more = self.top > 0 and len(rows) > self.top
        out: dict[str, Any] = {"value": self.build(rows[: self.top])}
        if more:
            out["@iot.nextLink"] = f"{base}/{path}?{self.next_query}"
        return out


NOT_KEPT = "not kept"  # a shape whose statement could not be kept (or may not run on the loop)
_kept: dict[tuple[str, str, str, bytes], Kept | str] = {}
_lock = threading.Lock()


def shape_of(path: str) -> tuple[str, list[int]] | None:
    """The path with its ids as ``#`` and the ids; None when an id is not a plain positive number."""
    ids: list[int] = []

    def one(m: re.Match[str]) -> str:
        ids.append(int(m.group(1)))
        return "(#)"

    shape = _PATH_ID.sub(one, path)
    if "(" in shape.replace("(#)", "") or not all(0 < i <= _MAX_ID for i in ids):
        return None
    return shape, ids


def key_of(dialect: str, base: str, path: str, query: bytes) -> tuple[tuple[str, str, str, bytes], list[int]] | None:
    found = shape_of(path)
    if found is None:
        return None
    return (dialect, base, found[0], query), found[1]


def lookup(key: tuple[str, str, str, bytes]) -> Kept | None:
    got = _kept.get(key)
    return got if isinstance(got, Kept) else None


def known(key: tuple[str, str, str, bytes]) -> bool:
    """Whether the shape was tried already (kept, or found not keepable)."""
    return key in _kept


def forget(key: tuple[str, str, str, bytes], *, for_good: bool = True) -> None:
    with _lock:
        if for_good:
            _put(key, NOT_KEPT)
        else:
            _kept.pop(key, None)


def clear() -> None:
    with _lock:
        _kept.clear()
        _attempts.clear()


def _put(key: tuple[str, str, str, bytes], value: Kept | str) -> None:
    if key not in _kept and len(_kept) >= KEPT_MAX:
        for old in list(_kept)[: KEPT_MAX // 2]:
            del _kept[old]
    _kept[key] = value


@dataclass(frozen=True)
class Candidate:
    """A read answered in full, offered to be kept: its statement and how its answer was made."""

    stmt: Select[Any]
    binds: dict[str, int]  # this request's values of the path ids, by bind name
    slots: dict[str, int]  # bind name → index of the path id (see slots_for)
    build: Callable[[Sequence[Any]], list[dict[str, Any]]]
    top: int
    next_query: str


Run = Callable[[str, Any], tuple[Sequence[Any], Sequence[Any]]]  # (sql, params) → (description, rows)


def keep(
    key: tuple[str, str, str, bytes], read: Candidate, *, dialect: Dialect, run: Run, expected: Sequence[Any]
) -> bool:
    """Keep READ's statement for KEY when RUN (on the request's own DB-API connection: the cursor's description
    and rows) gives EXPECTED — the rows SQLAlchemy gave for this request — from the compiled text.
    Says whether it was kept. A statement that cannot be kept is remembered as such; rows that
    differ may be a write in between (on PostgreSQL each statement reads its own snapshot), so the
    shape is tried again by the next requests, up to ``ATTEMPTS`` times."""
    kept: Kept | None = None
    differed = False
    try:
        made = _compiled(read, dialect, run)
        if made is not None:
            kept, raw = made
            if [tuple(r) for r in kept.rows(raw)] != [tuple(r) for r in expected]:
                kept, differed = None, True
    except Exception:  # whatever the driver or the compiler refuses stays with SQLAlchemy
        kept = None
    with _lock:
        if kept is not None:
            _attempts.pop(key, None)
            _put(key, kept)
        elif differed and _attempts.get(key, 0) + 1 < ATTEMPTS:
            if len(_attempts) >= KEPT_MAX:
                _attempts.clear()
            _attempts[key] = _attempts.get(key, 0) + 1
        else:
            _attempts.pop(key, None)
            _put(key, NOT_KEPT)
    return kept is not None


ATTEMPTS = 3
_attempts: dict[tuple[str, str, str, bytes], int] = {}


def _compiled(read: Candidate, dialect: Dialect, run: Run) -> tuple[Kept, Sequence[Any]] | None:
    """READ's statement as text for DIALECT, run once by RUN with this request's values: (what to
    keep, its rows)."""
    stmt, binds, slots = read.stmt, read.binds, read.slots
    compiled = stmt.compile(dialect=dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql or set(binds) != set(slots):
        return None
    params = dict(compiled.construct_params())
    for bp, name in compiled.bind_names.items():
        process = bp.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and name in params:
            if name in slots:
                return None  # a path id the driver needs converted: leave it to SQLAlchemy
            params[name] = process(params[name])  # the statement's own value, converted once
    positional = tuple(compiled.positiontup or ()) if compiled.positional else None
    kept = Kept(sql, positional, params, tuple(slots.items()), (), read.build, read.top, read.next_query)
    ids = [0] * (max(slots.values()) + 1 if slots else 0)
    for name, slot in kept.slots:
        ids[slot] = binds[name]
    description, raw = run(sql, kept.bind(ids))
    columns = list(stmt.selected_columns)
    if len(columns) != len(description):
        return None
    convert = []
    for i, (column, described) in enumerate(zip(columns, description, strict=True)):
        fn = column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        if fn is not None:
            convert.append((i, fn))
    return replace(kept, convert=tuple(convert)), raw


def slots_for(resolve: Callable[[str], Any], shape: str) -> dict[str, int] | None:
    """Which bind parameter of a resolved path takes which path id: the shape resolved again with
    ids no entity has, each one telling its place."""
    n = shape.count("(#)")
    probe = shape
    for i in range(n):
        probe = probe.replace("(#)", f"({_SENTINEL + i})", 1)
    try:
        target = resolve(probe)
    except Exception:  # a path that does not resolve this way is not kept
        return None
    out = {}
    for name, value in target.binds.items():
        slot = value - _SENTINEL
        if not 0 <= slot < n:
            return None
        out[name] = slot
    return out
