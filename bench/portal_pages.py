"""The residents' portal on a slow connection: bytes per page and time to draw it, in headless Chromium.

The demo county is built into a temporary folder (``countyos demo --no-serve``) and served by one
uvicorn process. Chromium (Debian's, as in the browser tests) opens each portal page on a phone-size
screen with the network throttled by the DevTools protocol to the "3G Slow" profile of WebPageTest:
400 ms round trip, 400 kbit/s down and up, applied to every request.

For each page:

- ``bytes``: what crossed the network for the page and everything it loaded, with an empty cache
  (fonts excepted, as the target says); target under 100 KB;
- ``cold_ms``: navigation start to first contentful paint with an empty cache;
- ``warm_ms``: the same when arriving from another portal page (the portal's stylesheet and script
  already in the cache, as for a resident moving through the portal); target under 1 s;
- ``ratio``: ``warm_ms`` against the baseline measured in the same run under the same throttling —
  a navigation to ``/healthz`` (a few bytes of JSON, no sub-resources): the least a request costs on
  this connection.

A resident's own pages are opened signed in: the script signs the demo resident in with the code that
the development SMS adapter prints on the server's console.

Prints a table and writes ``bench/results/portal_pages.json``.

    .venv/bin/python bench/portal_pages.py
    .venv/bin/python bench/portal_pages.py --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "portal_pages.json"
CHROMIUM = os.environ.get("COUNTYOS_CHROMIUM", "/usr/bin/chromium")
PROFILE = {"name": "WebPageTest 3G Slow", "latency_ms": 400, "down_kbit_s": 400, "up_kbit_s": 400}
BYTES_TARGET = 100_000
WARM_TARGET_MS = 1000.0
PHONE = {"width": 390, "height": 844}
PUBLIC_PAGES = [
    "/portal",
    "/portal/signin",
    "/portal/notices",
    "/portal/notices?affairs=1",
    "/portal/cases",
    "/portal/facilities",
    "/portal/bookings",
    "/portal/privacy",
]
RESIDENT_PAGES = ["/portal/me", "/portal/me/messages", "/portal/me/data", "/portal/subscriptions"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_demo(folder: Path) -> Path:
    db = folder / "countyos.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), COUNTYOS_DATA_DIR=str(folder / "data"))
    subprocess.run(
        [str(Path(sys.executable).parent / "countyos"), "demo", "--no-serve", "--path", str(db)],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return db


UVICORN = [sys.executable, "-m", "uvicorn", "countyos.app:create_app", "--factory", "--host", "127.0.0.1",
           "--log-level", "warning", "--no-access-log"]  # fmt: skip


class Server:
    """One uvicorn process on the demo database; its console (stderr) is read for the SMS codes."""

    def __init__(self, db: Path, folder: Path) -> None:
        self.port = free_port()
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT / "src"),
            COUNTYOS_DATABASE_URL=f"sqlite:///{db}",
            COUNTYOS_DATA_DIR=str(folder / "data"),
            COUNTYOS_RUN_JOBS="false",
            COUNTYOS_ENV="dev",
            COUNTYOS_COUNTY_NAME="遂昌县",
            COUNTYOS_PORTAL_SMS="console",
            COUNTYOS_LOGIN_RATE_PER_MINUTE="1000",
        )
        self.proc = subprocess.Popen(
            [*UVICORN, "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.console: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        import httpx

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("the server exited:\n" + "".join(self.console[-20:]))
            try:
                if httpx.get(self.url + "/healthz", timeout=3).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise SystemExit("the server did not start")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.console.append(line)

    def code_for(self, phone: str, after: int) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for line in self.console[after:]:
                if f"[SMS to {phone}]" in line and (m := re.search(r"\b(\d{6})\b", line)):
                    return m.group(1)
            time.sleep(0.1)
        raise SystemExit("no code on the server's console")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def throttle(context: Any, page: Any) -> Any:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": PROFILE["latency_ms"],
            "downloadThroughput": PROFILE["down_kbit_s"] * 1000 / 8,
            "uploadThroughput": PROFILE["up_kbit_s"] * 1000 / 8,
        },
    )
    return cdp


def first_paint_ms(page: Any) -> float:
    value = page.evaluate(
        """() => {
            const p = performance.getEntriesByName('first-contentful-paint')[0];
            const n = performance.getEntriesByType('navigation')[0];
            return p ? p.startTime : (n ? n.loadEventEnd : -1);
        }"""
    )
    return round(float(value), 1)


def measure_cold(browser: Any, base: str, path: str, storage: dict[str, Any] | None) -> tuple[int, float]:
    """Bytes (fonts excepted) and first paint of PATH with an empty cache."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, storage_state=storage, locale="zh-CN")
    page = context.new_page()
    cdp = throttle(context, page)
    types: dict[str, str] = {}
    sizes: dict[str, float] = {}
    cdp.on("Network.responseReceived", lambda e: types.__setitem__(e["requestId"], e.get("type", "")))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e.get("encodedDataLength", 0)))
    page.goto(base + path, wait_until="load")
    page.wait_for_timeout(300)  # late loading events
    total = int(sum(size for rid, size in sizes.items() if types.get(rid) != "Font"))
    paint = first_paint_ms(page)
    context.close()
    return total, paint


