"""SensorThings side by side: CountyOS (SQLite and PostgreSQL), a peer from PyPI and the plain SQL floor.

Servers, each one uvicorn process on this machine:

- CountyOS on a SQLite file and CountyOS on PostgreSQL (database ``countyos_bench_sta``);
- the peer ``django-ogc-sensorthings`` 1.2.0 (Django + django-ninja, its Django ORM backend) on the
  same PostgreSQL (database ``countyos_bench_sta_peer``), installed into ``bench/.peer-venv`` (made
  on first use) and run from a minimal Django project this script writes into a temporary folder.

All three hold the same entities: 100 Things with a Location each and 3 Datastreams each (3
ObservedProperties), and ``--observations`` observations (1,000,000 by default) one minute apart in
the first Datastream. They are loaded straight into each server's tables (CountyOS through its
vectorised store, which also fills the latest values and rollups; the peer by ``COPY``), not through
HTTP.

Request kinds (the issue's table), each against every server:

- ``navigation``: ``GET /Datastreams(id)/Observations?$top=100&$orderby=phenomenonTime desc``
- ``create_batch``: ``POST /CreateObservations`` with 100 rows (dataArray) for one Datastream
- ``create_one``: ``POST /Observations`` (one observation)
- ``expand``: ``GET /Things?$expand=Datastreams($expand=ObservedProperty),Locations``
- ``filter``: ``GET /Observations?$filter=result gt X and phenomenonTime ge T``
- ``ingest_batch`` (CountyOS only): the same 100 rows through the HTTP ingest endpoint, the
  reference for ``create_batch``.
- ``http_floor`` (CountyOS only): ``GET /healthz``, what a routed request costs at the least in the
  same server (uvicorn, the middleware, the router, a read in a thread); the SensorThings read lane
  answers before the router and can be faster.

Statuses 598 (no answer within ``--timeout``) and 599 (connection lost) are the load process's own.

The floor: the same rows fetched (or written) by plain SQL through psycopg on CountyOS's PostgreSQL
database, by the same number of clients in flight (one connection each), no HTTP and no JSON; the
statements are written by hand as the least a server has to run for the answer (see ``FLOOR``
below; ``floor_sqlite`` is the same through sqlite3 on CountyOS's SQLite file, printed for scale).

Load comes from a separate process (asyncio, HTTP/1.1 keep-alive, one connection per request in
flight), in alternating rounds: every round runs every kind against every server at 1, 4 and 16
in flight, so that load from other programs on a shared machine falls on all alike. Printed per
kind and concurrency: requests per second (2xx only), p50/p99 latency, the server's CPU per
request, the answers that were not 2xx (a peer failure is shown as its result), and the ratios
CountyOS/peer and CountyOS/floor. Everything goes to ``bench/results/sta_compare.json``.

    .venv/bin/python bench/sta_compare.py --quick          # 50,000 observations, short rounds
    .venv/bin/python bench/sta_compare.py                  # 1,000,000 observations, 3 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "sta_compare.json"
PEER_VENV = BENCH / ".peer-venv"
PEER_PACKAGES = ["django-ogc-sensorthings==1.2.0", "uvicorn==0.55.0", "psycopg[binary]==3.3.9"]
PG = "postgresql://countyos:countyos@127.0.0.1:5432"
COS_PG_DB = "countyos_bench_sta"
PEER_DB = "countyos_bench_sta_peer"
MINUTE_US = 60_000_000
KINDS = ["navigation", "create_batch", "create_one", "expand", "filter", "ingest_batch", "http_floor"]
COUNTYOS_ONLY = {"ingest_batch", "http_floor"}
READS = {"navigation", "expand", "filter"}
TARGETS = ["peer", "countyos_pg", "countyos_sqlite", "floor", "floor_sqlite"]


# ----------------------------------------------------------------------------------------------
# data


def series(n: int, end_us: int) -> tuple[list[int], list[float]]:
    """N times one minute apart ending at END_US, and values between 10 and 30."""
    import math

    times = [end_us - (n - 1 - i) * MINUTE_US for i in range(n)]
    values = [round(20 + 10 * math.sin(i / 997), 2) for i in range(n)]
    return times, values


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ----------------------------------------------------------------------------------------------
# databases and servers


def pg_exec(sql: str, dbname: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{PG}/{dbname}", autocommit=True) as c:
        c.execute(sql)  # type: ignore[arg-type]


def fresh_pg_database(name: str, *, postgis: bool = False) -> None:
    """A new empty database; with PostGIS copied from ``countyos_template`` (the test suite's empty
    PostGIS database, see scripts/test.sh) or, without it, created by the superuser when run as root."""
    import psycopg

    pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    if postgis:
        for _ in range(10):  # the template is briefly in use while tests copy it
            try:
                pg_exec(f"CREATE DATABASE {name} OWNER countyos TEMPLATE countyos_template")
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(1)
            except psycopg.errors.InvalidCatalogName:
                break
    pg_exec(f"CREATE DATABASE {name} OWNER countyos")
    if postgis:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-d", name, "-c", "CREATE EXTENSION IF NOT EXISTS postgis"],
            check=True,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(proc: subprocess.Popen[bytes], url: str, what: str) -> None:
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer {url}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, name: str, proc: subprocess.Popen[bytes], port: int, prefix: str, info: dict[str, Any]):
        self.name, self.proc, self.port, self.prefix, self.info = name, proc, port, prefix, info

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def prepare_countyos(url: str, times: list[int], values: list[float]) -> dict[str, Any]:
    """Migrate, 100 Things x 3 Datastreams, a machine account's token, a device token, the observations."""
    os.environ["COUNTYOS_DATABASE_URL"] = url
    import numpy as np

    from countyos import domains
    from countyos.core import migrate
    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings
    from countyos.org import flows as org_flows
    from countyos.org.service import tokens
    from countyos.sensing.service import devices as dev
    from countyos.sensing.service import store
    from countyos.sensing.service.devices import DeviceSpec, MetricSpec

    reset_settings()
    migrate.upgrade(url)
    db = Database(url)
    actor = Actor(id=None, name="bench")
    metrics = tuple(MetricSpec(f"m{j}", f"metric {j}", "unit", "u") for j in range(3))
    with db.unit_of_work() as s:
        org_flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
        things = [
            dev.register(
                s,
                actor=actor,
                spec=DeviceSpec(f"bench-{i:03d}", f"bench thing {i}", "bench", 119.2 + i * 1e-3, 28.5, metrics),
            ).id
            for i in range(100)
        ]
        ds = [d.id for d in dev.datastreams_of(s, thing_id=things[0])]
        floor_ds = [d.id for d in dev.datastreams_of(s, thing_id=things[1])]
        _, device_token = dev.issue_token(s, actor=actor, thing_id=things[0], name="bench")
        user = org_flows.create_person(
            s,
            actor=actor,
            username="bench-writer",
            display_name="bench writer",
            password="Qx7-Sensor-Load-2026!",
            role_codes=["data_admin"],
            must_change_password=False,
            is_machine=True,
        )
        _, token = tokens.create(
            s, actor=actor, name="bench", user_id=user.id, scopes=["sensing.read", "sensing.write"]
        )
    t = np.asarray(times, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    d = np.full(len(t), ds[0], dtype=np.int64)
    for lo in range(0, len(t), 50_000):
        with db.unit_of_work() as s, store.paused_gc():
            store.store(s, d[lo : lo + 50_000], t[lo : lo + 50_000], v[lo : lo + 50_000])
    db.dispose()
    if url.startswith("postgresql"):
        pg_exec("ANALYZE", COS_PG_DB)
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as c:
            c.execute("ANALYZE")
    return {
        "big": ds[0],
        "write_one": ds[1],
        "write_batch": ds[2],
        "floor_one": floor_ds[0],
        "floor_batch": floor_ds[1],
        "token": token,
        "device_token": device_token,
    }


UVICORN = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]


