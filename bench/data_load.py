"""Loading a department's file and searching it, against the database's own bare floor.

A deterministic CSV of ``--rows`` county enterprises (企业名称, 统一社会信用代码 with valid check
characters, 成立日期, 注册资本, 所属乡镇 from a code list of 10 townships, 联系电话, 经度, 纬度 inside the
county) is written to a temporary file. Each backend gets a fresh database migrated with
``core.migrate.upgrade``: the permission catalogue, the demo county 遂昌县 (331123) bootstrapped from the
packaged data (its boundary is what the ``in_county`` rule checks, as in a real load), a provider
department and a resource created through the services, with its 信息项 and the quality rules
not_null, uscc, unique, code_list, date, phone and in_county on ``lon,lat``, then published.

1. Load. The file through the real path, ``countyos.data.flows.load_path`` (read, check, convert,
   insert into the load's new table, build its indexes, record and audit the load, commit), against
   the bare floor on the same database: the same rows, already parsed by the csv module (not timed),
   inserted as text in one transaction into a plain table — SQLite ``executemany`` through sqlite3 on
   the same file with the server's pragmas (WAL, synchronous=NORMAL), PostgreSQL ``COPY`` by psycopg
   ``write_row``. A first round of each is not timed (a long-running server has made its first
   allocations and compiled its patterns already); then rounds alternate which goes first, and the
   medians are compared. The load commits its rows (served at once) before its search indexes are
   made, as ``countyos data load`` does; the indexes, and the same ones made on the floor's table, are
   timed apart and printed with the ratio of both together. Target: load rate ≥ 0.5 ×
   the floor's.
2. Search. ``datastore_search`` with a filter on 所属乡镇 and a sort on 成立日期 (newest first, 100
   records and the total, CKAN's defaults) over the loaded resource, called through the real code
   (``opendata.open_set`` + ``find_by_resource_id`` + ``opendata.datastore_search`` in a read session,
   what the CKAN action does), its latencies against the same filter and sort as plain SQL on the same
   table (the rows and the count, through the driver); and ``GET /api/3/action/datastore_search`` through
   FastAPI's TestClient (in-process, no network). Target on SQLite: p95 < 100 ms.

Prints a table and writes ``bench/results/data_load.json``.

    .venv/bin/python bench/data_load.py                           # 1,000,000 rows, both backends
    .venv/bin/python bench/data_load.py --rows 100000 --backends sqlite --rounds 1
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "data_load.json"
PG_URL = "postgresql+psycopg://countyos:countyos@127.0.0.1:5432/countyos_bench_data"
COUNTY = "331123"  # 遂昌县, the demo county
LOAD_TARGET = 0.5
SEARCH_P95_MS = 100.0

HEADERS = ["企业名称", "统一社会信用代码", "成立日期", "注册资本", "所属乡镇", "联系电话", "经度", "纬度"]
ITEMS = [
    {"name": "name", "label": "企业名称", "type": "text", "open": True},
    {"name": "uscc", "label": "统一社会信用代码", "type": "text", "open": True, "is_key": True},
    {"name": "founded", "label": "成立日期", "type": "date", "open": True},
    {"name": "capital", "label": "注册资本", "type": "number", "open": True},
    {"name": "town", "label": "所属乡镇", "type": "text", "open": True},
    {"name": "phone", "label": "联系电话", "type": "text", "open": True},
    {"name": "lon", "label": "经度", "type": "number", "open": True},
    {"name": "lat", "label": "纬度", "type": "number", "open": True},
]


# ----------------------------------------------------------------------------------------------
# the file


def write_csv(path: Path, rows: int, towns: list[str], county: Any) -> None:
    """ROWS enterprises, the same for the same ROWS, TOWNS and county."""
    import numpy as np
    import shapely

    from countyos.org.service import uscc

    rng = np.random.default_rng(331123)
    x0, y0, x1, y1 = county.bounds
    lon: list[float] = []
    lat: list[float] = []
    while len(lon) < rows:  # points inside the county, drawn in its bounding box
        xs = np.round(rng.uniform(x0, x1, rows), 6)  # as written to the file
        ys = np.round(rng.uniform(y0, y1, rows), 6)
        inside = shapely.contains_xy(county, xs, ys)
        lon.extend(xs[inside].tolist())
        lat.extend(ys[inside].tolist())
    alphabet = uscc.ALPHABET
    words = list("金华丰瑞鑫源兴盛泰和恒达宏远天宇龙凤茶竹林山溪云")
    trades = ["农业开发", "茶业", "竹木制品", "旅游开发", "建材", "电子科技", "食品", "物流", "商贸", "建筑工程"]
    first = date(1990, 1, 1)
    span = (date(2024, 12, 31) - first).days
    w1, w2, tr = rng.integers(0, len(words), rows), rng.integers(0, len(words), rows), rng.integers(0, 10, rows)
    days, capital = rng.integers(0, span + 1, rows), rng.integers(100, 10_000_000, rows)
    town, mobile, number = rng.integers(0, len(towns), rows), rng.random(rows) < 0.8, rng.integers(0, 10**9, rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADERS)
        for i in range(rows):
            n = (i * 7_919 + 12_345) % 31**9  # distinct for distinct i (7919 is prime to 31)
            org = ""
            for _ in range(9):
                n, r = divmod(n, 31)
                org = alphabet[r] + org
            first17 = "91" + COUNTY + org
            phone = (
                f"1{3 + number[i] % 7}{number[i] % 10**9:09d}"
                if mobile[i]
                else f"0578-{2 + number[i] % 8}{number[i] % 10**6:06d}"
            )
            out.writerow(
                [
                    f"遂昌县{words[w1[i]]}{words[w2[i]]}{trades[tr[i]]}有限公司",
                    first17 + uscc.check_char(first17),
                    (first + timedelta(days=int(days[i]))).isoformat(),
                    f"{capital[i] / 100:.2f}",
                    towns[town[i]],
                    phone,
                    f"{lon[i]:.6f}",
                    f"{lat[i]:.6f}",
                ]
            )


def parsed_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return list(reader)


# ----------------------------------------------------------------------------------------------
# databases


def pg_admin(sql: str) -> None:
    env = dict(os.environ, PGPASSWORD="countyos")
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "countyos", "-d", "postgres", "-c", sql], check=True, env=env
    )


def fresh_pg(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    for attempt in range(10):  # the template is briefly in use while tests copy it
        try:
            pg_admin(f"CREATE DATABASE {name} TEMPLATE countyos_template")
            return
        except subprocess.CalledProcessError:
            if attempt == 9:
                raise
            time.sleep(1)


def prepare(url: str) -> tuple[Any, int, str, list[str], Any]:
    """Migrate; the catalogue of permissions, the county, a department and the published resource.

    Returns the Database, the resource's id, its CKAN resource id, the 10 township codes and the
    county's boundary."""
    os.environ["COUNTYOS_DATABASE_URL"] = url
    from countyos import domains
    from countyos.core import migrate
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings
    from countyos.data import flows  # noqa: F401  (as the server has: imported at its start, not in the load)
    from countyos.data.lifecycle import Action
    from countyos.data.schemas import ActionIn
    from countyos.data.service import catalogue, opendata
    from countyos.geo.service import divisions
    from countyos.org import flows as org_flows
    from countyos.org.models import DepartmentKind
    from countyos.org.service import departments

    reset_settings()
    migrate.upgrade(url)
    db = Database(url)
    with db.unit_of_work() as s:
        org_flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
        divisions.bootstrap(s, actor=ACTOR, county_code=COUNTY)
        county = divisions.the_county(s)
        assert county is not None
        towns = [d.code for d in divisions.children(s, parent_code=county.code)][:10]
        dept = departments.create(s, actor=ACTOR, name="遂昌县市场监督管理局", kind=DepartmentKind.DEPARTMENT)
        res = catalogue.create(s, actor=ACTOR, data=resource(dept.id, towns))
        for action in (Action.SUBMIT, Action.APPROVE):
            res = catalogue.act(s, actor=ACTOR, resource_id=res.id, data=ActionIn(action=action, version=res.version))
        rid = opendata.resource_id(res, "CSV")
        return db, res.id, rid, towns, county.geom