def measure_warm(browser: Any, base: str, path: str, storage: dict[str, Any] | None) -> float:
    """First paint of PATH arriving from the front page (its stylesheet and script in the cache)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, storage_state=storage, locale="zh-CN")
    page = context.new_page()
    throttle(context, page)
    page.goto(base + "/portal", wait_until="load")
    page.goto(base + path, wait_until="load")
    paint = first_paint_ms(page)
    context.close()
    return paint


def baseline_ms(browser: Any, base: str) -> float:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    throttle(context, page)
    page.goto(base + "/healthz", wait_until="load")
    value = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseEnd")
    context.close()
    return round(float(value), 1)


def resident_storage(browser: Any, server: Server, phone: str) -> dict[str, Any]:
    """Sign the demo resident in through the pages with the code printed on the server's console."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/portal/signin")
    page.fill("#f-phone", phone)
    seen = len(server.console)
    page.click("#pt-send-code button[type=submit]")
    page.wait_for_selector("#pt-code-sent")
    page.fill("#f-code", server.code_for(phone, seen))
    page.click("#pt-signin button[type=submit]")
    page.wait_for_url("**/portal/me")
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


def demo_phone(db: Path) -> str:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["COUNTYOS_DATABASE_URL"] = f"sqlite:///{db}"
    from sqlalchemy import create_engine, select

    from countyos.org.models import User
    from countyos.org.service import users

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        enc = conn.execute(select(User.phone_enc).where(User.username == "resident")).scalar_one()
    engine.dispose()
    return users.cipher().decrypt(enc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="measurements per page (medians are kept)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="countyos-portal-bench-") as tmp:
        folder = Path(tmp)
        print("building the demo county …", flush=True)
        db = build_demo(folder)
        phone = demo_phone(db)
        server = Server(db, folder)
        rows: list[dict[str, Any]] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                storage = resident_storage(browser, server, phone)
                base_ms = statistics.median(baseline_ms(browser, server.url) for _ in range(args.rounds))
                for path, signed in [*((p, None) for p in PUBLIC_PAGES), *((p, storage) for p in RESIDENT_PAGES)]:
                    cold = [measure_cold(browser, server.url, path, signed) for _ in range(args.rounds)]
                    warm = [measure_warm(browser, server.url, path, signed) for _ in range(args.rounds)]
                    size = max(b for b, _ in cold)
                    warm_ms = statistics.median(warm)
                    rows.append(
                        {
                            "page": path,
                            "signed_in": signed is not None,
                            "bytes": size,
                            "cold_ms": statistics.median(p for _, p in cold),
                            "warm_ms": warm_ms,
                            "ratio": round(warm_ms / base_ms, 2) if base_ms > 0 else None,
                            "bytes_ok": size < BYTES_TARGET,
                            "warm_ok": warm_ms < WARM_TARGET_MS,
                        }
                    )
                browser.close()
        finally:
            server.stop()
    print(f"\nthrottled to {PROFILE['name']}: {PROFILE['latency_ms']} ms, {PROFILE['down_kbit_s']} kbit/s")
    print(f"baseline (GET /healthz, same throttling): {base_ms:.0f} ms\n")
    print(f"{'page':34} {'KB':>6} {'cold ms':>8} {'warm ms':>8} {'× base':>7}  ok")
    for r in rows:
        ok = "yes" if r["bytes_ok"] and r["warm_ok"] else "NO"
        kb = r["bytes"] / 1000
        print(f"{r['page']:34} {kb:6.1f} {r['cold_ms']:8.0f} {r['warm_ms']:8.0f} {r['ratio']:7.2f}  {ok}")
    result = {
        "bench": "portal_pages",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "browser": CHROMIUM,
        "profile": PROFILE,
        "screen": PHONE,
        "rounds": args.rounds,
        "targets": {"bytes": BYTES_TARGET, "warm_ms": WARM_TARGET_MS},
        "baseline_ms": base_ms,
        "pages": rows,
        "all_ok": all(r["bytes_ok"] and r["warm_ok"] for r in rows),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
