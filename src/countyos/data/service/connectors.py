"""Connectors: scheduled pulls of a department's data into a resource, each run a new load.

- ``sql``: a department's database, reached by an SQLAlchemy URL (kept encrypted: it may hold a password),
  read with ONE statement that must parse as a single SELECT (sqlglot), in a read-only transaction, at most
  ``MAX_ROWS`` rows.
- ``http``: a department's JSON API: an array of objects, or the member named by ``query`` holding one;
  at most ``MAX_HTTP_BYTES``, ``TIMEOUT_S``.
- ``countyos``: CountyOS's own records (``live.SOURCES``).

Each run writes what it fetched to a private temporary file and loads it through the one load path
(``loads.load_file``: quality rules, all or nothing), then records a ``ConnectorRun`` (rows, seconds, the
error if any) — a failed fetch or a refused load is a run with its error, never half a table. Only the
data administrator defines connectors: the server connects to the addresses they name.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlglot
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlglot import exp

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import FieldCipher
from countyos.core.i18n import N_, gettext
from countyos.core.settings import get_settings
from countyos.data.models import Connector, ConnectorKind, ConnectorRun, LoadState
from countyos.data.schemas import ConnectorIn
from countyos.data.service import catalogue, live, loads
from countyos.org.service import audit

MAX_ROWS = 1_000_000
MAX_HTTP_BYTES = 100_000_000
TIMEOUT_S = 60.0
FORBIDDEN = (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Merge, exp.Into)


def _cipher() -> FieldCipher:
    return FieldCipher(get_settings().secret_key.get_secret_value())


def masked(address: str) -> str:
    """An address as people see it: a password in a URL replaced by ***."""
    try:
        url = make_url(address)
    except ArgumentError:
        return address
    return url.render_as_string(hide_password=True) if url.password else address


def address_of(c: Connector) -> str:
    return _cipher().decrypt(c.address_enc) if c.kind != ConnectorKind.COUNTYOS else c.address_enc


def check_select(sql: str, *, read: str | None = None) -> exp.Query:
    """A single read-only SELECT (WITH and UNION of SELECTs included), parsed in the dialect ``read``
    (sqlglot's name; None: its own), or a clear refusal. Also the first check of ``datastore_search_sql``
    (``service/sqlsearch.py``), which goes on from the statement returned."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=read) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise errors.ValidationFailed(N_("The query cannot be read: %(error)s"), error=str(exc)[:200]) from None
    except RecursionError:  # nested too deeply for the parser
        raise errors.ValidationFailed(N_("The query cannot be read: %(error)s"), error="nested too deeply") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise errors.ValidationFailed(N_("The query must be one SELECT statement."))
    if any(statements[0].find_all(*FORBIDDEN)):
        raise errors.ValidationFailed(N_("The query must only read."))
    return statements[0]


def _validate(data: ConnectorIn) -> None:
    if data.kind == ConnectorKind.SQL:
        try:
            make_url(data.address)
        except ArgumentError:
            message = N_("Not a database address (SQLAlchemy URL).")
            where = [{"field": "address", "message": gettext(message)}]
            raise errors.ValidationFailed(message, errors=where) from None
        check_select(data.query)
    if data.kind == ConnectorKind.COUNTYOS and data.address not in live.SOURCES:
        raise errors.ValidationFailed(N_("No such CountyOS source."), errors=[
            {"field": "address", "message": gettext("No such CountyOS source.")}
        ])  # fmt: skip


def create(session: Session, *, actor: Actor, resource_id: int, data: ConnectorIn) -> Connector:
    if not actor.can(catalogue.REVIEW):
        raise errors.PermissionDenied(N_("Only the data administrator defines connectors."))
    res = catalogue.get(session, resource_id)
    _validate(data)
    address = data.address if data.kind == ConnectorKind.COUNTYOS else _cipher().encrypt(data.address)
    c = Connector(resource_id=res.id, name=data.name, kind=data.kind, address_enc=address, query=data.query,
                  every_minutes=data.every_minutes, enabled=data.enabled, next_run_at=utcnow(),
                  created_by=actor.name[:100])  # fmt: skip
    session.add(c)
    session.flush()
    audit.record(session, actor=actor, action="data.connector.create", target_type="data_resource", target_id=res.id,
                 detail={"connector": c.id, "kind": c.kind.value, "address": masked(data.address)})  # fmt: skip
    return c


def _write_csv(path: Path, headers: Any, rows: Any) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(headers))
        for row in rows:
            n += 1
            if n > MAX_ROWS:
                raise errors.ValidationFailed(N_("More than %(n)s rows."), n=MAX_ROWS)
            w.writerow(["" if v is None else v for v in row])
    return n