def resource(provider_id: int, towns: list[str]) -> Any:
    from countyos.data.schemas import ResourceIn

    return ResourceIn.model_validate(
        {
            "name": "qiye-dengji",
            "code": "331123-SCJG-0001",
            "title": "企业登记信息",
            "summary": "本县登记在册的企业",
            "class_1": "基础信息",
            "provider_id": provider_id,
            "format": "电子表格",
            "share_type": "unconditional",
            "open_type": "unconditional",
            "update_cycle": "monthly",
            "items": ITEMS,
            "rules": [
                {"kind": "not_null", "column": "name"},
                {"kind": "not_null", "column": "uscc"},
                {"kind": "uscc", "column": "uscc"},
                {"kind": "unique", "column": "uscc"},
                {"kind": "code_list", "column": "town", "params": {"values": towns}},
                {"kind": "date", "column": "founded", "params": {"min": "1949-10-01"}},
                {"kind": "phone", "column": "phone"},
                {"kind": "in_county", "column": "lon,lat"},
            ],
        }
    )


def _actor() -> Any:
    from countyos.core.actor import Actor

    return Actor(id=None, name="bench", permissions=frozenset({"data.catalogue.review", "data.catalogue.manage"}))


ACTOR: Any = None


# ----------------------------------------------------------------------------------------------
# 1. load