def start_countyos(name: str, url: str, info: dict[str, Any]) -> Server:
    port = free_port()
    env = dict(os.environ, COUNTYOS_DATABASE_URL=url, COUNTYOS_RUN_JOBS="false", COUNTYOS_ENV="dev")
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.Popen(
        [*UVICORN, "countyos.app:create_app", "--factory", "--port", str(port)],
        env=env,
        cwd=ROOT,
    )
    wait_up(proc, f"http://127.0.0.1:{port}/healthz", name)
    return Server(name, proc, port, "/sta/v1.1", info)


PEER_SETTINGS = """\
from uuid import UUID

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "benchpeer_urls"
MIDDLEWARE = []
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "sensorthings.versions.v1_1",
    "sensorthings.versions.v1_1.backends.django",
    "sensorthings.versions.v1_1.extensions.dataarray",
]
# Django's default: a connection per request (under ASGI each request's thread would otherwise keep
# one open connection for good, and a few thousand requests exhaust the server's max_connections).
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "{db}",
        "USER": "countyos",
        "PASSWORD": "countyos",
        "HOST": "127.0.0.1",
        "PORT": 5432,
        "CONN_MAX_AGE": 0,
    }}
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SENSORTHINGS_V1_1_SERVICE_URL = "http://127.0.0.1:{port}/sensorthings"
SENSORTHINGS_V1_1_BACKEND_ADAPTER = "sensorthings.versions.v1_1.backends.django.adapter.DjangoBackendAdapter"
SENSORTHINGS_V1_1_ID_TYPE = UUID
SENSORTHINGS_V1_1_ID_DELIMITER = "'"
SENSORTHINGS_V1_1_DOCS_ENABLED = False
"""

