"""``datastore_search_sql``: one read-only SELECT over the open resources' rows, answered as CKAN's
DataStore answers it (``{"sql", "records", "fields"}`` and ``records_truncated`` when the row cap cut it).

What a query may do — and everything else is refused before the database sees it:

- be ONE statement, a SELECT (WITH, UNION/INTERSECT/EXCEPT of SELECTs, subqueries), parsed by sqlglot in
  PostgreSQL's dialect with the connectors' check (``connectors.check_select``): no INSERT, UPDATE,
  DELETE, DDL, SELECT … INTO, FOR UPDATE, PRAGMA, ATTACH, COPY, SET, EXPLAIN, no parameters;
- name as tables only CKAN resource ids (``"<id>"``, as ``resource_show`` and ``datastore_search`` name
  them) of resources whose rows are open (published, 无条件开放, with a current load) — or its own CTEs.
  System catalogues (``pg_*``, ``sqlite_*``, ``information_schema``), schema-qualified names, the load
  tables themselves and table functions are refused;
- call only the plain functions of :data:`FUNCTIONS` (aggregates, arithmetic, text, dates, window
  functions: an allow-list, so nothing that reads files, the server's state or sleeps) and cast only to
  the plain types of :data:`TYPES`.

Each resource id is rewritten in the AST to a subquery selecting only ``_id`` and the open 信息项 of its
current load table, under the name the query gave it: a column not marked open is not there to be named
(the database answers "no such column") and ``SELECT *`` shows only the open ones. The rewritten statement
is generated for the database in use (SQLite or PostgreSQL), wrapped as CKAN does in
``SELECT * FROM (…) LIMIT rows_max + 1`` and run in a savepoint that is rolled back afterwards:
``SET TRANSACTION READ ONLY`` and ``SET LOCAL statement_timeout`` on PostgreSQL, ``PRAGMA query_only``
and a progress handler past :data:`TIMEOUT_S` on SQLite.
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any

import sqlglot
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import traverse_scope

from countyos.core import errors
from countyos.core.db import timeout_ms
from countyos.core.i18n import N_
from countyos.data.codes import FieldType
from countyos.data.models import Load, Resource
from countyos.data.service import connectors, opendata, tables

log = logging.getLogger("countyos.data.sql")

MAX_SQL_CHARS = 8_000  # characters of one query
MAX_NODES = 3_000  # nodes of its syntax tree
MAX_TABLES = 16  # table references (the same resource twice counts twice)
ROWS_MAX = opendata.MAX_LIMIT  # rows returned at most: CKAN's ckan.datastore.search.rows_max (32,000)
TIMEOUT_S = 5.0  # database time of one query
MAX_VALUE_BYTES = 20_000_000  # one string a query may build, on SQLite (PostgreSQL's own bound is 1 GB)
MAX_RESULT_CHARS = 50_000_000  # characters of text in one answer
READ = "postgres"  # the dialect queries are written in (CKAN's DataStore is PostgreSQL)
OUTER = "_sql"  # the alias of the query inside the row cap

# sqlglot's names of the functions a query may call (``sql_name()``; unknown functions by their own name,
# lower case, in ANONYMOUS). Operators (``||``, ``->``, ``~``, AND, OR) are not functions here.
FUNCTIONS = frozenset(
    {
        # aggregates
        "COUNT", "COUNT_IF", "SUM", "AVG", "MIN", "MAX", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE",
        "VARIANCE_POP", "GROUP_CONCAT", "PERCENTILE_CONT", "PERCENTILE_DISC", "MEDIAN", "LOGICAL_AND",
        "LOGICAL_OR",
        # window functions
        "ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE",
        # arithmetic
        "ABS", "ROUND", "CEIL", "FLOOR", "TRUNC", "SQRT", "CBRT", "LN", "LOG", "EXP", "POWER", "SIGN", "PI",
        "DEGREES", "RADIANS", "SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "ATAN2", "WIDTH_BUCKET",
        # text
        "LOWER", "UPPER", "LENGTH", "SUBSTRING", "TRIM", "REPLACE", "CONCAT", "CONCAT_WS", "STR_POSITION",
        "LEFT", "RIGHT", "SPLIT_PART", "INITCAP", "REVERSE", "REGEXP_LIKE", "REGEXP_REPLACE", "MD5",
        # dates
        "EXTRACT", "TIMESTAMP_TRUNC", "DATE_TRUNC", "TIME_TO_STR", "STR_TO_DATE", "DATE", "CURRENT_DATE",
        "CURRENT_TIMESTAMP", "CURRENT_TIME", "LOCALTIMESTAMP",
        # conditions and conversions
        "CASE", "IF", "COALESCE", "NULLIF", "GREATEST", "LEAST", "CAST", "TRY_CAST", "EXISTS",
    }
)  # fmt: skip
ANONYMOUS = frozenset({"strftime", "julianday", "total", "every", "age"})
# Words PostgreSQL reads as a call of a function when they stand unquoted where a column could: the role,
# schema or database they answer are the server's, not the data's.
SERVER_WORDS = frozenset({"user", "current_user", "session_user", "current_role", "system_user", "current_schema",
                          "current_catalog"})  # fmt: skip
TYPES = frozenset(
    {
        exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.DECIMAL,
        exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE, exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR,
        exp.DataType.Type.CHAR, exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.DATETIME, exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.INTERVAL,
    }
)  # fmt: skip
REFUSED = (exp.Lock, exp.Placeholder, exp.Parameter, exp.Command)  # besides connectors.FORBIDDEN
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "main", "temp", "sqlite_master"})
SYSTEM_TABLE = re.compile(r"^(pg_|sqlite_|information_schema)", re.IGNORECASE)
LOAD_TABLE = re.compile(r"^data_t\d+_v\d+$", re.IGNORECASE)
TABLE_ARGS = frozenset({"this", "alias"})  # a table reference with anything else (ONLY, TABLESAMPLE …) is refused


@dataclass(frozen=True)
class Source:
    """A resource a query reads: the id it named, its load table and the columns it may see."""

    rid: str
    resource: Resource
    table_name: str
    columns: tuple[tuple[str, FieldType | None], ...]  # (_id, None), then the open 信息项


@dataclass(frozen=True)
class Prepared:
    """A checked query: the statement to run (the dialect's text) and what it reads."""

    sql: str
    sources: tuple[Source, ...]


def _invalid(message: str) -> opendata.ValidationError:
    return opendata.ValidationError({"query": [message]})


def prepare(session: Session, found: opendata.OpenSet, sql: str, *, dialect: str, rows_max: int) -> Prepared:
    """Check ``sql`` and rewrite it for ``dialect`` (sqlglot's name: sqlite, postgres), or refuse it:
    :class:`opendata.ValidationError` (409) for what is not one read-only SELECT, ``PermissionDenied``
    (403) for a table or function it may not use."""
    if not sql.strip():
        raise opendata.ValidationError({"sql": ["Missing value"]})
    if len(sql) > MAX_SQL_CHARS:
        raise opendata.ValidationError({"sql": [f"at most {MAX_SQL_CHARS} characters"]})
    try:
        tree = connectors.check_select(sql, read=READ)
    except errors.ValidationFailed as exc:
        raise _invalid(exc.message) from None
    if sum(1 for _ in tree.walk()) > MAX_NODES:
        raise _invalid(f"The query is too long: at most {MAX_NODES} terms.")
    if any(tree.find_all(*REFUSED)):
        raise _invalid("The query must only read, without parameters or locks.")
    _check_functions(tree)
    _check_types(tree)
    try:
        tree = normalize_identifiers(tree, dialect=READ)
        scopes = list(traverse_scope(tree))
    except (SqlglotError, RecursionError) as exc:
        raise _invalid(f"The query cannot be read: {str(exc)[:200]}") from None
    real, ctes = _table_references(tree, scopes)
    sources = _sources(session, found, real)
    for cte in ctes:
        if LOAD_TABLE.match(cte) or SYSTEM_TABLE.match(cte):
            raise _invalid(f"A WITH query may not be named {cte[:60]}.")
    for table, source in zip(real, sources, strict=True):
        table.replace(_open_subquery(table, source))
    capped = exp.select("*").from_(tree.subquery(OUTER)).limit(rows_max + 1)
    try:
        text = capped.sql(
            dialect=dialect, comments=False, normalize_functions="lower", unsupported_level=sqlglot.ErrorLevel.RAISE
        )
    except SqlglotError as exc:
        raise _invalid(f"The query cannot be run here: {str(exc)[:200]}") from None
    return Prepared(text, tuple(sources))


def _name_of(f: exp.Func) -> str:
    return f.name.lower() if isinstance(f, exp.Anonymous) else f.sql_name().upper()


def _check_functions(tree: exp.Expr) -> None:
    for f in tree.find_all(exp.Func):
        if isinstance(f, exp.Binary | exp.Connector):  # an operator, not a call
            continue
        name = _name_of(f)
        qualified = isinstance(f.parent, exp.Dot) and f.arg_key == "expression"  # schema.function(…)
        if qualified or ((name not in ANONYMOUS) if isinstance(f, exp.Anonymous) else (name not in FUNCTIONS)):
            raise errors.PermissionDenied(N_("Not authorized to call function %(name)s"), name=name[:60])
    for c in tree.find_all(exp.Column):
        word = c.this
        if not c.table and isinstance(word, exp.Identifier) and not word.quoted and word.name.lower() in SERVER_WORDS:
            raise errors.PermissionDenied(N_("Not authorized to call function %(name)s"), name=word.name[:60])


def _check_types(tree: exp.Expr) -> None:
    for t in tree.find_all(exp.DataType):
        if t.this not in TYPES:
            raise errors.PermissionDenied(N_("Not authorized to use the type %(name)s"), name=t.sql(READ)[:60])


def _table_references(tree: exp.Expr, scopes: Sequence[Any]) -> tuple[list[exp.Table], set[str]]:
    """The table references that name real tables (not one of the query's own CTEs in scope), and the
    CTE names. Every table of the tree must be found in a scope: one that is not is refused."""
    real: list[exp.Table] = []
    ctes: set[str] = set()
    placed: set[int] = set()
    for scope in scopes:
        ctes.update(scope.cte_sources)
        for table in scope.tables:
            placed.add(id(table))
            unqualified = not table.args.get("db") and not table.args.get("catalog")
            if unqualified and table.name in scope.cte_sources and isinstance(table.this, exp.Identifier):
                continue
            real.append(table)
    every = list(tree.find_all(exp.Table))
    if any(id(t) not in placed for t in every):
        raise _invalid("The query names a table where it cannot be read.")
    if len(real) > MAX_TABLES:
        raise _invalid(f"The query names more than {MAX_TABLES} tables.")
    return real, ctes


def _sources(session: Session, found: opendata.OpenSet, real: list[exp.Table]) -> list[Source]:
    sources: list[Source] = []
    for table in real:
        schemas = [p.name for p in (table.args.get("db"), table.args.get("catalog")) if isinstance(p, exp.Identifier)]
        name = table.name if isinstance(table.this, exp.Identifier) else ""
        if SYSTEM_TABLE.match(name) or any(s.lower() in SYSTEM_SCHEMAS or SYSTEM_TABLE.match(s) for s in schemas):
            raise errors.PermissionDenied(N_("Not authorized to access system tables"))
        extra = {k for k, v in table.args.items() if v is not None and v != [] and k not in TABLE_ARGS}
        if not name or extra:
            raise errors.PermissionDenied(N_("Not authorized to read resource."))
        sources.append(_source(session, found, name))
    return sources


def _source(session: Session, found: opendata.OpenSet, rid: str) -> Source:
    try:
        res, _fmt = opendata.find_by_resource_id(found, rid)
    except errors.NotFound:
        # not an open resource, not a resource at all, or a table of the database: one answer for all
        raise errors.PermissionDenied(N_("Not authorized to read resource.")) from None
    load = found.loads.get(res.current_load_id or 0) or session.get(Load, res.current_load_id)
    if load is None or load.table_name is None:
        raise errors.PermissionDenied(N_("Not authorized to read resource."))
    columns = ((tables.ROW_ID, None), *((i.name, i.type) for i in opendata.open_items(res)))
    return Source(rid, res, load.table_name, columns)


def _open_subquery(table: exp.Table, source: Source) -> exp.Subquery:
    """``(SELECT _id, <open columns> FROM data_tX_vY) AS <the name the query used>``."""
    inner = exp.select(*[exp.column(name, quoted=True) for name, _ in source.columns]).from_(
        exp.Table(this=exp.to_identifier(source.table_name, quoted=True))
    )
    alias = table.args.get("alias")
    alias = alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier(source.rid, quoted=True))
    return exp.Subquery(this=inner, alias=alias)


