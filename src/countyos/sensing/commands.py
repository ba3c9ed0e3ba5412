"""``countyos simulate``: feed the demonstration county with live telemetry over HTTP or MQTT.

Every device of the demo reports its metrics each ``--interval`` seconds with the shapes of
:mod:`countyos.sensing.signals`, and the scheduled anomalies of ``signals.ANOMALIES`` (a flood wave on
``river_gauge-01`` every hour, a tilted manhole cover) raise alarms — and, through the alarm rules,
cases — while a demo is running. ``--speed`` runs the clock faster (the anomalies come sooner).
"""

from __future__ import annotations

import time
from typing import Annotated

import numpy as np
import orjson
import typer

NAME = "simulate"
app = typer.Typer(help="Feed the demo county's devices with live telemetry (HTTP or MQTT)", invoke_without_command=True)


@app.callback()
def simulate(
    via: Annotated[str, typer.Option(help="http or mqtt")] = "http",
    url: Annotated[str, typer.Option(help="CountyOS base URL (HTTP)")] = "http://127.0.0.1:8000",
    broker: Annotated[str | None, typer.Option(help="mqtt://host:port (default: COUNTYOS_MQTT_URL)")] = None,
    token: Annotated[
        str | None, typer.Option(help="device/gateway token (HTTP); a new one is issued when omitted")
    ] = None,
    interval: Annotated[float, typer.Option(help="seconds between reports")] = 10.0,
    rounds: Annotated[int, typer.Option(help="stop after this many rounds (0: run until Ctrl-C)")] = 0,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 1.0,
) -> None:
    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.core.settings import get_settings
    from countyos.sensing import signals
    from countyos.sensing.service import devices

    settings = get_settings()
    db = Database(settings.database_url)
    with db.reading() as s:
        from sqlalchemy import select

        from countyos.sensing.models import Thing

        rows = s.scalars(select(Thing).where(Thing.device_key.is_not(None)).order_by(Thing.id))
        things: list[tuple[int, str, str]] = [(t.id, str(t.device_key), str(t.device_class)) for t in rows]
        metrics: dict[int, list[str]] = {
            tid: [str(d.metric) for d in devices.datastreams_of(s, thing_id=tid)] for tid, _, _ in things
        }
        gateway = next((tid for tid, key, cls in things if cls == "gateway"), None)
    things = [t for t in things if t[2] != "gateway" and metrics.get(t[0])]
    if not things:
        typer.secho("No devices: load the demo first (countyos demo --no-serve).", fg="red", err=True)
        raise typer.Exit(2)
    if via == "http" and token is None:
        if gateway is None:
            typer.secho("No gateway device to issue a token for; pass --token.", fg="red", err=True)
            raise typer.Exit(2)
        with db.unit_of_work() as s:
            _, token = devices.issue_token(s, actor=Actor(id=None, name="simulate"), thing_id=gateway, name="simulate")
    send = _http_sender(url, token or "") if via == "http" else _mqtt_sender(broker or settings.mqtt_url)
    seeds = {key: k * 31 for k, (_, key, _) in enumerate(things)}
    started = time.time()
    n = 0
    typer.echo(f"Simulating {len(things)} devices over {via}; Ctrl-C to stop.")
    try:
        while rounds == 0 or n < rounds:
            sim_now = started + (time.time() - started) * speed
            t_us = np.array([int(sim_now * 1e6)], dtype=np.int64)
            messages = []
            for _tid, key, cls in things:
                values = {}
                for m in metrics[_tid]:
                    v = signals.values(cls, m, t_us, seed=seeds[key] + len(m))
                    v = signals.with_anomalies(key, m, t_us, v)
                    values[m] = round(float(v[0]), 3)
                messages.append((key, int(sim_now), values))
            stored = send(messages)
            n += 1
            typer.echo(f"round {n}: {stored} observations")
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


def _http_sender(url: str, token: str):  # type: ignore[no-untyped-def]
    import httpx

    client = httpx.Client(base_url=url, timeout=30)

    def send(messages: list[tuple[str, int, dict[str, float]]]) -> int:
        obs = [
            {"device": key, "metric": m, "time": ts, "value": v} for key, ts, vals in messages for m, v in vals.items()
        ]
        r = client.post(
            "/api/v1/sensing/ingest",
            content=orjson.dumps({"observations": obs}),
            headers={"X-Device-Token": token, "Content-Type": "application/json"},
        )
        if r.status_code >= 400:
            typer.secho(f"HTTP {r.status_code}: {r.text[:300]}", fg="red", err=True)
            return 0
        return int(r.json()["stored"])

    return send


def _mqtt_sender(broker: str | None):  # type: ignore[no-untyped-def]
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    if not broker:
        typer.secho("Set --broker or COUNTYOS_MQTT_URL.", fg="red", err=True)
        raise typer.Exit(2)
    u = urlparse(broker)
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"countyos-simulate-{int(time.time())}", protocol=mqtt.MQTTv5
    )
    if u.username:
        c.username_pw_set(u.username, u.password)
    c.connect(u.hostname or "127.0.0.1", u.port or 1883)
    c.loop_start()

    def send(messages: list[tuple[str, int, dict[str, float]]]) -> int:
        for key, ts, vals in messages:
            c.publish(f"county/{key}/telemetry", orjson.dumps({"ts": ts, "metrics": vals}), qos=1)
        return sum(len(v) for _, _, v in messages)

    return send
