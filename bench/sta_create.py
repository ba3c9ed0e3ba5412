"""SensorThings creates against the HTTP ingest endpoint, same server, same run.

A real server (uvicorn, one worker) on a temporary SQLite file — and on PostgreSQL when
``COUNTYOS_BENCH_PG_URL`` names a database (migrated here if it is empty) — with a few devices of
three datastreams each, a machine account (HTTP Basic, as SensorThings clients send) and a gateway
token. At 1, 4 and 16 requests in flight, in alternating rounds (each kind goes first in every
other round, so that load from other programs slows them alike):

- ``CreateObservations`` of 100 rows (one dataArray group of one datastream, phenomenonTime + result);
- ``POST /api/v1/sensing/ingest`` of the same 100 rows (``series``: [[epoch ms, value], …]);
- a single create, ``POST /sta/v1.1/Datastreams(id)/Observations``.

Every request writes new observations (its own times), so nothing is a repeat. Prints req/s,
p50/p99 in ms, the server's CPU time per request, and the ratio CreateObservations / ingest in
req/s and in server CPU (target ≥ 0.5); writes ``bench/results/sta_create.json``.

    .venv/bin/python bench/sta_create.py                 # SQLite (about a minute and a half)
    COUNTYOS_BENCH_PG_URL=postgresql+psycopg://countyos:countyos@127.0.0.1:5432/db .venv/bin/python bench/sta_create.py
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_http import cpu_seconds, start_server

RESULTS = Path(__file__).resolve().parent / "results" / "sta_create.json"
ROWS = 100
FLIGHTS = (1, 4, 16)
PASSWORD = "Bench@pass2026"


def prepare(url: str, devices: int) -> dict[str, Any]:
    """Migrate (if needed), bootstrap, and add ``devices`` devices of three datastreams behind one
    gateway, a machine account allowed to write, and the gateway's token."""
    os.environ["COUNTYOS_DATABASE_URL"] = url
    from countyos import domains
    from countyos.core import migrate
    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings
    from countyos.org import flows as org_flows
    from countyos.org.service import users
    from countyos.sensing.service import devices as dev
    from countyos.sensing.service.devices import DeviceSpec, MetricSpec

    reset_settings()
    migrate.upgrade(url)
    db = Database(url)
    actor = Actor(id=None, name="bench")
    run = uuid.uuid4().hex[:6]  # a PostgreSQL database may hold an earlier run's devices
    with db.unit_of_work() as s:
        org_flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
        gw = dev.register(
            s, actor=actor, spec=DeviceSpec(f"gw-{run}", "bench gateway", "gateway", 119.27, 28.59, metrics=())
        )
        ms = tuple(MetricSpec(f"m{j}", f"metric {j}", "unit", "u") for j in range(3))
        ids: list[int] = []
        for i in range(devices):
            thing = dev.register(
                s,
                actor=actor,
                spec=DeviceSpec(
                    f"b-{run}-{i}", f"bench {i}", "bench", 119.2 + i * 1e-4, 28.5, ms, gateway_key=gw.device_key
                ),
            )
            ids += [d.id for d in dev.datastreams_of(s, thing_id=thing.id)]
        _, token = dev.issue_token(s, actor=actor, thing_id=gw.id, name="bench")
        user = users.create(
            s,
            actor=actor,
            username=f"sta-bench-{run}",
            display_name="bench",
            password=PASSWORD,
            is_machine=True,
            must_change_password=False,
        )
        users.set_roles(s, actor=actor, user_id=user.id, role_codes=["data_admin"])
        username = user.username
    db.dispose()
    basic = "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return {"ids": ids, "token": token, "basic": basic}


class Clock:
    """Unique times for every request (µs since 1970): blocks of ``ROWS`` seconds going back from a
    day ago, so that no request repeats another's observation."""

    def __init__(self) -> None:
        self.next = int((time.time() - 86_400) * 1000) // 1000 * 1000
        self.lock = threading.Lock()

    def block(self) -> int:
        with self.lock:
            self.next -= ROWS * 1000
            return self.next