PEER_URLS = """\
from django.urls import include, path

urlpatterns = [path("sensorthings/", include("sensorthings.versions.v1_1.urls"))]
"""

PEER_ASGI = """\
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchpeer_settings")
from django.core.asgi import get_asgi_application

application = get_asgi_application()
"""


def peer_python() -> Path:
    py = PEER_VENV / "bin" / "python"
    if not py.exists():
        print(f"installing the peer into {PEER_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return py


def peer_uuid(kind: int, i: int) -> uuid.UUID:
    """Ids that sort in creation order (like the peer's own uuid7 ids)."""
    return uuid.UUID(int=(0x0190_0000_0000_7000 + kind) << 64 | (0x8000_0000_0000_0000 + i))


def prepare_peer(workdir: Path, port: int, times: list[int], values: list[float]) -> dict[str, Any]:
    import psycopg

    py = peer_python()
    (workdir / "benchpeer_settings.py").write_text(PEER_SETTINGS.format(db=PEER_DB, port=port))
    (workdir / "benchpeer_urls.py").write_text(PEER_URLS)
    (workdir / "benchpeer_asgi.py").write_text(PEER_ASGI)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="benchpeer_settings", PYTHONPATH=str(workdir))
    subprocess.run([str(py), "-m", "django", "migrate", "-v", "0"], check=True, cwd=workdir, env=env)
    p = "sensorthings_v1_1_django_backend_"
    things = [peer_uuid(1, i) for i in range(100)]
    locs = [peer_uuid(2, i) for i in range(100)]
    sensors = [peer_uuid(3, i) for i in range(100)]
    props = [peer_uuid(4, j) for j in range(3)]
    foi = [peer_uuid(5, i) for i in range(100)]
    ds = [peer_uuid(6, i * 3 + j) for i in range(100) for j in range(3)]
    unit = json.dumps({"name": "unit", "symbol": "u", "definition": ""})
    point = json.dumps({"type": "Point", "coordinates": [119.2, 28.5]})
    measure = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
    with psycopg.connect(f"{PG}/{PEER_DB}") as c, c.cursor() as cur:
        with cur.copy(f"COPY {p}thing (id, name, description, properties) FROM STDIN") as cp:
            for i, t in enumerate(things):
                cp.write_row((t, f"bench thing {i}", "", "{}"))
        with cur.copy(
            f"COPY {p}location (id, name, description, encoding_type, location, properties) FROM STDIN"
        ) as cp:
            for i, loc in enumerate(locs):
                cp.write_row((loc, f"bench thing {i}", "", "application/geo+json", point, None))
        with cur.copy(f"COPY {p}location_things (location_id, thing_id) FROM STDIN") as cp:
            for loc, t in zip(locs, things, strict=True):
                cp.write_row((loc, t))
        with cur.copy(f"COPY {p}sensor (id, name, description, encoding_type, metadata, properties) FROM STDIN") as cp:
            for i, sen in enumerate(sensors):
                cp.write_row((sen, f"sensor {i}", "", "application/pdf", "", None))
        with cur.copy(f"COPY {p}observedproperty (id, name, definition, description, properties) FROM STDIN") as cp:
            for j, op in enumerate(props):
                cp.write_row((op, f"metric {j}", "", "", None))
        with cur.copy(
            f"COPY {p}featureofinterest (id, name, description, encoding_type, feature, properties) FROM STDIN"
        ) as cp:
            for i, f in enumerate(foi):
                cp.write_row((f, f"bench thing {i}", "", "application/geo+json", point, None))
        cols = "id, name, description, unit_of_measurement, observation_type, thing_id, sensor_id, observed_property_id"
        with cur.copy(f"COPY {p}datastream ({cols}) FROM STDIN") as cp:
            for k, d in enumerate(ds):
                i, j = divmod(k, 3)
                cp.write_row((d, f"bench thing {i} m{j}", "", unit, measure, things[i], sensors[i], props[j]))
        cols = "id, phenomenon_time_begin, result, result_time, datastream_id, feature_of_interest_id"
        with cur.copy(f"COPY {p}observation ({cols}) FROM STDIN") as cp:
            for k, (t_us, v) in enumerate(zip(times, values, strict=True)):
                at = datetime.fromtimestamp(t_us / 1e6, UTC)
                cp.write_row((peer_uuid(7, k), at, v, at, ds[0], foi[0]))
        c.commit()
    pg_exec("ANALYZE", PEER_DB)
    return {"big": ds[0], "write_one": ds[1], "write_batch": ds[2], "foi": foi[0], "py": str(py), "env": env}


