"""Camera events (POST /api/v1/safety/cameras/events) against Open311 POSTs, the same server, the same run.

A real server (uvicorn, one worker, SQLite file, scheduler off) on a temporary demo-lite world: the demo
county's org and geo, the cases setup (categories, routing, an Open311 api_key), cameras at points of
the county and an analysis box's API token. First N Open311 POSTs (``bench/open311_post.py``'s forms),
then N camera events on distinct cameras and types (so that nearly all become cases), each with a small
JPEG snapshot — stored, thumbnailed and claimed as the case's first photo. Both on keep-alive HTTP/1.1
connections, a fixed number in flight. Prints requests/s, p50 and p99 of both and the ratio
camera / Open311 (target ≥ 0.5); writes ``bench/results/camera_events.json``.

    .venv/bin/python bench/camera_events.py                  # 1,200 of each at 16 in flight
    .venv/bin/python bench/camera_events.py --n 1000 --c 4
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import io
import json
import os
import random
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "camera_events.json"
CAMERAS = 600


def _open311_bench() -> Any:
    spec = importlib.util.spec_from_file_location("open311_post", Path(__file__).with_name("open311_post.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_cameras(url: str, points: list[tuple[float, float]]) -> tuple[str, list[str], list[str]]:
    """Cameras at points of the county, the event types, an analysis box with its token."""
    from sqlalchemy import select

    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.geo import service as geo
    from countyos.org import flows as org_flows
    from countyos.org.service import tokens
    from countyos.safety.models.cameras import CameraEventType
    from countyos.safety.schemas.cameras import CameraIn
    from countyos.safety.service import cameras

    actor = Actor(id=None, name="bench")
    db = Database(url)
    with db.unit_of_work() as s:
        county = geo.the_county(s)
        centre = (county.code if county else "331123") + "00"
        codes = []
        for i, (lon, lat) in enumerate(points[:CAMERAS]):
            code = f"{centre}00{132 if i % 3 else 131}0{i + 1:06d}"
            cam = CameraIn(code=code, name=f"压测点位{i + 1}", lon=lon, lat=lat, direction=(i * 37) % 360)
            cameras.create(s, actor=actor, data=cam, audited=False)
            codes.append(code)
        cameras.ensure_types(s)
        types = [
            t.code
            for t in s.scalars(select(CameraEventType).order_by(CameraEventType.code))
            if t.category_code and t.enabled
        ]
        box = org_flows.create_person(
            s,
            actor=actor,
            username="bench_aibox",
            display_name="压测分析盒",
            password="Bench@pass2026",
            role_codes=["camera_feed"],
            must_change_password=False,
            is_machine=True,
        )
        _, plain = tokens.create(s, actor=actor, name="bench aibox", user_id=box.id, scopes=["safety.camera.feed"])
    db.dispose()
    return plain, codes, types


def snapshot() -> str:
    from PIL import Image

    rng = random.Random(3)
    im = Image.new("RGB", (160, 120))
    im.putdata([(rng.randrange(256), rng.randrange(256), 80) for _ in range(160 * 120)])
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=60)
    return base64.b64encode(buf.getvalue()).decode()


def http_post(path: str, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


LANE_APP = """
from countyos.app import create_app as _create_app
from countyos.safety.pages.cameras import IntakeLane


def create_app():
    app = _create_app()
    if not any(m.cls is IntakeLane for m in app.user_middleware):
        app.add_middleware(IntakeLane)
    return app