# the load's search indexes on the floor's table: 统一社会信用代码; 成立日期; (所属乡镇, 成立日期)
FLOOR_INDEXES = ["CREATE INDEX bench_floor_1 ON bench_floor (c1)", "CREATE INDEX bench_floor_2 ON bench_floor (c2)",
                 "CREATE INDEX bench_floor_3 ON bench_floor (c4, c2)"]  # fmt: skip


def floor_sqlite(path: str, rows: list[list[str]]) -> tuple[float, float]:
    """The floor's insert, and then (timed apart) the load's search indexes on its table."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    cols = ", ".join(f"c{n} TEXT" for n in range(len(HEADERS)))
    conn.execute(f"CREATE TABLE bench_floor ({cols})")
    marks = ", ".join("?" for _ in HEADERS)
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO bench_floor VALUES ({marks})", rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("BEGIN")
    for sql in FLOOR_INDEXES:
        conn.execute(sql)
    conn.execute("COMMIT")
    index_seconds = time.perf_counter() - started
    conn.execute("DROP TABLE bench_floor")
    conn.close()
    return seconds, index_seconds


def floor_pg(url: str, rows: list[list[str]]) -> tuple[float, float]:
    import psycopg

    conn = psycopg.connect(url.replace("+psycopg", ""))
    cols = ", ".join(f"c{n} text" for n in range(len(HEADERS)))
    conn.execute(f"CREATE TABLE bench_floor ({cols})")
    conn.commit()
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy("COPY bench_floor FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.commit()
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for sql in FLOOR_INDEXES:
        conn.execute(sql)
    conn.commit()
    index_seconds = time.perf_counter() - started
    conn.execute("DROP TABLE bench_floor")
    conn.commit()
    conn.close()
    return seconds, index_seconds


def load_once(db: Any, resource_id: int, path: Path, rows: int) -> tuple[float, float]:
    """``countyos data load``'s way: the load (committed and served), then (timed apart) its indexes."""
    from countyos.data import flows
    from countyos.data.models import LoadState

    started = time.perf_counter()
    load = flows.load_path(
        db, actor=ACTOR, resource_id=resource_id, path=path, filename="qiye.csv", skip_bad_rows=False
    )
    seconds = time.perf_counter() - started
    if load.state != LoadState.LOADED or load.rows_loaded != rows:
        raise SystemExit(f"the load failed: {load.state} {load.rows_loaded} rows, {load.error} {load.report}")
    started = time.perf_counter()
    flows.make_indexes(db, actor=ACTOR, load_id=load.id)
    return seconds, time.perf_counter() - started


