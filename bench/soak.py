"""Soak: a real CountyOS server under mixed traffic for a fixed time, on loopback only.

The server is ``countyos serve`` (one worker, scheduled jobs and — when Mosquitto is installed — the
MQTT bridge inside, as a county runs it) on a fresh county database (a SQLite file, or
``--database postgresql+psycopg://…`` for an empty PostgreSQL database with PostGIS). For the whole
period, at once:

* citizens post reports through Open311 (``POST /open311/v2/requests.json``) and follow them;
* dispatchers work the queue: list it, open cases, accept → register → dispatch them;
* handlers sign the cases dispatched to their department;
* sensors send readings over HTTP (batches) and MQTT (one message per reading, QoS 1);
* the operations view polls its indicators, map layers and records, as the wall screen does.

It prints throughput and p50/p99 latency per route, errors by status, the server's memory (RSS)
over time and a verdict on whether memory plateaus (computed from the samples: the growth over the
second half of the run against the first half). Figures only; nothing is asserted.

    .venv/bin/python bench/soak.py                  # 60 s
    .venv/bin/python bench/soak.py --seconds 1800   # the long run of docs/reliability.md
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    examples: dict[tuple[str, int], str] = field(default_factory=dict)  # the first answer of each error
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, route: str, seconds: float, status: int, body: str = "") -> None:
        with self.lock:
            self.latencies[route].append(seconds)
            self.statuses[route][status] += 1
            if (status == 0 or status >= 400) and (route, status) not in self.examples:
                self.examples[(route, status)] = body[:160]


class Client:
    def __init__(self, base: str, stats: Stats, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, headers=headers or {})
        self.stats = stats

    def call(self, route: str, method: str, url: str, **kw) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.stats.add(route, time.perf_counter() - t0, 0, repr(exc))
            return None
        self.stats.add(route, time.perf_counter() - t0, r.status_code, r.text if r.status_code >= 400 else "")
        return r


def prepare(url: str, data_dir: Path) -> dict:
    os.environ.update(
        COUNTYOS_ENV="test",
        COUNTYOS_DATABASE_URL=url,
        COUNTYOS_DATA_DIR=str(data_dir),
        COUNTYOS_SECRET_KEY=os.environ.get("COUNTYOS_SECRET_KEY", "soak-secret-key-0123456789-abcdefghijklmnop"),
    )
    from tests.security.world import build  # the small real county the security suites use

    from countyos import domains
    from countyos.core import migrate
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings
    from countyos.org import flows

    reset_settings()
    migrate.upgrade(url)
    db = Database(url)
    with db.unit_of_work() as s:
        flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
    w = build(db)
    tokens = {
        who: w.bearer(db, getattr(w, who))["Authorization"]
        for who in ("intake", "shift", "dispatcher", "handler_works", "leader", "sysadmin")
    }
    db.dispose()
    return {"world": w, "tokens": tokens}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def citizen(base: str, stats: Stats, w, stop: threading.Event, rng: random.Random) -> None:
    c = Client(base, stats)
    lon, lat = w.point_a
    while not stop.is_set():
        r = c.call(
            "POST /open311/v2/requests.json",
            "POST",
            "/open311/v2/requests.json",
            data={
                "api_key": w.open311_key,
                "service_code": rng.choice(["C01001", "M06010"]),
                "lat": f"{lat + rng.uniform(-2e-4, 2e-4):.6f}",
                "long": f"{lon + rng.uniform(-2e-4, 2e-4):.6f}",
                "description": "路边井盖松动，请尽快处理",
            },
        )
        if r is not None and r.status_code == 200:
            rid = r.json()[0]["service_request_id"]
            c.call("GET /open311/v2/requests/{id}.json", "GET", f"/open311/v2/requests/{rid}.json")
        stop.wait(rng.uniform(0.2, 0.6))


def dispatcher(base: str, stats: Stats, tokens: dict[str, str], stop: threading.Event, rng: random.Random) -> None:
    people = {who: Client(base, stats, {"Authorization": t}) for who, t in tokens.items()}
    steps = [("accept", "intake"), ("register", "shift"), ("dispatch", "dispatcher")]
    while not stop.is_set():
        people["dispatcher"].call("GET /api/v1/cases/queues", "GET", "/api/v1/cases/queues")
        r = people["intake"].call("GET /api/v1/cases", "GET", "/api/v1/cases", params={"state": "reported", "limit": 5})
        for case in (r.json()["items"] if r is not None and r.status_code == 200 else [])[:2]:
            people["intake"].call("GET /api/v1/cases/{id}", "GET", f"/api/v1/cases/{case['id']}")
            version = case["version"]
            for action, who in steps:
                a = people[who].call(
                    "POST /api/v1/cases/{id}/actions",
                    "POST",
                    f"/api/v1/cases/{case['id']}/actions",
                    json={"action": action, "version": version},
                )
                if a is None or a.status_code != 200:
                    break
                version = a.json()["version"]
        h = people["handler_works"].call(
            "GET /api/v1/cases", "GET", "/api/v1/cases", params={"state": "dispatched", "limit": 3}
        )
        for case in (h.json()["items"] if h is not None and h.status_code == 200 else [])[:1]:
            people["handler_works"].call(
                "POST /api/v1/cases/{id}/actions",
                "POST",
                f"/api/v1/cases/{case['id']}/actions",
                json={"action": "sign"},
            )
        stop.wait(rng.uniform(0.3, 0.8))


def sensor_http(base: str, stats: Stats, w, stop: threading.Event, start: int) -> None:
    c = Client(base, stats, {"X-Device-Token": w.device_token})
    i = 0
    while not stop.is_set():
        body = {"series": [{"datastream": w.level, "data": [[start + i + k, (i + k) % 40 / 10] for k in range(50)]}]}
        c.call("POST /api/v1/sensing/ingest", "POST", "/api/v1/sensing/ingest", json=body)
        i += 50
        stop.wait(0.2)


def sensor_mqtt(port: int, stats: Stats, stop: threading.Event, start: int) -> None:
    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    sent: dict[int, float] = {}
    lock = threading.Lock()

    def on_publish(_c, _u, mid, _rc, _p) -> None:
        with lock:
            t0 = sent.pop(mid, None)
        if t0 is not None:
            stats.add("MQTT publish (broker ack)", time.perf_counter() - t0, 200)

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="soak-gauge", protocol=mqtt.MQTTv5)
    c.on_publish = on_publish
    c.connect("127.0.0.1", port)
    c.loop_start()
    i = 0
    while not stop.is_set():
        t0 = time.perf_counter()
        info = c.publish(
            "county/sec-wl-01/telemetry", orjson.dumps({"ts": start + i, "water_level": i % 40 / 10}), qos=1
        )
        with lock:
            sent[info.mid] = t0
        i += 1
        stop.wait(0.01)
    c.loop_stop()
    c.disconnect()


def operations_view(base: str, stats: Stats, token: str, stop: threading.Event) -> None:
    """The wall screen: indicators, map layers and trends every 2 s; the records behind two tiles."""
    c = Client(base, stats, {"Authorization": token})
    urls = ["/api/v1/ioc/map/cases", "/api/v1/ioc/map/devices", "/api/v1/ioc/trends"]
    while not stop.is_set():
        r = c.call("GET /api/v1/ioc/indicators", "GET", "/api/v1/ioc/indicators")
        tiles = r.json().get("tiles", []) if r is not None and r.status_code == 200 else []
        for u in urls:
            c.call(f"GET {u}", "GET", u)
        for tile in tiles[:2]:
            if tile.get("api_url"):
                c.call("GET /api/v1/ioc/records", "GET", tile["api_url"])
        stop.wait(2.0)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def plateau_verdict(samples: list[tuple[float, float]]) -> str:
    """Growth of RSS in the second half of the run against the first half's growth and level."""
    if len(samples) < 8:
        return "too few samples for a verdict (run longer)"
    n = len(samples)
    warm = samples[n // 4 :]  # the first quarter is warm-up (imports, caches, pools)
    half = len(warm) // 2
    first, second = warm[:half], warm[half:]
    slope = statistics.linear_regression([t for t, _ in second], [m for _, m in second]).slope * 60  # MB/min
    grew_first = first[-1][1] - first[0][1]
    grew_second = second[-1][1] - second[0][1]
    level = statistics.mean(m for _, m in second)
    ok = (grew_second <= max(2.0, 0.01 * level) and slope <= 1.0) or slope <= 0.25
    word = "PLATEAU" if ok else "STILL GROWING"
    return (
        f"{word}: after warm-up RSS grew {grew_first:+.1f} MB in the first half and {grew_second:+.1f} MB in the "
        f"second half (slope {slope:+.2f} MB/min at {level:.0f} MB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--citizens", type=int, default=4)
    ap.add_argument("--dispatchers", type=int, default=2)
    ap.add_argument("--database", help="an empty PostgreSQL database URL (default: a fresh SQLite file)")
    ap.add_argument("--sample-every", type=float, default=2.0, help="seconds between memory samples")
    ap.add_argument(
        "--only",
        default="citizens,dispatchers,http,mqtt,view",
        help="the kinds of traffic to run (comma-separated; to find which one a memory growth follows)",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="countyos-soak-"))
    url = args.database or f"sqlite:///{tmp / 'county.db'}"
    prepared = prepare(url, tmp / "data")
    w, tokens = prepared["world"], prepared["tokens"]

    from tests.faults.server import Server
    from tests.sensing.broker import Broker, available, free_port

    only = set(args.only.split(","))
    if "citizens" not in only:
        args.citizens = 0
    if "dispatchers" not in only:
        args.dispatchers = 0
    broker = None
    if available() and "mqtt" in only:
        broker = Broker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-soak-mqtt-")))
        broker.start()
    (tmp / "data").mkdir(exist_ok=True)
    server = Server(
        url,
        tmp / "data",
        mqtt_url=broker.url if broker else None,
        extra_env={"COUNTYOS_OPEN311_POSTS_PER_MINUTE": "0"},  # every simulated citizen posts from 127.0.0.1
    )
    server.start()
    pid = server.process.pid
    stats, stop = Stats(), threading.Event()
    now = int(time.time())
    rng = random.Random(7)
    threads = [
        threading.Thread(target=citizen, args=(server.url, stats, w, stop, random.Random(i)), daemon=True)
        for i in range(args.citizens)
    ]
    threads += [
        threading.Thread(target=dispatcher, args=(server.url, stats, tokens, stop, random.Random(100 + i)), daemon=True)
        for i in range(args.dispatchers)
    ]
    if "http" in only:
        threads.append(
            threading.Thread(target=sensor_http, args=(server.url, stats, w, stop, now - 3 * 86400), daemon=True)
        )
    if broker:
        threads.append(
            threading.Thread(target=sensor_mqtt, args=(broker.port, stats, stop, now - 2 * 86400), daemon=True)
        )
    if "view" in only:
        threads.append(
            threading.Thread(target=operations_view, args=(server.url, stats, tokens["leader"], stop), daemon=True)
        )
    samples: list[tuple[float, float]] = []
    print(
        f"soak: {args.seconds} s on {url.split(':')[0]}, {args.citizens} citizens, {args.dispatchers} dispatchers, "
        f"sensors over HTTP{' and MQTT' if broker else ''}, the operations view polling; server pid {pid}"
    )
    t_start = time.monotonic()
    for t in threads:
        t.start()
    try:
        while time.monotonic() - t_start < args.seconds:
            samples.append((time.monotonic() - t_start, rss_mb(pid)))
            time.sleep(args.sample_every)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - t_start
        samples.append((elapsed, rss_mb(pid)))
        server.stop()
        if broker:
            broker.stop()
    _ = rng

    total = sum(len(v) for v in stats.latencies.values())
    print(f"\n{total} requests in {elapsed:.0f} s: {total / elapsed:.1f} req/s\n")
    print(f"{'route':52} {'n':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for route in sorted(stats.latencies):
        lat = stats.latencies[route]
        codes = ", ".join(f"{k}×{v}" for k, v in sorted(stats.statuses[route].items()))
        print(
            f"{route:52} {len(lat):7d} {len(lat) / elapsed:7.1f} {percentile(lat, 50) * 1000:8.1f} "
            f"{percentile(lat, 99) * 1000:8.1f}  {codes}"
        )
    print("\nserver memory (RSS):")
    step = max(1, len(samples) // 12)
    for t, m in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        print(f"  {t:7.0f} s  {m:7.1f} MB")
    print("\nverdict: " + plateau_verdict(samples))
    errors = {r: {k: v for k, v in s.items() if k == 0 or k >= 500} for r, s in stats.statuses.items()}
    errors = {r: e for r, e in errors.items() if e}
    print("server errors / refused connections: " + (str(errors) if errors else "none"))
    for (route, status), body in sorted(stats.examples.items()):
        print(f"  first {status} of {route}: {body}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