"""


def lane_wired() -> bool:
    from countyos.safety import pages
    from countyos.safety.pages.cameras import IntakeLane

    return IntakeLane in getattr(pages, "LANES", [])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1200, help="requests of each kind")
    ap.add_argument("--c", type=int, default=16, help="requests in flight")
    ap.add_argument("--no-lane", action="store_true", help="the route alone, without the intake lane")
    args = ap.parse_args()
    o311 = _open311_bench()
    tmp = Path(tempfile.mkdtemp(prefix="countyos-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    env = dict(
        os.environ,
        COUNTYOS_DATABASE_URL=url,
        COUNTYOS_ENV="dev",
        COUNTYOS_RUN_JOBS="false",
        COUNTYOS_DATA_DIR=str(tmp / "data"),
        COUNTYOS_OPEN311_POSTS_PER_MINUTE="0",
        PYTHONPATH=str(ROOT / "src"),
    )
    env.pop("COUNTYOS_CONFIG", None)
    os.environ.update({k: env[k] for k in ("COUNTYOS_ENV", "COUNTYOS_RUN_JOBS", "COUNTYOS_DATA_DIR")})
    print("preparing the demo county (org, geo, cases setup, cameras)…", flush=True)
    key, points = o311.prepare(url)
    rng = random.Random(7)
    rng.shuffle(points)
    token, codes, types = prepare_cameras(url, points)

    from countyos.core.clock import utcnow

    forms = []
    service_codes = ["M09006", "M09009", "M06010", "M06011", "M09001"]
    for i in range(args.n):
        lon, lat = rng.choice(points)
        forms.append(
            {
                "api_key": key,
                "service_code": service_codes[i % len(service_codes)],
                "lat": f"{lat:.6f}",
                "long": f"{lon:.6f}",
                "description": f"bench {i}",
            }
        )
    open311 = [
        http_post("/open311/v2/requests.json", "application/x-www-form-urlencoded", urlencode(f).encode())
        for f in forms
    ]
    snap = snapshot()
    now = utcnow()
    events = []
    for i in range(args.n):  # camera i % cameras, type by round: distinct pairs, hence cases
        body = {
            "camera": codes[i % len(codes)],
            "type": types[(i // len(codes)) % len(types)],
            "time": (now - timedelta(seconds=60 + i % 600)).isoformat(),
            "confidence": 0.9,
            "snapshot": snap,
            "box": [10, 20, 40, 30],
            "external_id": f"bench-{i}",
        }
        events.append(
            http_post(
                "/api/v1/safety/cameras/events",
                "application/json",
                json.dumps(body).encode(),
                {"Authorization": f"Bearer {token}"},
            )
        )
    port = o311.free_port()
    wired = lane_wired()
    if wired or args.no_lane:
        proc = o311.start_server("countyos.app:create_app", port, env)
    else:  # the intake lane is not yet among the domain's LANES: the benchmark puts it in front itself
        (tmp / "bench_app.py").write_text(LANE_APP, encoding="utf-8")
        proc = o311.start_server("bench_app:create_app", port, env, str(tmp))
    lane = "by the application" if wired else ("none" if args.no_lane else "added by the benchmark")
    print(f"intake lane: {lane}", flush=True)
    results: dict[str, Any] = {"n": args.n, "in_flight": args.c, "intake_lane": lane}
    try:
        asyncio.run(o311.load_requests(port, open311[: min(200, args.n // 10)], 8))  # warm up the same path
        for name, reqs in (("open311", open311), ("camera", events)):
            cpu0 = o311.cpu_seconds(proc.pid)
            elapsed, lat, statuses = asyncio.run(o311.load_requests(port, reqs, args.c))
            cpu = o311.cpu_seconds(proc.pid) - cpu0
            rps, p50, p99, cpu_ms = o311.summary(f"{name} c={args.c}", elapsed, lat, statuses, cpu)
            results[name] = {
                "req_per_s": round(rps, 1),
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "server_cpu_ms": round(cpu_ms, 2),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
            }
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    ratio = results["camera"]["req_per_s"] / results["open311"]["req_per_s"]
    results["ratio_camera_vs_open311"] = round(ratio, 3)
    results["ratio_cpu_open311_vs_camera"] = round(
        results["open311"]["server_cpu_ms"] / results["camera"]["server_cpu_ms"], 3
    )
    results["load_average"] = round(os.getloadavg()[0], 1)
    results["cores"] = os.cpu_count()
    print(f"\ncamera events / Open311 POSTs: {ratio:.3f} (target ≥ 0.5)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
