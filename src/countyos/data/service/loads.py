"""Loading a department's file into a resource's table: read, check, convert, insert — all or nothing.

One pass over the file: each row is checked against the resource's quality rules (``quality.Checker``),
converted to its columns' types and inserted in batches (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) into a new table ``data_t{resource}_v{number}``, inside a savepoint. When the file cannot be
read or written, or a row fails a rule and bad rows are not to be skipped, the savepoint is rolled back:
no table, no rows. Either way the ``Load`` is recorded with its quality report (counts per column and
rule, the first failing rows) and audited, and the resource's current load changes only on success.

A resource without 信息项 takes the file's inferred columns; one with 信息项 matches the file's headers to
them by name or Chinese name, and a file without one of them is refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.data.models import InfoItem, Load, LoadState, Resource
from countyos.data.service import catalogue, quality, readers, tables
from countyos.geo import service as geo
from countyos.org.service import audit

BATCH = 5_000
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


def _rows(
    read: readers.ReadFile,
    items: Sequence[InfoItem],
    positions: Sequence[int],
    checker: quality.Checker,
    skip_bad_rows: bool,
    counts: dict[str, int],
    type_failures: list[dict[str, Any]],
) -> Iterator[tuple[Any, ...]]:
    """The converted rows to insert; counts what was read, failed and kept."""
    types = [i.type for i in items]
    names = [i.name for i in items]
    convert = readers.convert
    refused = False
    for row_no, raw in read.numbered_rows():
        cells = [raw[p] if p < len(raw) else None for p in positions]
        counts["read"] += 1
        ok = checker.check(row_no, cells)
        values: list[Any] = [row_no]
        if ok:
            for value, kind, name in zip(cells, types, names, strict=True):
                try:
                    values.append(convert(value, kind))
                except ValueError:
                    ok = False
                    counts[f"{name}:{TYPE_RULE}"] = counts.get(f"{name}:{TYPE_RULE}", 0) + 1
                    if len(type_failures) < 1000:
                        type_failures.append(
                            {"row": row_no, "column": name, "rule": TYPE_RULE, "value": (value or "")[:200]}
                        )
                    break
        if not ok:
            counts["failed"] += 1
            refused = refused or not skip_bad_rows
            continue
        if refused:
            continue  # keep checking (the report lists every failure), insert nothing more
        counts["kept"] += 1
        yield tuple(values)


def _insert(conn: Connection, table_name: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f'COPY "{table_name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table_name}" ({quoted}) VALUES ({marks})'
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)


def load_file(
    session: Session, *, actor: Actor, resource_id: int, path: Path, filename: str, skip_bad_rows: bool = False
) -> Load:
    """Load the file at PATH into a new version of the resource's data (see the module's docstring)."""
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
    )
    started = time.perf_counter()
    counts = {"read": 0, "failed": 0, "kept": 0}
    type_failures: list[dict[str, Any]] = []
    checker: quality.Checker | None = None
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
            table.create(conn)
            columns = [tables.ROW_ID, *[i.name for i in items]]
            _insert(conn, name, columns, _rows(read, items, positions, checker, skip_bad_rows, counts, type_failures))
            if counts["failed"] and not skip_bad_rows:
                raise _Refused()
            for index in tables.indexes_for(table, items):
                index.create(conn)
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
    load.rows_read, load.rows_failed = counts["read"], counts["failed"]
    load.rows_loaded = counts["kept"] if load.state == LoadState.LOADED else 0
    report: dict[str, Any] = {"counts": {}, "failures": []}
    if checker is not None:
        found = checker.report()
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