# ----------------------------------------------------------------------------------------------
# 2. search


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def timings(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "n": len(ms),
    }


def search_service(db: Any, rid: str, towns: list[str], n: int) -> list[float]:
    from countyos.data.service import opendata

    out = []
    for i in range(n):
        started = time.perf_counter()
        with db.reading() as s:
            found = opendata.open_set(s)
            res, _fmt = opendata.find_by_resource_id(found, rid)
            result = opendata.datastore_search(
                s, res, rid=rid, filters={"town": towns[i % len(towns)]}, sort="founded desc"
            )
        out.append(time.perf_counter() - started)
        assert len(result["records"]) == 100 and result["total"] > 0, result["total"]
    return out


def search_floor(db: Any, table: str, towns: list[str], n: int) -> list[float]:
    """The same filter and sort as plain SQL: the page of rows and the total, through the driver."""
    cols = ", ".join(f'"{c}"' for c in ["_id", *(i["name"] for i in ITEMS)])
    mark = "?" if db.is_sqlite else "%s"
    rows_sql = f'SELECT {cols} FROM "{table}" WHERE town = {mark} ORDER BY founded DESC, _id LIMIT 100'
    count_sql = f'SELECT count(*) FROM "{table}" WHERE town = {mark}'
    out = []
    raw = db.engine.raw_connection()
    try:
        for i in range(n):
            started = time.perf_counter()
            cur = raw.cursor()
            cur.execute(rows_sql, (towns[i % len(towns)],))
            rows = cur.fetchall()
            cur.execute(count_sql, (towns[i % len(towns)],))
            total = cur.fetchone()[0]
            cur.close()
            raw.rollback()
            out.append(time.perf_counter() - started)
            assert len(rows) == 100 and total > 0
    finally:
        raw.close()
    return out


def search_http(rid: str, towns: list[str], n: int) -> list[float]:
    from fastapi.testclient import TestClient

    from countyos.app import create_app
    from countyos.core.settings import reset_settings

    reset_settings()
    out = []
    with TestClient(create_app()) as client:
        for i in range(n):
            params = {
                "resource_id": rid,
                "filters": json.dumps({"town": towns[i % len(towns)]}),
                "sort": "founded desc",
            }
            started = time.perf_counter()
            r = client.get("/api/3/action/datastore_search", params=params)
            out.append(time.perf_counter() - started)
            assert r.status_code == 200 and len(r.json()["result"]["records"]) == 100, r.text[:300]
    return out


def plan(db: Any, table: str, town: str) -> str:
    from sqlalchemy import text

    with db.reading() as s:
        if db.is_sqlite:
            sql = f'EXPLAIN QUERY PLAN SELECT * FROM "{table}" WHERE town = :t ORDER BY founded DESC, _id LIMIT 100'
            return "; ".join(r[-1] for r in s.execute(text(sql), {"t": town}))
        sql = f'EXPLAIN SELECT * FROM "{table}" WHERE town = :t ORDER BY founded DESC, _id LIMIT 100'
        return "; ".join(r[0].strip() for r in s.execute(text(sql), {"t": town}))


# ----------------------------------------------------------------------------------------------