# -- running it ------------------------------------------------------------------------------------------------


@contextmanager
def _read_only(session: Session, seconds: float) -> Iterator[Any]:
    """A savepoint in which nothing can be written and statements stop after SECONDS; rolled back at the
    end (on PostgreSQL that also ends the read-only mode and the timeout, which are the savepoint's)."""
    nested = session.begin_nested()
    conn = session.connection()
    raw: Any = None
    undo: list[Any] = []  # what puts the SQLite connection back as it was, in reverse order
    try:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms(seconds)}")
        elif conn.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            before = raw.execute("PRAGMA query_only").fetchone()[0]
            raw.execute("PRAGMA query_only = ON")
            undo.append(lambda: raw.execute(f"PRAGMA query_only = {1 if before else 0}"))
            length = raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
            undo.append(lambda: raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, length))
            deadline = time.monotonic() + seconds
            raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1_000)
            undo.append(lambda: raw.set_progress_handler(None, 0))
        yield conn
    finally:
        for step in reversed(undo):
            step()
        nested.rollback()


def _timed_out(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "interrupted" in message or "statement timeout" in message or "canceling statement" in message


def _error_text(exc: DBAPIError, sources: Sequence[Source]) -> str:
    """The database's message, with the load tables named as the query named them."""
    text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    for s in sources:
        text = text.replace(s.table_name, s.rid)
    return text[:500]


def search_sql(
    session: Session,
    found: opendata.OpenSet,
    *,
    sql: str,
    rows_max: int | None = None,
    seconds: float | None = None,
) -> dict[str, Any]:
    """CKAN's ``datastore_search_sql`` result for ``sql``: ``sql``, ``records`` (at most ``rows_max``),
    ``fields`` (id, type) and ``records_truncated`` when there were more rows."""
    rows_max = ROWS_MAX if rows_max is None else rows_max
    seconds = TIMEOUT_S if seconds is None else seconds
    dialect = "postgres" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    prepared = prepare(session, found, sql, dialect=dialect, rows_max=rows_max)
    started = time.perf_counter()
    try:
        with _read_only(session, seconds) as conn:
            # no_parameters: the text goes to the driver as it is (psycopg would read a % as a placeholder)
            result = conn.exec_driver_sql(prepared.sql, execution_options={"no_parameters": True})
            names = [str(d[0]) for d in result.cursor.description or ()]
            rows = [tuple(r) for r in result.fetchmany(rows_max + 1)]
    except DBAPIError as exc:
        if _timed_out(exc):
            log.info("datastore_search_sql took too long (%.1f s): %s", seconds, _ids(prepared))
            raise _invalid("Query took too long") from None
        raise _invalid(_error_text(exc, prepared.sources)) from None
    truncated = len(rows) > rows_max
    rows = rows[:rows_max]
    if sum(len(v) for r in rows for v in r if isinstance(v, str)) > MAX_RESULT_CHARS:
        raise _invalid(f"The result holds more than {MAX_RESULT_CHARS:,} characters: ask for fewer rows or columns.")
    fields = _fields(names, rows, prepared.sources)
    records = [
        {f["id"]: _value(v, f["type"]) for f, v in zip(fields, row, strict=True)} for row in rows
    ]  # a name twice keeps the last value, as in CKAN
    log.info(
        "datastore_search_sql on %s: %d rows%s in %.0f ms",
        _ids(prepared),
        len(records),
        " (truncated)" if truncated else "",
        (time.perf_counter() - started) * 1000,
    )
    out: dict[str, Any] = {"sql": sql, "records": records, "fields": fields}
    if truncated:
        out["records_truncated"] = True
    return out


def _ids(prepared: Prepared) -> str:
    return ",".join(sorted({s.rid for s in prepared.sources})) or "-"


# -- fields and values -----------------------------------------------------------------------------------------


def _type_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float | Decimal):
        return "numeric"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "text"


