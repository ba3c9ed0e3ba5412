"""Loading a department's file into a resource's table: read, check, convert, insert — all or nothing.

One pass over the file, a block of rows at a time and column by column (``ReadFile.blocks``): each
block is converted to its columns' types, checked against the resource's quality rules
(``quality.Checker.check_block``) and inserted (multi-row ``INSERT`` on SQLite, binary ``COPY`` on
PostgreSQL) into a new table ``data_t{resource}_v{number}``, inside a savepoint; then the indexes worth
having are made (``tables.indexes_for``). When the file cannot be read or written, or a row fails a rule
and bad rows are not to be skipped, the savepoint is rolled back: no table, no rows. Either way the
``Load`` is recorded with its quality report (counts per column and rule, the first failing rows) and
audited, and the resource's current load changes only on success.

A resource without 信息项 takes the file's inferred columns; one with 信息项 matches the file's headers to
them by name or Chinese name, and a file without one of them is refused.
"""

from __future__ import annotations

import gc
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from itertools import chain, groupby
from pathlib import Path
from typing import Any

import pyarrow as pa
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.data.codes import FieldType
from countyos.data.models import InfoItem, Load, LoadState, Resource
from countyos.data.service import arrowcsv, catalogue, pgcopy, quality, readers, tables
from countyos.geo import service as geo
from countyos.org.service import audit

KEEP_TABLES = 3  # the tables of the last loads kept (older loads keep their records, not their rows)
TYPE_RULE = "type"  # a value that is not of its column's type: reported like a rule


class _Refused(Exception):
    """Rows failed and bad rows are not skipped: roll the savepoint back."""


def _items_for(res: Resource, read: readers.ReadFile) -> tuple[list[InfoItem], list[int]]:
    """The resource's items and, for each, the position of its column in the file."""
    if not res.items:
        res.items = [
            InfoItem(position=n, name=c.name, label=c.label, type=c.type, length=c.max_length)
            for n, c in enumerate(read.columns, start=1)
        ]
    where: dict[str, int] = {}
    for n, c in enumerate(read.columns):
        where.setdefault(c.name, n)
        where.setdefault(c.label, n)
    positions, missing = [], []
    for item in res.items:
        pos = where.get(item.name, where.get(item.label))
        if pos is None:
            missing.append(item.label)
        else:
            positions.append(pos)
    if missing:
        raise readers.FileRefused(
            N_("The file has no column for these information items: %(names)s"), names="、".join(missing)
        )
    return list(res.items), positions


def _columns_for_checks(items: Sequence[InfoItem]) -> list[readers.InferredColumn]:
    return [readers.InferredColumn(name=i.name, label=i.label, type=i.type, max_length=i.length) for i in items]


def _county(session: Session) -> BaseGeometry | None:
    county = geo.the_county(session)
    return county.geom if county is not None else None


Columns = list[list[Any]]


Rows = tuple[Sequence[int], Columns] | arrowcsv.Prepared  # what is inserted: Python columns, or Arrow's


