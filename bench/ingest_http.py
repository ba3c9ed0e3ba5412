"""HTTP ingest of observations vs a raw sqlite3 ``executemany`` of the same rows into the same schema.

CountyOS side: a real server (uvicorn, one worker, SQLite file) receives ``POST /api/v1/sensing/ingest``
batches from a device-gateway token, in the ``series`` shape (per datastream ``[[epoch ms, value], …]``);
each request is validated, deduplicated, stored, rolled up (1 min/1 h/1 day) and the latest values
moved, in one transaction per request. Baseline: ``sqlite3.executemany`` of the same (datastream,
time, value) rows into ``sensing_observation`` of a database migrated the same way (same indexes),
one transaction per batch, WAL + synchronous=NORMAL like CountyOS. Both run in this process's
machine in the same run, in alternating rounds (so that load from other programs on a shared machine
slows both alike); the ratio is CountyOS / baseline (target ≥ 0.5).

    .venv/bin/python bench/ingest_http.py            # 1,000,000 observations
    .venv/bin/python bench/ingest_http.py --n 200000 # quicker
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(url: str, devices: int, metrics: int) -> tuple[list[int], str]:
    """Migrate, register ``devices`` gateways' children with ``metrics`` datastreams each; return the
    datastream ids and a gateway token allowed to write all of them."""
    os.environ["COUNTYOS_DATABASE_URL"] = url
    from countyos import domains
    from countyos.core import migrate
    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings
    from countyos.org import flows as org_flows
    from countyos.sensing.service import devices as dev
    from countyos.sensing.service.devices import DeviceSpec, MetricSpec

    reset_settings()
    migrate.upgrade(url)
    db = Database(url)
    actor = Actor(id=None, name="bench")
    with db.unit_of_work() as s:
        org_flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
        gw = dev.register(
            s, actor=actor, spec=DeviceSpec("gw-bench", "bench gateway", "gateway", 119.27, 28.59, metrics=())
        )
        ms = tuple(MetricSpec(f"m{j}", f"metric {j}", "unit", "u") for j in range(metrics))
        for i in range(devices):
            dev.register(
                s,
                actor=actor,
                spec=DeviceSpec(
                    f"bench-{i:05d}", f"bench {i}", "bench", 119.2 + i * 1e-4, 28.5, ms, gateway_key="gw-bench"
                ),
            )
        ids = [d for t in range(2, devices + 2) for d in [x.id for x in dev.datastreams_of(s, thing_id=t)]]
        _, token = dev.issue_token(s, actor=actor, thing_id=gw.id, name="bench")
    db.dispose()
    return ids, token


def make_rows(ids: list[int], per_stream: int, end_ms: int) -> list[list[tuple[int, float]]]:
    """Per datastream: per_stream points one second apart, ending a minute before end_ms."""
    start = end_ms - 60_000 - per_stream * 1000
    return [[(start + k * 1000, float((k * 37 + d) % 1000) / 10) for k in range(per_stream)] for d in ids]


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, COUNTYOS_DATABASE_URL=url, COUNTYOS_RUN_JOBS="false", COUNTYOS_ENV="dev")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "countyos.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine can take long to import everything
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code in (200, 503):
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server, base


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def countyos_bodies(ids: list[int], rows: list[list[tuple[int, float]]], per_request: int) -> list[bytes]:
    streams_per_request = max(1, per_request // len(rows[0]))
    bodies = []
    for i in range(0, len(ids), streams_per_request):
        series = [{"datastream": ids[j], "data": rows[j]} for j in range(i, min(i + streams_per_request, len(ids)))]
        bodies.append(orjson.dumps({"series": series}))
    return bodies


def baseline_batches(ids: list[int], rows: list[list[tuple[int, float]]], per_request: int) -> list[list[Any]]:
    """The same rows in the same transactions as the CountyOS requests."""
    streams_per_request = max(1, per_request // len(rows[0]))
    return [
        [(ids[j], t * 1000, v) for j in range(i, min(i + streams_per_request, len(ids))) for t, v in rows[j]]
        for i in range(0, len(ids), streams_per_request)
    ]


@dataclass
class Spent:
    wall: float = 0.0
    cpu: float = 0.0  # CPU seconds on the critical path (for CountyOS: the server's plus the client's)


def baseline_chunk(conn: sqlite3.Connection, batches: list[list[Any]], spent: Spent) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO sensing_observation (datastream_id, phenomenon_us, result) VALUES (?, ?, ?)", batch
        )
        conn.execute("COMMIT")
    spent.wall += time.perf_counter() - started
    spent.cpu += time.process_time() - cpu


def countyos_chunk(client: httpx.Client, token: str, bodies: list[bytes], server_pid: int, spent: Spent) -> int:
    headers = {"X-Device-Token": token, "Content-Type": "application/json"}
    stored = 0
    started, cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
    for body in bodies:
        r = client.post("/api/v1/sensing/ingest", content=body, headers=headers)
        r.raise_for_status()
        stored += r.json()["stored"]
    spent.wall += time.perf_counter() - started
    spent.cpu += time.process_time() - cpu + cpu_seconds(server_pid) - server_cpu
    return stored


def interleaved(
    a: str, b: str, ids: list[int], token: str, rows: list[list[tuple[int, float]]], per_request: int, rounds: int
) -> tuple[Spent, Spent]:
    """Both sides in alternating rounds (each goes first in every other round), so that another
    program's load on a shared machine slows both alike; returns (baseline, CountyOS)."""
    bodies = countyos_bodies(ids, rows, per_request)
    batches = baseline_batches(ids, rows, per_request)
    assert len(bodies) == len(batches)
    conn = sqlite3.connect(b, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    server, base_url = start_server(f"sqlite:///{a}")
    base, ours = Spent(), Spent()
    stored = 0
    try:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            step = -(-len(bodies) // rounds)
            for r, i in enumerate(range(0, len(bodies), step)):
                if r % 2 == 0:
                    baseline_chunk(conn, batches[i : i + step], base)
                stored += countyos_chunk(client, token, bodies[i : i + step], server.pid, ours)
                if r % 2 == 1:
                    baseline_chunk(conn, batches[i : i + step], base)
    finally:
        server.terminate()
        server.wait(10)
    expected = sum(len(r) for r in rows)
    assert stored == expected, f"stored {stored} of {expected}"
    assert conn.execute("SELECT COUNT(*) FROM sensing_observation").fetchone()[0] == expected
    conn.close()
    return base, ours


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="observations (default 1,000,000)")
    ap.add_argument("--streams", type=int, default=1000, help="datastreams (default 1,000)")
    ap.add_argument("--per-request", type=int, default=10_000, help="observations per HTTP request")
    ap.add_argument("--rounds", type=int, default=10, help="alternating rounds of baseline and CountyOS")
    args = ap.parse_args()
    per_stream = max(1, args.n // args.streams)
    devices, metrics = max(1, args.streams // 5), 5
    with tempfile.TemporaryDirectory(prefix="countyos-bench-") as tmp:
        a, b = f"{tmp}/countyos.db", f"{tmp}/baseline.db"
        ids, token = prepare_database(f"sqlite:///{a}", devices, metrics)
        prepare_database(f"sqlite:///{b}", devices, metrics)
        rows = make_rows(ids, per_stream, int(time.time() * 1000))
        n = sum(len(r) for r in rows)
        base, ours = interleaved(a, b, ids, token, rows, args.per_request, args.rounds)
    print(f"observations: {n:,} on {len(ids):,} datastreams, {args.per_request:,} per request/transaction")
    print(f"baseline  sqlite3 executemany : {base.wall:7.2f} s  {n / base.wall:>12,.0f} rows/s  (CPU {base.cpu:.2f} s)")
    print(
        f"CountyOS  HTTP ingest (uvicorn): {ours.wall:7.2f} s  {n / ours.wall:>12,.0f} observations/s"
        f"  (CPU {ours.cpu:.2f} s, server + client)"
    )
    print(f"ratio CountyOS / baseline: {base.wall / ours.wall:.2f} (target >= 0.5)")
    print(f"ratio of CPU time (not slowed by other programs): {base.cpu / ours.cpu:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