def iso_ms(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + "Z"


def run(
    client: httpx.Client, make: Callable[[int], tuple[str, bytes, dict[str, str]]], n: int, flight: int
) -> tuple[float, list[float]]:
    """``n`` requests, ``flight`` at a time; → (wall seconds, latencies in ms)."""
    lat: list[float] = []

    def one(k: int) -> None:
        path, body, headers = make(k)
        t = time.perf_counter()
        r = client.post(path, content=body, headers=headers)
        lat.append((time.perf_counter() - t) * 1000)
        if r.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(flight) as pool:
        list(pool.map(one, range(n)))
    return time.perf_counter() - started, lat


def kinds(prep: dict[str, Any], clock: Clock) -> dict[str, Callable[[int], tuple[str, bytes, dict[str, str]]]]:
    ids = prep["ids"]
    sta = {"Authorization": prep["basic"], "Content-Type": "application/json"}
    dev = {"X-Device-Token": prep["token"], "Content-Type": "application/json"}

    def rows(k: int) -> tuple[int, list[tuple[int, float]]]:
        start = clock.block()
        return ids[k % len(ids)], [(start + i * 1000, float((k + i) % 97)) for i in range(ROWS)]

    def create_observations(k: int) -> tuple[str, bytes, dict[str, str]]:
        ds, data = rows(k)
        body = [
            {
                "Datastream": {"@iot.id": ds},
                "components": ["phenomenonTime", "result"],
                "dataArray": [[iso_ms(t), v] for t, v in data],
            }
        ]
        return "/sta/v1.1/CreateObservations", orjson.dumps(body), sta

    def ingest(k: int) -> tuple[str, bytes, dict[str, str]]:
        ds, data = rows(k)
        return "/api/v1/sensing/ingest", orjson.dumps({"series": [{"datastream": ds, "data": data}]}), dev

    def single(k: int) -> tuple[str, bytes, dict[str, str]]:
        ds, data = rows(k)
        body = {"phenomenonTime": iso_ms(data[0][0]), "result": data[0][1]}
        return f"/sta/v1.1/Datastreams({ds})/Observations", orjson.dumps(body), sta

    return {"CreateObservations": create_observations, "ingest": ingest, "single": single}


def measure(url: str, label: str, args: argparse.Namespace) -> dict[str, Any]:
    prep = prepare(url, args.devices)
    server, base = start_server(url)
    clock = Clock()
    make = kinds(prep, clock)
    out: dict[str, Any] = {}
    try:
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        with httpx.Client(base_url=base, timeout=120, limits=limits) as client:
            for fn in make.values():  # warm-up: caches, connections, first Argon2 check
                run(client, fn, 4, 2)
            for flight in FLIGHTS:
                spent: dict[str, list[float]] = {k: [] for k in make}
                cpu: dict[str, float] = dict.fromkeys(make, 0.0)
                lat: dict[str, list[float]] = {k: [] for k in make}
                n_of = {k: (args.batches if k != "single" else args.singles) * flight for k in make}
                for r in range(args.rounds):
                    order = list(make) if r % 2 == 0 else list(reversed(make))
                    for name in order:
                        before = cpu_seconds(server.pid)
                        seconds, ms = run(client, make[name], n_of[name], flight)
                        cpu[name] += cpu_seconds(server.pid) - before
                        spent[name].append(seconds)
                        lat[name] += ms
                row = {}
                for name in make:
                    total = n_of[name] * args.rounds
                    ordered = sorted(lat[name])
                    row[name] = {
                        "req_per_s": round(total / sum(spent[name]), 1),
                        "p50_ms": round(statistics.median(ordered), 1),
                        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
                        "server_cpu_ms": round(cpu[name] / total * 1000, 2),
                    }
                row["create_observations_vs_ingest"] = round(
                    row["CreateObservations"]["req_per_s"] / row["ingest"]["req_per_s"], 2
                )
                row["create_observations_vs_ingest_cpu"] = round(
                    row["ingest"]["server_cpu_ms"] / row["CreateObservations"]["server_cpu_ms"], 2
                )
                out[str(flight)] = row
                print(f"{label} {flight:>2} in flight: " + _line(row), flush=True)
    finally:
        server.terminate()
        server.wait(10)
    return out


def _line(row: dict[str, Any]) -> str:
    parts = [
        f"{name} {row[name]['req_per_s']} req/s (p50 {row[name]['p50_ms']}, p99 {row[name]['p99_ms']} ms; "
        f"server CPU {row[name]['server_cpu_ms']} ms)"
        for name in ("CreateObservations", "ingest", "single")
    ]
    return (
        "\n    ".join(["", *parts])
        + f"\n    CreateObservations / ingest: {row['create_observations_vs_ingest']} in req/s, "
        f"{row['create_observations_vs_ingest_cpu']} in server CPU"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--devices", type=int, default=4)
    p.add_argument("--batches", type=int, default=8, help="100-row requests per round and request in flight")
    p.add_argument("--singles", type=int, default=25, help="single creates per round and request in flight")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    results: dict[str, Any] = {"rows_per_request": ROWS, "in_flight": list(FLIGHTS), "rounds": args.rounds}
    with tempfile.TemporaryDirectory(prefix="sta-create-") as tmp:
        results["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", "SQLite    ", args)
    pg = os.environ.get("COUNTYOS_BENCH_PG_URL")
    if pg:
        results["postgresql"] = measure(pg, "PostgreSQL", args)
    results["load_average"] = round(os.getloadavg()[0], 1)
    results["cores"] = os.cpu_count()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"→ {RESULTS}")


if __name__ == "__main__":
    main()