def run_backend(
    backend: str,
    url: str,
    prepared: tuple[Any, int, str, list[str], Any],
    csv_path: Path,
    rows: list[list[str]],
    args: Any,
) -> dict[str, Any]:
    from sqlalchemy import inspect

    from countyos.data.models import Load, Resource

    db, resource_id, rid, towns, _county = prepared
    floor: list[float] = []
    load: list[float] = []
    floor_index: list[float] = []  # the same search indexes made on the floor's table
    load_index: list[float] = []
    read: list[float] = []  # the csv module alone reading the file (part of any load, not of the floor)
    for _ in range(args.warmup):  # untimed: a long-running server has made its first allocations already
        load_once(db, resource_id, csv_path, len(rows))
        floor_sqlite(url.removeprefix("sqlite:///"), rows) if backend == "sqlite" else floor_pg(url, rows)
        print(f"  {backend} warm-up round (not counted)", flush=True)
    for r in range(args.rounds):
        for what in ("floor", "load") if r % 2 == 0 else ("load", "floor"):
            if what == "floor":
                started = time.perf_counter()
                parsed_rows(csv_path)
                read.append(time.perf_counter() - started)
                seconds, index_seconds = (
                    floor_sqlite(url.removeprefix("sqlite:///"), rows) if backend == "sqlite" else floor_pg(url, rows)
                )
                floor.append(seconds)
                floor_index.append(index_seconds)
            else:
                seconds, index_seconds = load_once(db, resource_id, csv_path, len(rows))
                load.append(seconds)
                load_index.append(index_seconds)
            print(
                f"  {backend} round {r + 1} {what:5}: {seconds:7.2f} s  ({len(rows) / seconds:10,.0f} rows/s)"
                f"  then its search indexes: {index_seconds:5.2f} s",
                flush=True,
            )
    with db.reading() as s:
        res = s.get(Resource, resource_id)
        assert res is not None and res.current_load_id is not None
        current = s.get(Load, res.current_load_id)
        assert current is not None and current.table_name
        table = current.table_name
    indexes = [ix["column_names"] for ix in inspect(db.engine).get_indexes(table)]
    floor_s, load_s = statistics.median(floor), statistics.median(load)
    ratio = (len(rows) / load_s) / (len(rows) / floor_s)
    out: dict[str, Any] = {
        "load": {
            "floor": "executemany of the parsed rows as text, one transaction (sqlite3, WAL, synchronous=NORMAL)"
            if backend == "sqlite"
            else "COPY of the parsed rows as text (psycopg write_row), one transaction",
            "floor_seconds": [round(v, 3) for v in floor],
            "load_seconds": [round(v, 3) for v in load],
            "floor_rows_per_s": round(len(rows) / floor_s),
            "load_rows_per_s": round(len(rows) / load_s),
            "ratio": round(ratio, 3),
            "target": LOAD_TARGET,
            "ok": ratio >= LOAD_TARGET,
            # for reading the figures: what the csv module alone takes to read the file, and the
            # ratio against a floor that reads it too (not the target's floor)
            "csv_read_seconds": [round(v, 3) for v in read],
            "ratio_against_read_and_insert": round(
                (len(rows) / load_s) / (len(rows) / (floor_s + statistics.median(read))), 3
            ),
            "indexes": indexes,
            # The load commits its rows (served at once) before its search indexes are made; the floor
            # makes none. With the same three indexes made on both tables, timed apart:
            "floor_index_seconds": [round(v, 3) for v in floor_index],
            "load_index_seconds": [round(v, 3) for v in load_index],
            "ratio_with_indexes_on_both": round(
                (floor_s + statistics.median(floor_index)) / (load_s + statistics.median(load_index)), 3
            ),
        }
    }
    search_floor(db, table, towns, 10)  # warm the caches
    service = search_service(db, rid, towns, args.searches)
    bare = search_floor(db, table, towns, args.searches)
    try:
        http: list[float] | str = search_http(rid, towns, args.searches)
    except Exception as exc:  # e.g. the application does not start: the other figures stand
        http = f"{type(exc).__name__}: {exc}"[:300]
        print(f"  the HTTP search failed: {http}", flush=True)
    out["search"] = {
        "query": 'filters={"town": <one of 10 codes>}, sort="founded desc", limit 100, with the total',
        "plan": plan(db, table, towns[0]),
        "service": timings(service),
        "floor": timings(bare),
        "http_testclient": timings(http) if isinstance(http, list) else {"error": http},
        "target_p95_ms": SEARCH_P95_MS if backend == "sqlite" else None,
        "ok": timings(service)["p95_ms"] < SEARCH_P95_MS if backend == "sqlite" else None,
    }
    db.dispose()
    return out