class _Pipeline:
    """The rows to insert, a block at a time (``rows``): read, converted, checked, counted.

    Counts what was read, failed and kept; once a row fails and bad rows are not skipped, the rest is
    still checked (the report lists every failure) but nothing more is given to insert. On SQLite
    (DATES_AS_TEXT) dates and date-times are given as SQLAlchemy writes them there, ``2024-05-01``,
    ``2024-05-01 08:30:00.000000``, and Arrow's columns as Python's."""

    def __init__(
        self,
        items: Sequence[InfoItem],
        positions: Sequence[int],
        checker: quality.Checker,
        *,
        skip_bad_rows: bool,
        dates_as_text: bool,
    ) -> None:
        self.items, self.positions, self.checker = items, positions, checker
        self.types = [i.type for i in items]
        self.skip_bad_rows, self.dates_as_text = skip_bad_rows, dates_as_text
        self.counts = {"read": 0, "failed": 0, "kept": 0}
        self.type_failures: list[dict[str, Any]] = []
        self.categories = _Categories(items)
        self.refused = False

    def rows(self, read: readers.ReadFile) -> Iterator[Rows]:
        """The file's rows: a CSV through Arrow while it can (``arrowcsv``), the rest the csv module's way."""
        done = 0  # records of the file already given
        if read.csv is not None:
            width = len(read.columns)
            try:
                for before, batch in arrowcsv.batches(read.csv):
                    prepared = arrowcsv.prepare(batch, before, width, self.positions, self.types)
                    out = (
                        self.python_block(arrowcsv.as_block(batch, before, width))
                        if prepared is None
                        else self.arrow_block(prepared)
                    )
                    done = before + batch.num_rows
                    if out is not None:
                        yield out
                return
            except arrowcsv.GiveUp:
                pass  # the csv module's way, from the first record not yet given
        for block in read.blocks():
            if done and block.numbers[-1] <= done:
                continue
            if done and block.numbers[0] <= done:
                kept = [n for n, number in enumerate(block.numbers) if number > done]
                block = readers.Block([block.numbers[n] for n in kept], [[c[n] for n in kept] for c in block.columns])
            out = self.python_block(block)
            if out is not None:
                yield out

    def _counted(self, read: int, kept: int) -> bool:
        """Count a block; whether its kept rows are to be inserted."""
        self.counts["read"] += read
        self.counts["failed"] += read - kept
        self.refused = self.refused or (read > kept and not self.skip_bad_rows)
        if self.refused or not kept:
            return False
        self.counts["kept"] += kept
        return True

    def arrow_block(self, prepared: arrowcsv.Prepared) -> Rows | None:
        read = len(prepared)
        passed = self.checker.check_arrow(prepared.numbers, prepared.text, prepared.typed, prepared.text_list)
        if passed is not None:
            prepared = prepared.only(passed)
        if not self._counted(read, len(prepared)):
            return None
        self.categories.add(prepared.typed, len(prepared))
        if not self.dates_as_text:
            return prepared
        columns: Columns = []
        for k, (typed, kind) in enumerate(zip(prepared.typed, self.types, strict=True)):
            if kind in (FieldType.DATE, FieldType.TEXT):  # a date as stored already: 2024-05-01
                columns.append(prepared.text_list(k))
            elif kind is FieldType.DATETIME:
                form = _SQLITE_FORM[kind]
                columns.append([None if v is None else form(v) for v in arrowcsv.python_column(typed)])
            else:
                columns.append(arrowcsv.python_column(typed))
        return prepared.numbers.tolist(), columns

    def python_block(self, block: readers.Block) -> Rows | None:
        """A block the csv module's way: converted at once when it can, else row by row."""
        cells = [block.columns[p] for p in self.positions]
        read = len(block)
        try:  # every row converted at once (most blocks): the rules on numbers and dates read the result
            typed: list[list[Any]] | None = [
                readers.convert_column(c, t) for c, t in zip(cells, self.types, strict=True)
            ]
        except ValueError:
            typed = None
        numbers: Sequence[int] = block.numbers
        passed = self.checker.check_block(numbers, cells, typed=typed)
        if passed is not None:
            kept = [n for n, ok in enumerate(passed) if ok]
            numbers = [numbers[n] for n in kept]
            cells = [[column[n] for n in kept] for column in cells]
            typed = [[column[n] for n in kept] for column in typed] if typed is not None else None
        if typed is not None:
            columns = typed
        else:  # a value not of its column's type, maybe in a row that failed a rule: row by row
            numbers, columns = _convert_rows(numbers, cells, self.items, self.counts, self.type_failures)
        if self.dates_as_text:
            columns = _dates_as_text(columns, cells if typed is not None else None, self.types)
        if not self._counted(read, len(numbers)):
            return None
        self.categories.add(columns, len(numbers))
        return numbers, columns


class _Categories:
    """Which columns hold few values, each in many rows (``tables.indexes_for``): the values of each
    candidate column are collected until there are more than ``tables.CATEGORY_VALUES`` of them."""

    def __init__(self, items: Sequence[InfoItem]) -> None:
        self._names = [i.name for i in items]
        self._values: dict[int, set[Any]] = {
            n: set() for n, i in enumerate(items) if i.type in tables.CATEGORY_TYPES and not i.is_key
        }
        self._rows = 0

    def add(self, columns: Sequence[list[Any] | pa.Array], rows: int) -> None:
        """ROWS more rows, by column (Python's or Arrow's)."""
        self._rows += rows
        for n in list(self._values):
            found = self._values[n]
            found.update(arrowcsv.distinct(columns[n]))
            if len(found) > tables.CATEGORY_VALUES:
                del self._values[n]

    def names(self) -> set[str]:
        return {
            self._names[n]
            for n, found in self._values.items()
            if len(found - {None}) > 0 and len(found) * 10 <= self._rows
        }


