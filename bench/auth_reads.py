"""Authenticated reads while a writer holds the SQLite write lock, against the same reads with no writer.

A real server (uvicorn, one worker, SQLite file, scheduler off) answers ``GET /api/v1/me`` and
``GET /api/v1/departments`` to clients holding an API token (bearer) or a cookie session, half each,
``--clients`` requests in flight on keep-alive connections. Two phases alternate for ``--rounds``
rounds, ``--seconds`` each:

- free: nobody else writes;
- held: another connection (as another process would) holds ``BEGIN IMMEDIATE`` on the database file
  in bursts of ``--burst-ms``, letting go for ``--gap-ms`` in between: the lock is held most of the time.

Every answer must be 200 with the caller's name. Prints requests/s of both phases and the ratio held /
free (target ≥ 0.8: reads do not queue behind the writer), the share of the time the lock was held, and
writes ``bench/results/auth_reads.json``. Each request is resolved in a read transaction; a caller's
last visit is written by a side writer once a minute (see ``web/sidewrites.py``).

    .venv/bin/python bench/auth_reads.py                   # 4 rounds of 2 × 5 s
    .venv/bin/python bench/auth_reads.py --rounds 2 --seconds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "auth_reads.json"
PASSWORD = "Bench@2026county"

sys.path.insert(0, str(Path(__file__).resolve().parent))


def prepare(url: str) -> tuple[str, str, str, str]:
    """Migrate and bootstrap; a person (cookie login) and a machine account with a token. Returns the
    person's and the machine's user names, the person's password and the token."""
    os.environ["COUNTYOS_DATABASE_URL"] = url
    from countyos import domains
    from countyos.core import migrate
    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.core.settings import reset_settings
    from countyos.org import flows as org_flows
    from countyos.org.service import tokens

    reset_settings()
    migrate.upgrade(url)
    db = Database(url)
    bench = Actor(id=None, name="bench")
    with db.unit_of_work() as s:
        org_flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
        person = org_flows.create_person(
            s,
            actor=bench,
            username="reader",
            display_name="读者",
            password=PASSWORD,
            role_codes=["intake"],
            must_change_password=False,
        )
        machine = org_flows.create_person(
            s,
            actor=bench,
            username="reader-app",
            display_name="读取程序",
            password=PASSWORD,
            role_codes=["intake"],
            is_machine=True,
        )
        _, token = tokens.create(s, actor=bench, name="bench", user_id=machine.id, scopes=["department.read"])
        names = person.username, machine.username
    db.dispose()
    return names[0], names[1], PASSWORD, token


def login(base: str, username: str, password: str) -> dict[str, str]:
    """The cookies of a full session, through the login page as a browser does it."""
    with httpx.Client(base_url=base, timeout=30) as c:
        page = c.get("/login")
        m = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert m, "no CSRF token on the login page"
        r = c.post("/login", data={"username": username, "password": password, "csrf_token": m.group(1), "next": ""})
        assert r.status_code in (200, 303) and c.cookies.get("countyos_session"), r.text[:300]
        return dict(c.cookies)


class Writer:
    """Another connection to the file taking the write lock in bursts while ``holding`` is set."""

    def __init__(self, path: str, burst_s: float, gap_s: float) -> None:
        self.path, self.burst_s, self.gap_s = path, burst_s, gap_s
        self.holding = threading.Event()
        self.stop = threading.Event()
        self.held_s = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        while not self.stop.is_set():
            if not self.holding.wait(0.05):
                continue
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            self.stop.wait(self.burst_s)
            conn.execute("ROLLBACK")
            self.held_s += time.perf_counter() - started
            self.stop.wait(self.gap_s)
        conn.close()


def load(base: str, phase_s: float, clients: int, token: str, cookies: dict[str, str], names: tuple[str, str]) -> int:
    """Requests answered in ``phase_s`` by ``clients`` threads (half bearer, half cookie)."""
    deadline = time.perf_counter() + phase_s
    counts = [0] * clients
    failures: list[str] = []

    def client(i: int) -> None:
        by_token = i % 2 == 0
        headers = {"Authorization": f"Bearer {token}"} if by_token else {}
        expected = names[1] if by_token else names[0]
        with httpx.Client(base_url=base, headers=headers, cookies=None if by_token else cookies, timeout=60) as c:
            n = 0
            while time.perf_counter() < deadline:
                if n % 2 == 0:
                    r = c.get("/api/v1/me")
                    ok = r.status_code == 200 and r.json()["username"] == expected
                else:
                    r = c.get("/api/v1/departments")
                    ok = r.status_code == 200 and "items" in r.json()
                if not ok:
                    failures.append(f"{r.status_code} {r.text[:200]}")
                    return
                n += 1
            counts[i] = n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"a read failed: {failures[0]}")
    return sum(counts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    ap.add_argument("--clients", type=int, default=8, help="requests in flight")
    ap.add_argument("--burst-ms", type=float, default=400.0, help="how long the writer holds the lock each time")
    ap.add_argument("--gap-ms", type=float, default=50.0, help="how long it lets go in between")
    args = ap.parse_args()

    from ingest_http import start_server

    with tempfile.TemporaryDirectory(prefix="countyos-bench-") as tmp:
        path = f"{tmp}/auth.db"
        url = f"sqlite:///{path}"
        person, machine, password, token = prepare(url)
        server, base = start_server(url)
        writer = Writer(path, args.burst_ms / 1000, args.gap_ms / 1000)
        writer.thread.start()
        free_n = held_n = 0
        free_s = held_s = 0.0
        try:
            cookies = login(base, person, password)
            load(base, 1.0, args.clients, token, cookies, (person, machine))  # warm-up
            for r in range(args.rounds):
                for phase in ("free", "held") if r % 2 == 0 else ("held", "free"):
                    if phase == "held":
                        writer.holding.set()
                    started = time.perf_counter()
                    n = load(base, args.seconds, args.clients, token, cookies, (person, machine))
                    spent = time.perf_counter() - started
                    writer.holding.clear()
                    if phase == "held":
                        held_n, held_s = held_n + n, held_s + spent
                    else:
                        free_n, free_s = free_n + n, free_s + spent
        finally:
            writer.stop.set()
            writer.thread.join(10)
            server.terminate()
            server.wait(10)

    free_rps, held_rps = free_n / free_s, held_n / held_s
    ratio = held_rps / free_rps
    share = min(1.0, writer.held_s / held_s)
    print(f"authenticated GETs, {args.clients} in flight (half bearer token, half cookie), one uvicorn worker, SQLite")
    print(f"no writer                      : {free_rps:8.0f} req/s ({free_n:,} in {free_s:.1f} s)")
    print(f"writer holds the lock {share:4.0%} : {held_rps:8.0f} req/s ({held_n:,} in {held_s:.1f} s)")
    print(f"ratio held / free: {ratio:.2f} (target >= 0.8)")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "bench": "auth_reads",
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "cores": os.cpu_count(),
                "load_average": round(os.getloadavg()[0], 2),
                "clients": args.clients,
                "rounds": args.rounds,
                "phase_seconds": args.seconds,
                "burst_ms": args.burst_ms,
                "gap_ms": args.gap_ms,
                "lock_held_share": round(share, 3),
                "free_rps": round(free_rps, 1),
                "held_rps": round(held_rps, 1),
                "ratio_held_over_free": round(ratio, 3),
                "target": 0.8,
                "ok": ratio >= 0.8,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