def _fetch_sql(address: str, query: str, path: Path) -> int:
    check_select(query)
    engine = create_engine(address, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(TIMEOUT_S * 1000)}")
            result = conn.execution_options(stream_results=True).execute(text(query))
            return _write_csv(path, result.keys(), result)
    finally:
        engine.dispose()


def _fetch_http(address: str, member: str, path: Path) -> int:
    body = bytearray()
    with httpx.stream("GET", address, timeout=TIMEOUT_S, follow_redirects=False) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            body += chunk
            if len(body) > MAX_HTTP_BYTES:
                raise errors.ValidationFailed(N_("The answer is larger than %(n)s MB."), n=MAX_HTTP_BYTES // 1_000_000)
    data = json.loads(body)
    if member:
        for key in member.split("."):
            data = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise errors.ValidationFailed(N_("The answer holds no array of records there."))
    headers = list(dict.fromkeys(k for rec in data for k in rec))
    return _write_csv(path, headers, ([rec.get(h) for h in headers] for rec in data))


def run(session: Session, *, actor: Actor, connector_id: int, now: datetime | None = None) -> ConnectorRun:
    """Fetch and load once; the run is recorded whatever happens (the caller commits)."""
    c = session.get(Connector, connector_id)
    if c is None:
        raise errors.NotFound(N_("No such connector."))
    now = now or utcnow()
    started = time.perf_counter()
    record = ConnectorRun(connector_id=c.id, started_at=now)
    folder = get_settings().data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix="connector-") as tmp:
        path = Path(tmp) / f"{c.name[:40] or 'connector'}.csv"
        try:
            if c.kind == ConnectorKind.SQL:
                record.rows = _fetch_sql(address_of(c), c.query, path)
            elif c.kind == ConnectorKind.HTTP:
                record.rows = _fetch_http(address_of(c), c.query, path)
            else:
                headers, rows = live.rows(session, c.address_enc, now)
                record.rows = _write_csv(path, headers, rows)
            load = loads.load_file(session, actor=actor, resource_id=c.resource_id, path=path,
                                   filename=f"{c.name[:150]}.csv")  # fmt: skip
            record.load_id = load.id
            record.ok = load.state == LoadState.LOADED
            record.error = load.error[:1000]
        except errors.CountyError as exc:
            record.error = exc.message[:1000]
        except Exception as exc:  # the department's system: any failure is this run's error, not the job's
            record.error = f"{type(exc).__name__}: {str(exc)[:900]}"
    record.seconds = round(time.perf_counter() - started, 3)
    c.next_run_at = now + timedelta(minutes=c.every_minutes)
    session.add(record)
    session.flush()
    audit.record(session, actor=actor, action="data.connector.run", target_type="data_resource",
                 target_id=c.resource_id, detail={"connector": c.id, "ok": record.ok, "rows": record.rows,
                                                  "error": record.error[:200]})  # fmt: skip
    return record


def due(session: Session, *, now: datetime) -> list[int]:
    stmt = select(Connector.id).where(Connector.enabled.is_(True), Connector.next_run_at <= now)
    return list(session.scalars(stmt.order_by(Connector.next_run_at)))


def of_resource(session: Session, resource_id: int) -> list[Connector]:
    return list(session.scalars(select(Connector).where(Connector.resource_id == resource_id).order_by(Connector.id)))


def runs_of(session: Session, connector_id: int, limit: int = 20) -> list[ConnectorRun]:
    stmt = select(ConnectorRun).where(ConnectorRun.connector_id == connector_id)
    return list(session.scalars(stmt.order_by(ConnectorRun.id.desc()).limit(limit)))