def _convert_rows(
    numbers: Sequence[int],
    cells: Sequence[Sequence[str | None]],
    items: Sequence[InfoItem],
    counts: dict[str, int],
    type_failures: list[dict[str, Any]],
) -> tuple[list[int], Columns]:
    """Row by row, for a block with a value not of its column's type: the row fails on its first such
    value (counted and kept for the report like a rule's failure); the others are converted."""
    converters = [(readers.converter(i.type), i.name) for i in items]
    kept_numbers: list[int] = []
    kept_rows: list[list[Any]] = []
    for row_no, row in zip(numbers, zip(*cells, strict=True), strict=True):
        values: list[Any] = []
        for value, (conv, name) in zip(row, converters, strict=True):
            if not value:
                values.append(None)
                continue
            try:
                values.append(conv(value))
            except ValueError:
                key = f"{name}:{TYPE_RULE}"
                counts[key] = counts.get(key, 0) + 1
                if len(type_failures) < 1000:
                    type_failures.append({"row": row_no, "column": name, "rule": TYPE_RULE, "value": value[:200]})
                break
        else:
            kept_numbers.append(row_no)
            kept_rows.append(values)
    columns = [list(c) for c in zip(*kept_rows, strict=True)] if kept_rows else [[] for _ in items]
    return kept_numbers, columns


def _insert(
    conn: Connection, table_name: str, names: Sequence[str], types: Sequence[FieldType], rows: Iterator[Rows]
) -> None:
    """Insert the rows (``_id`` first, then NAMES) into the new table."""
    quoted = ", ".join(f'"{c}"' for c in [tables.ROW_ID, *names])
    if conn.dialect.name == "postgresql":
        _copy(conn, f'COPY "{table_name}" ({quoted}) FROM STDIN', types, rows)
    else:
        _insert_sqlite(conn, f'INSERT INTO "{table_name}" ({quoted}) VALUES ', len(names) + 1, rows)  # type: ignore[arg-type]


def _copy(conn: Connection, sql: str, types: Sequence[FieldType], rows: Iterator[Rows]) -> None:
    """PostgreSQL: binary ``COPY`` (the server parses no text), one per run of Arrow's blocks (written by
    ``pgcopy``, no Python value per cell) or of Python's (psycopg's ``write_row`` with the columns' types
    set). ``FREEZE``: the table was made in this savepoint, so its rows are written visible to all and
    the new table needs no vacuum before its indexes alone answer a count."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    sql += " (FORMAT binary, FREEZE)"
    with raw.cursor() as cur:  # type: ignore[attr-defined]
        for is_arrow, run in groupby(rows, key=lambda r: isinstance(r, arrowcsv.Prepared)):
            with cur.copy(sql) as copy:
                if is_arrow:
                    copy.write(pgcopy.SIGNATURE)
                    for prepared in run:
                        copy.write(pgcopy.rows(arrowcsv.arrow_columns(prepared, types)))  # type: ignore[arg-type]
                    copy.write(pgcopy.TRAILER)
                    continue
                copy.set_types(["int4", *(_PG_TYPES[t] for t in types)])
                write = copy.write_row
                for numbers, columns in run:  # type: ignore[misc]
                    for row in zip(numbers, *columns, strict=True):
                        write(row)


_PG_TYPES = {  # as tables.SQL_TYPES makes them
    FieldType.INTEGER: "int8",
    FieldType.NUMBER: "float8",
    FieldType.TEXT: "text",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamp",
    FieldType.BOOLEAN: "bool",
    FieldType.GEOMETRY: "text",
}


ROWS_PER_INSERT = 1_000  # rows of one INSERT … VALUES statement on SQLite (fewer with many columns)


def _insert_sqlite(conn: Connection, sql: str, width: int, blocks: Iterator[tuple[Sequence[int], Columns]]) -> None:
    """SQLite: multi-row ``INSERT … VALUES (…), (…), …`` statements, one per ROWS_PER_INSERT rows (a
    third faster than ``executemany``, which steps the statement once per row)."""
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    per_statement = max(1, min(ROWS_PER_INSERT, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    values = "(" + ", ".join("?" * width) + ")"
    statements: dict[int, str] = {}
    cur = raw.cursor()
    try:
        for numbers, columns in blocks:
            for at in range(0, len(numbers), per_statement):
                rows = zip(
                    numbers[at : at + per_statement], *(c[at : at + per_statement] for c in columns), strict=True
                )
                params = list(chain.from_iterable(rows))
                n = len(params) // width
                if n not in statements:
                    statements[n] = sql + ", ".join([values] * n)
                cur.execute(statements[n], params)
    finally:
        cur.close()


def _dates_as_text(columns: Columns, cells: Columns | None, types: Sequence[FieldType]) -> Columns:
    """Dates and date-times as SQLAlchemy writes them on SQLite; CELLS, when given, are the columns'
    text row for row (a date column written 2024-05-01 is kept as it was: already as stored)."""
    out = []
    for n, (values, kind) in enumerate(zip(columns, types, strict=True)):
        form = _SQLITE_FORM.get(kind)
        if form is None:
            out.append(values)
        elif kind is FieldType.DATE and cells is not None and readers.iso_dates(cells[n]):
            out.append(cells[n])
        elif None in values:
            out.append([None if v is None else form(v) for v in values])
        else:
            out.append(list(map(form, values)))
    return out


_SQLITE_FORM: dict[FieldType, Callable[[Any], str]] = {
    FieldType.DATE: date.isoformat,
    FieldType.DATETIME: partial(datetime.isoformat, sep=" ", timespec="microseconds"),
}


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def _ahead(rows: Iterator[Rows], depth: int = 2) -> Iterator[Rows]:
    """ROWS made in a thread of their own, up to DEPTH blocks ahead of the insert: Arrow's reading and
    checking and the database's writing release the interpreter, so on two cores they overlap. An
    exception in the making is raised here, in the caller's thread; when the caller stops early (its
    insert failed), the making stops too and its file is closed."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def give(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in rows:
                if not give(item):
                    return
            give(_END)
        except BaseException as exc:  # handed to the caller's thread, raised there
            give(_Raised(exc))
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()

    maker = threading.Thread(target=make, name="countyos-load-rows", daemon=True)
    maker.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        maker.join()


