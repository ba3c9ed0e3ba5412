"""SensorThings navigation read against the plain SQL floor, same run (SQLite).

``GET /sta/v1.1/Datastreams(id)/Observations?$top=100&$orderby=phenomenonTime desc`` on a database of
``--observations`` rows (default 200,000) in ``--streams`` datastreams (default 5), through the ASGI
app in process, against:

- the floor: the same 100 rows by plain SQL on the same database (``datastream_id = ?`` ordered by
  time, through sqlite3, no JSON);
- the query as it was written before (the navigation as a correlated ``EXISTS``), plain SQL too;
- the HTTP stack alone (``GET /healthz`` through the same in-process client), for scale.

Each is timed as the median of alternating rounds after a warm-up, in wall-clock ms per request.
Results to ``bench/results/sta_nav.json``.

    .venv/bin/python bench/sta_nav.py
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

RESULTS = Path(__file__).resolve().parent / "results" / "sta_nav.json"

FLOOR = (
    "SELECT id, phenomenon_us, result FROM sensing_observation WHERE datastream_id = ? "
    "ORDER BY phenomenon_us DESC LIMIT 100"
)
BEFORE = (  # the navigation's shape before: a correlated EXISTS around every observation
    "SELECT o.id, o.phenomenon_us, o.result FROM sensing_observation AS o WHERE EXISTS "
    "(SELECT 1 FROM sensing_datastream AS d WHERE d.id = ? AND o.datastream_id = d.id) "
    "ORDER BY o.phenomenon_us DESC, o.id ASC LIMIT 101 OFFSET 0"
)


def build(url: str, streams: int, observations: int) -> list[int]:
    from ingest_http import prepare_database

    from countyos.core.db import Database
    from countyos.sensing.service import store

    ids = prepare_database(url, 1, streams)[0][:streams]
    db = Database(url)
    per = observations // len(ids)
    end = 1_780_000_000_000_000
    t_one = end - np.arange(per, dtype=np.int64)[::-1] * 60_000_000
    for ds_id in ids:  # one datastream after the other, as a backfill writes them
        ds = np.full(per, ds_id, dtype=np.int64)
        v = (np.sin(t_one / 3.6e9) + ds_id % 7).astype(np.float64)
        for lo in range(0, per, 50_000):
            with db.unit_of_work() as s, store.paused_gc():
                store.store(s, ds[lo : lo + 50_000], t_one[lo : lo + 50_000], v[lo : lo + 50_000])
    db.dispose()
    return ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--observations", type=int, default=200_000)
    ap.add_argument("--streams", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=40, help="requests per round and kind")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="countyos-sta-nav-")
    path = f"{tmp}/sta.db"
    url = f"sqlite:///{path}"
    os.environ["COUNTYOS_DATABASE_URL"] = url
    os.environ["COUNTYOS_RUN_JOBS"] = "false"
    ids = build(url, args.streams, args.observations)
    target = ids[0]  # the first written: its rows are the farthest from the table's end

    from fastapi.testclient import TestClient

    from countyos.app import create_app
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings

    reset_settings()
    db = Database(url)
    client = TestClient(create_app(db=db))
    client.__enter__()  # one event loop portal for every request (not a thread started per request)
    nav_url = f"/sta/v1.1/Datastreams({target})/Observations"
    params = {"$top": "100", "$orderby": "phenomenonTime desc"}
    raw = sqlite3.connect(path)
    raw.execute("ANALYZE")

    def navigation() -> None:
        r = client.get(nav_url, params=params)
        assert r.status_code == 200 and r.content.count(b'"@iot.id"') == 100, r.text[:300]

    def http_floor() -> None:  # the same HTTP stack answering the smallest route
        assert client.get("/healthz").status_code == 200

    def floor() -> None:
        assert len(raw.execute(FLOOR, (target,)).fetchall()) == 100

    def before() -> None:
        assert len(raw.execute(BEFORE, (target,)).fetchall()) == 101

    kinds = {"navigation": navigation, "floor": floor, "before": before, "http_floor": http_floor}
    per_kind: dict[str, list[float]] = {k: [] for k in kinds}
    for fn in kinds.values():
        fn()
    for _ in range(args.rounds):  # alternating rounds: each kind sees the same machine load
        for name, fn in kinds.items():
            n = args.requests if name != "before" else max(1, args.requests // 20)
            started = time.perf_counter()
            for _ in range(n):
                fn()
            per_kind[name].append((time.perf_counter() - started) * 1000 / n)
    ms = {k: statistics.median(v) for k, v in per_kind.items()}
    result = {
        "observations": args.observations,
        "datastreams": args.streams,
        "request": f"GET {nav_url}?$top=100&$orderby=phenomenonTime desc",
        "ms_per_request": {k: round(v, 3) for k, v in ms.items()},
        "navigation_vs_floor": round(ms["floor"] / ms["navigation"], 3),
        "navigation_vs_before_query": round(ms["before"] / ms["navigation"], 1),
        "load_average": round(os.getloadavg()[0], 1),
        "cores": os.cpu_count(),
    }
    print(f"{args.observations:,} observations in {args.streams} datastreams (SQLite)")
    print(f"navigation read (HTTP, JSON):            {ms['navigation']:8.2f} ms per request")
    print(f"plain SQL floor (same rows, no JSON):    {ms['floor']:8.2f} ms per request")
    print(f"ratio floor / navigation:                {result['navigation_vs_floor']:8.3f} (target >= 0.3)")
    print(f"query as written before (EXISTS), SQL:   {ms['before']:8.2f} ms per request")
    print(f"HTTP stack alone (GET /healthz):         {ms['http_floor']:8.2f} ms per request")
    print(f"load average while measuring: {result['load_average']} on {result['cores']} cores")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    client.__exit__(None, None, None)
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