def main() -> int:
    global ACTOR
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds of each first")
    ap.add_argument("--searches", type=int, default=200, help="datastore_search calls per way of calling")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("COUNTYOS_ENV", "dev")
    os.environ["COUNTYOS_RUN_JOBS"] = "false"
    ACTOR = _actor()
    results: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="countyos-bench-data-") as tmp:
        csv_path = Path(tmp) / "qiye.csv"
        rows: list[list[str]] = []
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/county.db"
            elif backend == "postgresql":
                url = args.pg_url
                fresh_pg(url)
            else:
                raise SystemExit(f"unknown backend {backend}")
            try:
                prepared = prepare(url)
                if not rows:  # the file needs the county's townships and boundary
                    write_csv(csv_path, args.rows, prepared[3], prepared[4])
                    rows = parsed_rows(csv_path)
                    print(f"{args.rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB of CSV", flush=True)
                results[backend] = run_backend(backend, url, prepared, csv_path, rows, args)
            finally:
                if backend == "postgresql":
                    pg_admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    report(results, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "bench": "data_load",
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cores": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "load_average_after": round(os.getloadavg()[0], 2),
                },
                "rows": args.rows,
                "rounds": args.rounds,
                "warmup_rounds": args.warmup,
                "minutes": round((time.monotonic() - started) / 60, 1),
                "county_boundary": f"{COUNTY} 遂昌县, bootstrapped from the packaged data",
                "http": "FastAPI TestClient, in-process",
                "results": results,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0 if all(_ok(r) for r in results.values()) else 1


def _ok(r: dict[str, Any]) -> bool:
    return bool(r["load"]["ok"]) and r["search"]["ok"] is not False


def report(results: dict[str, Any], args: Any) -> None:
    print()
    print(f"{args.rows:,} rows, median of {args.rounds} rounds, {os.cpu_count()} cores")
    print(f"{'':11} {'floor s':>8} {'load s':>8} {'floor rows/s':>13} {'load rows/s':>12} {'ratio':>6}  target")
    for backend, r in results.items():
        ld = r["load"]
        print(
            f"{backend:11} {statistics.median(ld['floor_seconds']):8.2f} {statistics.median(ld['load_seconds']):8.2f} "
            f"{ld['floor_rows_per_s']:13,} {ld['load_rows_per_s']:12,} {ld['ratio']:6.2f}  "
            f">= {LOAD_TARGET} {'PASS' if ld['ok'] else 'FAIL'}"
        )
    print("then the same search indexes on each table (the floor's alone would make none): seconds, and the ratio")
    for backend, r in results.items():
        ld = r["load"]
        print(
            f"{backend:11} {statistics.median(ld['floor_index_seconds']):8.2f} "
            f"{statistics.median(ld['load_index_seconds']):8.2f}  "
            f"rows and indexes: {ld['ratio_with_indexes_on_both']:.2f}"
        )
    print()
    print("datastore_search (filter town, sort founded desc, 100 records + total): p50 / p95 / max ms")
    for backend, r in results.items():
        sr = r["search"]
        verdict = "" if sr["ok"] is None else f"  p95 < {SEARCH_P95_MS:.0f} ms {'PASS' if sr['ok'] else 'FAIL'}"
        for way in ("service", "floor", "http_testclient"):
            t = sr[way]
            if "error" in t:
                print(f"{backend:11} {way:16} failed: {t['error']}")
                continue
            print(
                f"{backend:11} {way:16} {t['p50_ms']:8.2f} {t['p95_ms']:8.2f} {t['max_ms']:8.2f}"
                + (verdict if way == "service" else "")
            )
        print(f"{'':11} plan: {sr['plan']}")


if __name__ == "__main__":
    raise SystemExit(main())