def start_peer(workdir: Path, port: int, info: dict[str, Any]) -> Server:
    log = open(workdir / "peer.log", "ab")  # noqa: SIM115 - the server's own log, kept while it runs
    proc = subprocess.Popen(
        [info["py"], *UVICORN[1:], "benchpeer_asgi:application", "--port", str(port)],
        env=info["env"],
        cwd=workdir,
        stdout=log,
        stderr=log,
    )
    wait_up(proc, f"http://127.0.0.1:{port}/sensorthings/v1.1", "the peer")
    return Server("peer", proc, port, "/sensorthings/v1.1", info)


# ----------------------------------------------------------------------------------------------
# what each request is, per server


def ref(server: str, key: Any) -> str:
    return f"'{key}'" if server == "peer" else str(key)


def link(server: str, key: Any) -> Any:
    return str(key) if server == "peer" else key


def request_spec(kind: str, srv: Server, x: float, t_us: int) -> dict[str, Any]:
    """What the load process sends: method, path, headers, and for writes how bodies are made."""
    info, name = srv.info, srv.name
    headers = {}
    if name != "peer" and kind != "ingest_batch":
        headers["Authorization"] = f"Bearer {info['token']}"
    if kind == "http_floor":
        return {"method": "GET", "path": "/healthz", "headers": {}}
    if kind == "navigation":
        path = f"{srv.prefix}/Datastreams({ref(name, info['big'])})/Observations"
        path += "?" + quote("$top=100&$orderby=phenomenonTime desc", safe="$&=")
        return {"method": "GET", "path": path, "headers": headers}
    if kind == "expand":
        q = "$expand=Datastreams($expand=ObservedProperty),Locations"
        return {"method": "GET", "path": f"{srv.prefix}/Things?" + quote(q, safe="$&=(),"), "headers": headers}
    if kind == "filter":
        q = f"$filter=result gt {x} and phenomenonTime ge {iso(t_us)}"
        return {"method": "GET", "path": f"{srv.prefix}/Observations?" + quote(q, safe="$&=:"), "headers": headers}
    if kind == "create_one":
        ds = info["write_one"]
        body: dict[str, Any] = {"Datastream": {"@iot.id": link(name, ds)}}
        if name == "peer":
            body["FeatureOfInterest"] = {"@iot.id": str(info["foi"])}
        return {"method": "POST", "path": f"{srv.prefix}/Observations", "headers": headers, "body": "one", "base": body}
    if kind == "create_batch":
        ds = info["write_batch"]
        group: dict[str, Any] = {"Datastream": {"@iot.id": link(name, ds)}, "components": ["phenomenonTime", "result"]}
        if name == "peer":
            group["components"].append("FeatureOfInterest/id")
        return {
            "method": "POST",
            "path": f"{srv.prefix}/CreateObservations",
            "headers": headers,
            "body": "batch",
            "base": group,
            "foi": str(info["foi"]) if name == "peer" else None,
        }
    if kind == "ingest_batch":
        headers["X-Device-Token"] = info["device_token"]
        return {
            "method": "POST",
            "path": "/api/v1/sensing/ingest",
            "headers": headers,
            "body": "ingest",
            "base": {"datastream": info["write_batch"]},
        }
    raise ValueError(kind)


# ----------------------------------------------------------------------------------------------
# the load process