FITS = {  # a column's declared CKAN type → the value types (as the database returned them) that fit it
    "int": {"int"},
    "numeric": {"int", "numeric"},
    "text": {"text"},
    "date": {"date", "text"},
    "timestamp": {"timestamp", "text"},
    "bool": {"bool", "int"},
}


def _fields(names: list[str], rows: list[tuple[Any, ...]], sources: Sequence[Source]) -> list[dict[str, str]]:
    """Each output column's CKAN type: the open 信息项's type when the column bears its name and its
    values fit it (SQLite returns dates as text and booleans as 0/1), else the type of its values."""
    declared: dict[str, set[str]] = {}
    for s in sources:
        for name, kind in s.columns:
            declared.setdefault(name, set()).add("int" if kind is None else opendata.CKAN_TYPES[kind])
    out = []
    for n, name in enumerate(names):
        seen = {t for t in (_type_of(r[n]) for r in rows) if t is not None}
        hint = declared.get(name, set())
        wanted = next(iter(hint)) if len(hint) == 1 else None
        if wanted is not None and seen <= FITS[wanted]:
            out.append({"id": name, "type": wanted})
        elif len(seen) == 1:
            out.append({"id": name, "type": next(iter(seen))})
        else:
            out.append({"id": name, "type": "numeric" if seen == {"int", "numeric"} else "text"})
    return out


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bool" and isinstance(value, int):
        return bool(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | day_time):
        return value.isoformat()
    if kind == "timestamp" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            return value
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value