LOAD_CACHE_KIB = 128 * 1024  # SQLite's page cache while a load writes its table and indexes (then as it was)


@contextmanager
def _big_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a page cache big enough for a load's write (a small one spills pages to the log again and
    again within the transaction) and for sorting its indexes in memory; PostgreSQL: nothing."""
    raw = conn.connection.dbapi_connection
    if not isinstance(raw, sqlite3.Connection):
        yield
        return
    was = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={int(was)}")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A million rows make millions of short-lived lists; the cyclic collector would go over them again
    and again while nothing cyclic is made (as ``sensing.service.store.paused_gc`` for a batch)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_file(
    session: Session,
    *,
    actor: Actor,
    resource_id: int,
    path: Path,
    filename: str,
    skip_bad_rows: bool = False,
    index: bool = True,
) -> Load:
    """Load the file at PATH into a new version of the resource's data (see the module's docstring).
    INDEX false: the table's search indexes are planned (``Load.indexes``), not made; the caller makes
    them once the rows are committed (:func:`make_indexes`), or ``data.index_loads`` does."""
    res = catalogue.get(session, resource_id)
    if not catalogue.roles_of(actor, res):
        raise errors.PermissionDenied(
            N_("Only the provider department's data staff or the data administrator load its data.")
        )
    number = (session.scalar(select(func.max(Load.number)).where(Load.resource_id == res.id)) or 0) + 1
    load = Load(
        resource_id=res.id,
        number=number,
        state=LoadState.FAILED,
        source=filename[:200],
        by_id=actor.id,
        by_name=actor.name[:100],
        started_at=utcnow(),
        indexes=None,
        indexed_at=None,
    )
    started = time.perf_counter()
    pipeline: _Pipeline | None = None
    try:
        with session.begin_nested():
            read = readers.open_file(path, filename=filename)
            load.format = read.format
            items, positions = _items_for(res, read)
            session.flush()
            rules = quality.parse_rules(res.rules)
            checker = quality.Checker(rules, _columns_for_checks(items), county=_county(session))
            name = tables.table_name(res.id, number)
            table = tables.table_for(name, items)
            conn = session.connection()
            on_pg = conn.dialect.name == "postgresql"
            # PostgreSQL: the primary key made after the rows (a third of the COPY's time if kept up row by row)
            (tables.table_for(name, items, primary_key=False) if on_pg else table).create(conn)
            pipeline = _Pipeline(items, positions, checker, skip_bad_rows=skip_bad_rows, dates_as_text=not on_pg)
            with _gc_paused(), _big_cache(conn):
                _insert(conn, name, [i.name for i in items], [i.type for i in items], _ahead(pipeline.rows(read)))
            if pipeline.counts["failed"] and not skip_bad_rows:
                raise _Refused()
            if on_pg:
                conn.exec_driver_sql(f'ALTER TABLE "{name}" ADD PRIMARY KEY ("{tables.ROW_ID}")')
            planned = tables.indexes_for(table, items, categories=pipeline.categories.names())
            load.indexes = [[c.name for c in i.columns] for i in planned]
            if index:
                with _big_cache(conn):
                    for made in planned:
                        made.create(conn)
                load.indexed_at = utcnow()
            load.state, load.table_name = LoadState.LOADED, name
    except _Refused:
        load.state = LoadState.REFUSED
        load.error = N_(
            "Rows failed the quality rules; nothing was loaded. Correct them, or load with bad rows skipped."
        )
    except readers.FileRefused as exc:
        load.error = exc.message[:1000]
    except (ValueError, UnicodeError) as exc:
        load.error = str(exc)[:1000]
    counts = pipeline.counts if pipeline is not None else {"read": 0, "failed": 0, "kept": 0}
    type_failures = pipeline.type_failures if pipeline is not None else []
    checked = pipeline.checker if pipeline is not None else None
    load.rows_read, load.rows_failed = counts["read"], counts["failed"]
    load.rows_loaded = counts["kept"] if load.state == LoadState.LOADED else 0
    report: dict[str, Any] = {"counts": {}, "failures": []}
    if checked is not None:
        found = checked.report()
        report["counts"] = {f"{c}:{r.value if hasattr(r, 'value') else r}": n for (c, r), n in found.counts.items()}
        report["failures"] = [
            {"row": f.row, "column": f.column, "rule": f.rule.value, "value": f.value} for f in found.failures
        ]
    report["counts"].update({k: v for k, v in counts.items() if ":" in k})
    report["failures"] = sorted(report["failures"] + type_failures, key=lambda f: f["row"])[:1000]
    load.report = report
    load.quality_score = (counts["read"] - counts["failed"]) / counts["read"] if counts["read"] else None
    load.finished_at = utcnow()
    load.seconds = round(time.perf_counter() - started, 3)
    session.add(load)
    session.flush()
    if load.state == LoadState.LOADED:
        res.current_load_id = load.id
        if index:  # else with its indexes (make_indexes): the load's time is the rows'
            _drop_old_tables(session, res.id)
    audit.record(
        session,
        actor=actor,
        action="data.load." + load.state.value,
        target_type="data_resource",
        target_id=res.id,
        detail={"load": load.number, "source": load.source, "rows": load.rows_loaded, "failed": load.rows_failed},
    )
    return load


def unindexed(session: Session) -> list[int]:
    """The loads whose table still waits for its search indexes, oldest first."""
    stmt = select(Load.id).where(Load.table_name.is_not(None), Load.indexed_at.is_(None)).order_by(Load.id)
    return list(session.scalars(stmt))


def make_indexes(session: Session, *, actor: Actor, load_id: int) -> Load | None:
    """Make the search indexes planned for the load's table (those it has already are kept), drop the
    tables of loads beyond the last KEEP_TABLES, and audit it. None when the load has no table left (a
    newer load dropped it) or its indexes are made."""
    load = session.get(Load, load_id)
    if load is None or load.table_name is None or load.indexed_at is not None:
        return None
    res = catalogue.get(session, load.resource_id)
    started = time.perf_counter()
    table = tables.table_for(load.table_name, res.items)
    conn = session.connection()
    with _big_cache(conn):
        for made in tables.indexes_of(table, load.indexes or []):
            made.create(conn, checkfirst=True)
    load.indexed_at = utcnow()
    _drop_old_tables(session, res.id)
    seconds = round(time.perf_counter() - started, 3)
    audit.record(
        session,
        actor=actor,
        action="data.load.indexed",
        target_type="data_resource",
        target_id=res.id,
        detail={"load": load.number, "indexes": len(load.indexes or []), "seconds": seconds},
    )
    return load


def _drop_old_tables(session: Session, resource_id: int) -> None:
    kept = session.scalars(
        select(Load).where(Load.resource_id == resource_id, Load.table_name.is_not(None)).order_by(Load.number.desc())
    ).all()
    conn = session.connection()
    for old in kept[KEEP_TABLES:]:
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{old.table_name}"')
        old.table_name = None


def current_table(session: Session, res: Resource) -> tuple[Any, list[InfoItem]] | None:
    """The table of the resource's current load and its items, or None when nothing is loaded."""
    if res.current_load_id is None:
        return None
    load = session.get(Load, res.current_load_id)
    if load is None or load.table_name is None:
        return None
    return tables.table_for(load.table_name, res.items), list(res.items)