def make_body(spec: dict[str, Any], seq: int, t0_us: int) -> bytes:
    import orjson

    if spec["body"] == "one":
        body = dict(spec["base"])
        body["phenomenonTime"] = iso(t0_us + seq * 1_000_000)
        body["result"] = round(seq % 1000 / 10, 1)
        return orjson.dumps(body)
    start = t0_us + seq * 100_000_000  # 100 rows one second apart per request
    if spec["body"] == "batch":
        group = dict(spec["base"])
        rows: list[list[Any]] = [[iso(start + k * 1_000_000), round((seq + k) % 1000 / 10, 1)] for k in range(100)]
        if spec.get("foi"):
            for r in rows:
                r.append(spec["foi"])
        group["dataArray"] = rows
        return orjson.dumps([group])
    data = [[(start + k * 1_000_000) // 1000, round((seq + k) % 1000 / 10, 1)] for k in range(100)]
    return orjson.dumps({"series": [{"datastream": spec["base"]["datastream"], "data": data}]})


async def _http_load(job: dict[str, Any]) -> dict[str, Any]:
    spec, port, conc = job["spec"], job["port"], job["concurrency"]
    head = f"{spec['method']} {spec['path']} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    for k, v in spec["headers"].items():
        head += f"{k}: {v}\r\n"
    fixed = (head + "\r\n").encode() if spec["method"] == "GET" else None
    seqs = itertools.count()
    lat: list[float] = []
    statuses: Counter[int] = Counter()
    samples: dict[int, bytes] = {}
    stop_at = 0.0
    measuring = False

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[int, bytes, bool]:
        seq = next(seqs)
        if fixed is not None:
            writer.write(fixed)
        else:
            body = make_body(spec, seq, job["t0_us"])
            writer.write(
                (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
            )
        raw = await reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        lines = raw.decode("latin-1").lower().split("\r\n")
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            if line.startswith("content-length:"):
                length = int(line[15:])
            elif line.startswith("transfer-encoding:") and "chunked" in line:
                chunked = True
            elif line.startswith("connection:") and "close" in line:
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                parts.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(p[:-2] for p in parts)
        else:
            data = await reader.readexactly(length)
        return status, data, close

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            try:
                status, data, close = await asyncio.wait_for(one(reader, writer), job["timeout"])
            except TimeoutError:  # counted as a failure; the connection is dropped and made anew
                status, data, close = 598, f"no answer within {job['timeout']} s".encode(), True
            except (asyncio.IncompleteReadError, ConnectionError):
                status, data, close = 599, b"connection lost", True
            if measuring:
                lat.append(time.perf_counter() - t)
                statuses[status] += 1
                if status not in samples:
                    samples[status] = data[:600]
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    stop_at = time.perf_counter() + job["warmup"]
    await asyncio.gather(*(worker() for _ in range(conc)))
    measuring = True
    cpu0 = cpu_seconds(job["pid"])
    started = time.perf_counter()
    stop_at = started + job["seconds"]
    await asyncio.gather(*(worker() for _ in range(conc)))
    wall = time.perf_counter() - started
    cpu = cpu_seconds(job["pid"]) - cpu0
    texts = {str(k): v.decode("utf-8", "replace") for k, v in samples.items()}
    return summary(lat, statuses, wall, cpu, next(seqs), texts)


def summary(
    lat: list[float], statuses: Counter[int], wall: float, cpu: float | None, used: int, samples: dict[int, str]
) -> dict[str, Any]:
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    lat_ms = sorted(x * 1000 for x in lat)

    def pct(p: float) -> float | None:
        return round(lat_ms[min(len(lat_ms) - 1, int(p * len(lat_ms)))], 2) if lat_ms else None

    return {
        "requests": len(lat),
        "ok": ok,
        "seconds": round(wall, 3),
        "rps": round(ok / wall, 1),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_cpu_ms_per_request": round(cpu * 1000 / len(lat), 3) if cpu is not None and lat else None,
        "sequence_used": used,
        "failure_sample": {k: v for k, v in samples.items() if not k.startswith("2")} if samples else {},
    }


INSERT = "INSERT INTO sensing_observation (id, datastream_id, phenomenon_us, result) VALUES (:id, :ds, :t, :v)"
# The floor: the least SQL the answer needs, run by CONC clients (threads, one connection each).
FLOOR = {
    "navigation": [
        "SELECT o.id, o.phenomenon_us, o.result, x.observation_id, x.phenomenon_end_us, x.result_time_us, "
        "x.result_json, x.result_quality, x.valid_start_us, x.valid_end_us, x.parameters "
        "FROM sensing_observation o LEFT JOIN sensing_observation_extra x ON x.observation_id = o.id "
        "WHERE o.datastream_id = :ds ORDER BY o.phenomenon_us DESC, o.id LIMIT 101"
    ],
    "filter": [
        "SELECT o.id, o.phenomenon_us, o.result, x.observation_id, x.phenomenon_end_us, x.result_time_us, "
        "x.result_json, x.result_quality, x.valid_start_us, x.valid_end_us, x.parameters "
        "FROM sensing_observation o LEFT JOIN sensing_observation_extra x ON x.observation_id = o.id "
        "WHERE o.result > :x AND o.phenomenon_us >= :t ORDER BY o.id LIMIT 101"
    ],
    "expand": [
        "SELECT id, name, description, properties FROM sensing_thing ORDER BY id LIMIT 101",
        "SELECT id, thing_id, name, description, observation_type, unit, observed_area, properties, "
        "observed_property_id FROM sensing_datastream WHERE thing_id IN (:ids) ORDER BY thing_id, id",
        "SELECT id, name, definition, description, properties FROM sensing_observed_property WHERE id IN (:ops)",
        "SELECT tl.thing_id, l.id, l.name, l.description, l.encoding_type, l.location, l.properties "
        "FROM sensing_thing_location tl JOIN sensing_location l ON l.id = tl.location_id "
        "WHERE tl.thing_id IN (:ids) ORDER BY tl.thing_id, l.id",
    ],
    "create_one": [
        "INSERT INTO sensing_observation (id, datastream_id, phenomenon_us, result) VALUES (:id, :ds, :t, :v)"
    ],
    "create_batch": [
        "INSERT INTO sensing_observation (id, datastream_id, phenomenon_us, result) VALUES (:id, :ds, :t, :v)"
    ],
}


FLOOR_BATCH_PG = (
    "INSERT INTO sensing_observation (id, datastream_id, phenomenon_us, result) "
    "SELECT nextval('sensing_observation_id_seq'), %s, t, v FROM unnest(%s::bigint[], %s::float8[]) AS u(t, v)"
)


def _floor_load(job: dict[str, Any]) -> dict[str, Any]:
    kind, conc, sqlite_path = job["kind"], job["concurrency"], job.get("sqlite")
    seqs = itertools.count()
    lock = threading.Lock()
    lat: list[float] = []
    statuses: Counter[int] = Counter()
    state = {"stop": 0.0, "measuring": False}
    p = job["params"]
    t0 = job["t0_us"]

    def connect() -> Any:
        if sqlite_path:
            c = sqlite3.connect(sqlite_path, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            return c
        import psycopg

        return psycopg.connect(job["dsn"], prepare_threshold=0)

    def sql(text: str, n_ids: int = 0, n_ops: int = 0) -> str:
        mark = "?" if sqlite_path else "%s"
        text = text.replace(":ids", ", ".join([mark] * n_ids)).replace(":ops", ", ".join([mark] * n_ops))
        for name in (":ds", ":x", ":t", ":v", ":id"):
            text = text.replace(name, mark)
        return text

    def new_ids(cur: Any, n: int) -> list[int]:
        if sqlite_path:
            return [None] * n  # type: ignore[list-item]
        cur.execute("SELECT nextval('sensing_observation_id_seq') FROM generate_series(1, %s)", (n,))
        return [r[0] for r in cur.fetchall()]

    def request(c: Any) -> None:
        seq = next(seqs)
        cur = c.cursor()
        if kind == "navigation":
            cur.execute(sql(FLOOR[kind][0]), (p["ds"],))
            assert len(cur.fetchall()) == 101
        elif kind == "filter":
            cur.execute(sql(FLOOR[kind][0]), (p["x"], p["t"]))
            cur.fetchall()
        elif kind == "expand":
            things = cur.execute(sql(FLOOR[kind][0])).fetchall()
            ids = [r[0] for r in things[:100]]
            dss = cur.execute(sql(FLOOR[kind][1], n_ids=len(ids)), ids).fetchall()
            ops = sorted({r[8] for r in dss})
            cur.execute(sql(FLOOR[kind][2], n_ops=len(ops)), ops).fetchall()
            cur.execute(sql(FLOOR[kind][3], n_ids=len(ids)), ids).fetchall()
        elif kind == "create_one":
            if sqlite_path:
                cur.execute("BEGIN IMMEDIATE")
            (oid,) = new_ids(cur, 1)
            cur.execute(sql(FLOOR[kind][0]), (oid, p["ds_one"], t0 + seq * 1_000_000, 1.5))
            c.commit() if not sqlite_path else cur.execute("COMMIT")
        elif kind == "create_batch":
            if sqlite_path:
                cur.execute("BEGIN IMMEDIATE")
            start = t0 + seq * 100_000_000
            times = [start + k * 1_000_000 for k in range(100)]
            if sqlite_path:
                cur.executemany(sql(FLOOR[kind][0]), [(None, p["ds_batch"], t, 1.5) for t in times])
            else:  # one statement for the 100 rows
                cur.execute(FLOOR_BATCH_PG, (p["ds_batch"], times, [1.5] * 100))
            c.commit() if not sqlite_path else cur.execute("COMMIT")
        if not sqlite_path and kind in READS:
            c.commit()  # one read transaction per request, as a server has
        cur.close()

    def worker() -> None:
        c = connect()
        while time.perf_counter() < state["stop"]:
            t = time.perf_counter()
            try:
                request(c)
                status = 200
            except Exception:  # counted, like an HTTP 500
                status = 500
                c.rollback() if not sqlite_path else None
            if state["measuring"]:
                with lock:
                    lat.append(time.perf_counter() - t)
                    statuses[status] += 1
        c.close()

    def run(seconds: float) -> float:
        state["stop"] = time.perf_counter() + seconds
        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(conc)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - started

    run(job["warmup"])
    state["measuring"] = True
    wall = run(job["seconds"])
    return summary(lat, statuses, wall, None, next(seqs), {})


def load_main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    if job["type"] == "http":
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        out = asyncio.run(_http_load(job))
    else:
        out = _floor_load(job)
    sys.stdout.write(json.dumps(out))
    return 0


def run_load(job: dict[str, Any], tmp: Path) -> dict[str, Any]:
    path = tmp / "job.json"
    path.write_text(json.dumps(job))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, __file__, "--load-job", str(path)], capture_output=True, env=env, timeout=600, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.decode()[-800:], "rps": 0.0, "ok": 0, "statuses": {}}
    return dict(json.loads(done.stdout))


# ----------------------------------------------------------------------------------------------
# the run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--observations", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="50,000 observations, one short round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per kind, server and concurrency")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take (then: status 598)")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--keep", action="store_true", help="leave the servers' databases in place")
    ap.add_argument("--load-job", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load_job:
        return load_main(args.load_job)
    if args.quick:
        args.observations = min(args.observations, 50_000)
        args.rounds, args.seconds, args.warmup = 1, 1.5, 0.3
    concs = [int(c) for c in args.concurrency.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    targets = [t for t in args.targets.split(",") if t]
    tmp = Path(tempfile.mkdtemp(prefix="countyos-sta-compare-"))
    end_us = (int(time.time()) // 60 - 60) * MINUTE_US  # an hour ago, on the minute
    times, values = series(args.observations, end_us)
    x = 25.0  # about a third of the values are above
    t_filter = times[int(len(times) * 0.9)]  # the newest tenth
    servers: dict[str, Server] = {}
    started = time.monotonic()
    try:
        print(f"loading {args.observations:,} observations into each server's tables ...", flush=True)
        sqlite_path = tmp / "countyos.db"
        cos_sqlite = prepare_countyos(f"sqlite:///{sqlite_path}", times, values)
        fresh_pg_database(COS_PG_DB, postgis=True)
        cos_pg = prepare_countyos(f"postgresql+psycopg://countyos:countyos@127.0.0.1:5432/{COS_PG_DB}", times, values)
        peer_port = free_port()
        peer_info: dict[str, Any] | None = None
        if "peer" in targets:
            fresh_pg_database(PEER_DB)
            peer_info = prepare_peer(tmp, peer_port, times, values)
        print(f"loaded in {time.monotonic() - started:.0f} s; starting the servers ...", flush=True)
        servers["countyos_sqlite"] = start_countyos("countyos_sqlite", f"sqlite:///{sqlite_path}", cos_sqlite)
        servers["countyos_pg"] = start_countyos(
            "countyos_pg", f"postgresql+psycopg://countyos:countyos@127.0.0.1:5432/{COS_PG_DB}", cos_pg
        )
        if peer_info is not None:
            servers["peer"] = start_peer(tmp, peer_port, peer_info)
        next_t = {name: end_us - 300 * 86_400_000_000 for name in [*servers, "floor", "floor_sqlite"]}
        floor_params = {
            "floor": {
                "ds": cos_pg["big"],
                "x": x,
                "t": t_filter,
                "ds_one": cos_pg["floor_one"],
                "ds_batch": cos_pg["floor_batch"],
            },
            "floor_sqlite": {
                "ds": cos_sqlite["big"],
                "x": x,
                "t": t_filter,
                "ds_one": cos_sqlite["floor_one"],
                "ds_batch": cos_sqlite["floor_batch"],
            },
        }
        raw: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = {}
        for rnd in range(args.rounds):
            print(f"round {rnd + 1} of {args.rounds} ...", flush=True)
            for conc in concs:
                for kind in kinds:
                    for target in targets:
                        if kind in COUNTYOS_ONLY and not target.startswith("countyos"):
                            continue
                        if target.startswith("floor") and kind not in FLOOR:
                            continue
                        if target not in servers and not target.startswith("floor"):
                            continue
                        job: dict[str, Any] = {
                            "concurrency": conc,
                            "seconds": args.seconds,
                            "warmup": args.warmup,
                            "timeout": args.timeout,
                            "t0_us": next_t[target],
                        }
                        if target.startswith("floor"):
                            job |= {"type": "sql", "kind": kind, "params": floor_params[target]}
                            if target == "floor":
                                job["dsn"] = f"{PG}/{COS_PG_DB}"
                            else:
                                job["sqlite"] = str(sqlite_path)
                        else:
                            srv = servers[target]
                            job |= {
                                "type": "http",
                                "port": srv.port,
                                "pid": srv.proc.pid,
                                "spec": request_spec(kind, srv, x, t_filter),
                            }
                        res = run_load(job, tmp)
                        next_t[target] += (res.get("sequence_used", 0) + 2) * 100_000_000
                        raw.setdefault(kind, {}).setdefault(str(conc), {}).setdefault(target, []).append(res)
                        print(f"  {kind:13} {conc:>2} in flight  {target:16} {_cell(res)}", flush=True)
        result = report(raw, args, kinds, concs, targets)
        result["setup"] = {
            "observations": args.observations,
            "things": 100,
            "datastreams_per_thing": 3,
            "rounds": args.rounds,
            "seconds_per_measure": args.seconds,
            "concurrency": concs,
            "peer": "django-ogc-sensorthings 1.2.0 (uvicorn, one process, Django ORM on PostgreSQL)",
            "countyos": "uvicorn, one process, SQLite file / PostgreSQL",
            "floor": "hand-written SQL for the same rows through psycopg (PostgreSQL) or sqlite3, "
            "same clients in flight",
            "filter": {"x": x, "t": iso(t_filter)},
            "cores": os.cpu_count(),
            "load_average_after": round(os.getloadavg()[0], 1),
            "minutes": round((time.monotonic() - started) / 60, 1),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    finally:
        for srv in servers.values():
            srv.stop()
        if not args.keep:
            for name in (COS_PG_DB, PEER_DB):
                try:
                    pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                except Exception as exc:  # a cleanup failure must not hide the results
                    print(f"could not drop {name}: {exc}")
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _cell(res: dict[str, Any]) -> str:
    if "error" in res:
        return "load process failed: " + res["error"].strip().splitlines()[-1][:120]
    bad = {k: v for k, v in res["statuses"].items() if not k.startswith("2")}
    text = f"{res['rps']:9.1f} req/s  p50 {res['p50_ms']} ms  p99 {res['p99_ms']} ms"
    if res.get("server_cpu_ms_per_request") is not None:
        text += f"  cpu {res['server_cpu_ms_per_request']} ms/req"
    if bad:
        text += f"  FAILED {bad}"
    return text


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one cell: the median rate, the median p50, the worst p99, all statuses."""
    good = [r for r in results if "error" not in r]
    if not good:
        return {"rps": 0.0, "error": results[0].get("error", "")}
    statuses: Counter[str] = Counter()
    for r in good:
        statuses.update(r["statuses"])
    cpu = [r["server_cpu_ms_per_request"] for r in good if r.get("server_cpu_ms_per_request") is not None]
    out = {
        "rps": statistics.median(r["rps"] for r in good),
        "rps_rounds": [r["rps"] for r in good],
        "p50_ms": statistics.median(r["p50_ms"] for r in good if r["p50_ms"] is not None)
        if good[0]["p50_ms"]
        else None,
        "p99_ms": max((r["p99_ms"] for r in good if r["p99_ms"] is not None), default=None),
        "statuses": dict(statuses),
        "server_cpu_ms_per_request": statistics.median(cpu) if cpu else None,
    }
    failures = {k: v for r in good for k, v in r.get("failure_sample", {}).items()}
    if failures:
        out["failure_sample"] = failures
    return out


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | str | None:
    if a is None or b is None:
        return None
    if not b.get("rps"):
        return "peer failed" if b.get("statuses") else None
    return round(a["rps"] / b["rps"], 3)


def report(raw: Any, args: Any, kinds: list[str], concs: list[int], targets: list[str]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    print()
    print("req/s (2xx answers; median of rounds), p50/p99 ms; ratios: CountyOS / peer and CountyOS / SQL floor")
    for kind in kinds:
        for conc in concs:
            cells = {t: _merge(v) for t, v in raw.get(kind, {}).get(str(conc), {}).items()}
            row: dict[str, Any] = {"results": cells}
            for cos in ("countyos_pg", "countyos_sqlite"):
                if cos in cells:
                    row[f"{cos}_vs_peer"] = _ratio(cells[cos], cells.get("peer"))
                    row[f"{cos}_vs_floor"] = _ratio(cells[cos], cells.get("floor"))
            if kind == "create_batch":
                for cos in ("countyos_pg", "countyos_sqlite"):
                    ingest = raw.get("ingest_batch", {}).get(str(conc), {}).get(cos)
                    if cos in cells and ingest:
                        row[f"{cos}_vs_ingest"] = _ratio(cells[cos], _merge(ingest))
            table.setdefault(kind, {})[str(conc)] = row
            parts = []
            for t in targets:
                if t in cells:
                    c = cells[t]
                    bad = {k: v for k, v in c.get("statuses", {}).items() if not k.startswith("2")}
                    if c.get("error"):
                        parts.append(f"{t} load failed")
                    elif bad and not c["rps"]:
                        parts.append(f"{t} FAILED {bad}")
                    else:
                        parts.append(
                            f"{t} {c['rps']:.1f} ({c['p50_ms']}/{c['p99_ms']})" + (f" errors {bad}" if bad else "")
                        )
            ratios = "  ".join(f"{k}={v}" for k, v in row.items() if k != "results" and v is not None)
            print(f"{kind:13} x{conc:<2} " + " | ".join(parts))
            if ratios:
                print(" " * 18 + ratios)
    return {"table": table}


if __name__ == "__main__":
    raise SystemExit(main())
