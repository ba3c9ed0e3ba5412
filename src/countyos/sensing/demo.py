"""The sensing part of the demonstration county: 30 devices of seven kinds on points inside the
county, three weeks of history every 10 minutes (bulk inserts through the ordinary write path, so
rollups and latest values are filled too), alarm rules that open cases, a machine account and tokens
for trying the SensorThings API and the ingest endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import update
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.org.service import tokens, users
from countyos.sensing import signals
from countyos.sensing.models import Health, Thing
from countyos.sensing.service import devices, health, retention, rules, store
from countyos.sensing.service.times import DAY_US, to_us

HISTORY_DAYS = 21
STEP_US = 600 * 1_000_000
MACHINE = "sta-client"
MACHINE_PASSWORD = "Sta@2026county"
SILENT = "manhole-06"  # stopped reporting two days ago: offline on the first health check

RULES: list[dict[str, Any]] = [
    {
        "name": "河道水位超警戒（3.0 m 持续 10 分钟）",
        "severity": "critical",
        "device_class": "river_gauge",
        "case_category_code": "M01067",
        "dedupe_seconds": 1800,
        "condition": {
            "type": "duration",
            "seconds": 600,
            "of": {"type": "threshold", "op": ">", "value": 3.0, "clear": 2.8},
        },
    },
    {
        "name": "河道水位快速上涨（每小时 0.5 m）",
        "severity": "major",
        "device_class": "river_gauge",
        "condition": {
            "type": "all",
            "of": [
                {"type": "threshold", "op": ">", "value": 2.0},
                {"type": "rate", "op": ">", "value": 0.5, "per_seconds": 3600},
            ],
        },
    },
    {
        "name": "井盖倾斜",
        "severity": "major",
        "device_class": "manhole",
        "case_category_code": "M01003",
        "condition": {"type": "threshold", "op": ">", "value": 15, "clear": 5},
    },
    {
        "name": "PM2.5 超标",
        "severity": "minor",
        "device_class": "air_station",
        "condition": {
            "type": "duration",
            "seconds": 3600,
            "of": {"type": "threshold", "op": ">", "value": 75, "clear": 60},
        },
    },
    {
        "name": "雨量站无数据",
        "severity": "warning",
        "device_class": "rain_gauge",
        "condition": {"type": "no_data", "intervals": 6},
    },
]


def _points(session: Session, n: int) -> list[tuple[float, float]]:
    """Positions inside the county (checked with the geo domain), around the county seat."""
    rng = np.random.default_rng(2026)
    out: list[tuple[float, float]] = []
    try:
        from countyos.geo import service as geo

        for _ in range(n * 40):
            lon, lat = 119.27 + rng.normal(0, 0.08), 28.59 + rng.normal(0, 0.06)
            try:
                geo.locate(session, lon=lon, lat=lat)
            except Exception:  # OutsideCounty, or no boundaries loaded
                continue
            out.append((lon, lat))
            if len(out) >= n:
                break
    except ImportError:
        pass
    while len(out) < n:
        out.append((119.27 + rng.normal(0, 0.03), 28.59 + rng.normal(0, 0.02)))
    return out


def load(session: Session, ctx: Any) -> None:
    actor = Actor(id=None, name="demo")
    devices.ensure_retention_classes(session)
    specs = signals.specs(_points(session, sum(signals.COUNTS.values())))
    now = to_us(utcnow()) // STEP_US * STEP_US
    start = now - HISTORY_DAYS * DAY_US
    retention.ensure_partitions(session, start_us=start, end_us=now + DAY_US)
    t = np.arange(start, now + 1, STEP_US, dtype=np.int64)
    ds_all: list[NDArray[Any]] = []
    t_all: list[NDArray[Any]] = []
    v_all: list[NDArray[Any]] = []
    for k, spec in enumerate(specs):
        thing = devices.register(session, actor=actor, spec=spec)
        times = t[t < now - 2 * DAY_US] if spec.device_key == SILENT else t
        for d in devices.datastreams_of(session, thing_id=thing.id):
            assert d.metric is not None
            vals = signals.values(spec.device_class, d.metric, times, seed=k * 31 + len(d.metric))
            ds_all.append(np.full(len(times), d.id, dtype=np.int64))
            t_all.append(times)
            v_all.append(vals)
        thing.last_seen_at = utcnow() - (timedelta(days=2) if spec.device_key == SILENT else timedelta(0))
        thing.health = Health.UNKNOWN if spec.device_key == SILENT else Health.ONLINE
    with store.paused_gc():
        stored = store.store(session, np.concatenate(ds_all), np.concatenate(t_all), np.concatenate(v_all))
    health.refresh_status(session, datastream_ids=stored.touched)  # battery and signal on the devices
    for r in RULES:
        rules.save(session, actor=actor, data=r)
    # A machine account for SensorThings clients, an API token, and a gateway token for devices.
    machine = users.create(
        session,
        actor=actor,
        username=MACHINE,
        display_name="SensorThings 客户端",
        password=MACHINE_PASSWORD,
        is_machine=True,
        must_change_password=False,
    )
    users.set_roles(session, actor=actor, user_id=machine.id, role_codes=["data_admin"])
    session.flush()
    _, api_token = tokens.create(
        session, actor=actor, name="SensorThings 演示", user_id=machine.id, scopes=["sensing.read", "sensing.write"]
    )
    gateway = devices.register(
        session,
        actor=actor,
        spec=devices.DeviceSpec(
            "gateway-01", "演示网关", "gateway", 119.27, 28.59, metrics=(), expected_interval_s=None
        ),
    )
    session.flush()
    session.execute(update(Thing).where(Thing.device_class != "gateway").values(gateway_id=gateway.id))
    _, dev_token = devices.issue_token(session, actor=actor, thing_id=gateway.id, name="演示网关")
    retention.refresh_stats(session)
    ctx.accounts.append((MACHINE, MACHINE_PASSWORD, "machine account: HTTP Basic for /sta/v1.1 writes"))
    ctx.notes.append(
        f"Sensing: {len(specs)} devices, {stored.inserted:,} observations over {HISTORY_DAYS} days "
        "(/sensing, /sensing/alarms, /sensing/rules; SensorThings API at /sta/v1.1)."
    )
    ctx.notes.append(f"SensorThings API token (Authorization: Bearer): {api_token}")
    ctx.notes.append(f"Device gateway token for POST /api/v1/sensing/ingest (X-Device-Token): {dev_token}")
    simulate = ctx.command(f"simulate --via http --url {ctx.public_url}")
    ctx.notes.append(f"Live telemetry with scheduled anomalies: {simulate} (or --via mqtt with COUNTYOS_MQTT_URL)")
