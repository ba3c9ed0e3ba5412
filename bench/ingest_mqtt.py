"""MQTT ingest: single-observation messages through Mosquitto, persisted by CountyOS, vs the bare
paho → Mosquitto → paho rate in the same run.

Both runs use the same Mosquitto (started here on a free loopback port), the same publisher (a
separate process publishing QoS 1 ``county/{device}/telemetry`` messages as fast as paho can) and
QoS 1 subscriptions. Bare: a paho subscriber that only counts. CountyOS: the MQTT bridge
(``countyos.sensing.bridge``) storing into a SQLite file (validation, dedupe, rollups, latest value,
acknowledgement after commit, SensorThings notifications). The ratio is CountyOS / bare
(target ≥ 0.7).

    .venv/bin/python bench/ingest_mqtt.py --n 100000
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

PUBLISHER = r"""
import sys, time, orjson, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
port, n, devices, t0 = (int(x) for x in sys.argv[1:5])
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub", protocol=mqtt.MQTTv5)
c.max_inflight_messages_set(2000)
c.max_queued_messages_set(0)
c.connect("127.0.0.1", port)
c.loop_start()
infos = []
for i in range(n):
    body = orjson.dumps({"ts": t0 + i // devices, "m0": i % 97})
    infos.append(c.publish(f"county/bench-{i % devices:05d}/telemetry", body, qos=1))
for info in infos[-100:]:
    info.wait_for_publish(60)
c.loop_stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(folder: Path) -> tuple[int, int]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\npid_file {folder}/m.pid\n"
        f"log_dest file {folder}/m.log\nmax_queued_messages 2000000\nmax_inflight_messages 0\n"
    )
    if os.geteuid() == 0:
        shutil.chown(folder, "mosquitto")
        shutil.chown(conf, "mosquitto")
    subprocess.run(["mosquitto", "-c", str(conf), "-d"], check=True)
    for _ in range(100):
        if (folder / "m.pid").exists() and (folder / "m.pid").read_text().strip():
            break
        time.sleep(0.05)
    time.sleep(0.2)
    return port, int((folder / "m.pid").read_text().strip())


def publish(port: int, n: int, devices: int, t0: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", PUBLISHER, str(port), str(n), str(devices), str(t0)])


def bare_run(port: int, n: int, devices: int, t0: int) -> float:
    got = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        nonlocal got, first, last
        got += 1
        if got == 1:
            first = time.perf_counter()
        if got >= n:
            last = time.perf_counter()
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe("county/+/telemetry", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    started = time.perf_counter()
    pub = publish(port, n, devices, t0)
    done.wait(600)
    pub.wait(60)
    sub.loop_stop()
    sub.disconnect()
    return (last or time.perf_counter()) - min(first or started, started + 10)


def countyos_run(port: int, n: int, devices: int, t0: int, tmp: str) -> tuple[float, int]:
    from ingest_http import prepare_database

    url = f"sqlite:///{tmp}/countyos.db"
    prepare_database(url, devices, 1)
    from countyos.core.db import Database
    from countyos.sensing.bridge import Bridge

    db = Database(url)
    bridge = Bridge(
        db, f"mqtt://127.0.0.1:{port}", client_id="bench-countyos", notify=not os.environ.get("BENCH_NO_NOTIFY")
    )
    bridge.start()
    for _ in range(200):
        if bridge.stats.connected:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    pub = publish(port, n, devices, t0)
    while bridge.stats.received == 0:
        time.sleep(0.001)
    first = time.perf_counter()
    deadline = time.monotonic() + 600
    while bridge.stats.stored + bridge.stats.duplicates + bridge.stats.refused < n and time.monotonic() < deadline:
        time.sleep(0.005)
    elapsed = time.perf_counter() - first
    pub.wait(60)
    stored = bridge.stats.stored
    if os.environ.get("BENCH_DEBUG"):
        print("bridge stats:", bridge.stats)
    bridge.stop()
    db.dispose()
    return elapsed, stored


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="messages (default 100,000)")
    ap.add_argument("--devices", type=int, default=200)
    args = ap.parse_args()
    t0 = int(time.time()) - args.n // args.devices - 120
    with tempfile.TemporaryDirectory(prefix="countyos-mqtt-bench-") as tmp:
        folder = Path(tmp) / "broker"
        folder.mkdir()
        os.chmod(tmp, 0o755)
        port, pid = start_broker(folder)
        try:
            bare = bare_run(port, args.n, args.devices, t0)
            ours, stored = countyos_run(port, args.n, args.devices, t0, tmp)
        finally:
            os.kill(pid, signal.SIGTERM)
    print(f"messages: {args.n:,} single-observation QoS 1 messages from {args.devices} devices via Mosquitto")
    print(f"bare paho -> Mosquitto -> paho : {bare:7.2f} s  {args.n / bare:>10,.0f} msg/s")
    print(f"CountyOS bridge (stored {stored:,}) : {ours:7.2f} s  {args.n / ours:>10,.0f} msg/s")
    print(f"ratio CountyOS / bare: {bare / ours:.2f} (target >= 0.7)")
    return 0 if stored == args.n else 1


if __name__ == "__main__":
    raise SystemExit(main())
