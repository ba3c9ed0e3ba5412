"""The MQTT bridge against a real Mosquitto: device telemetry, the SensorThings MQTT extension,
acknowledgement only after commit (a real SIGKILL under load), reconnection and broker outage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from countyos.sensing.bridge import Bridge
from countyos.sensing.models import Observation
from tests.sensing.broker import Broker, available, free_port, subscribed

pytestmark = pytest.mark.skipif(not available(), reason="needs the mosquitto broker")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker():
    b = Broker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-mqtt-")))
    b.start()
    yield b
    b.stop()


def publisher(port: int, client_id: str = "test-pub") -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def wait_for(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def count(db) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Observation)) or 0)


def test_sensorthings_subscribers_hear_of_creates_updates_and_links(db, client, broker):
    """The STA MQTT extension: a new entity on its collection topic and on its parent's navigation
    topic; an update on the entity's topic and on the topic of each property that changed."""
    from tests.sensing.sta_helpers import machine

    writer = machine(db)
    bridge = Bridge(db, broker.url, client_id="countyos-notify")
    bridge.start()
    got: list[tuple[str, dict]] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sta-watcher", protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: got.append((m.topic, orjson.loads(m.payload)))
    watching = subscribed(sub)
    try:
        assert wait_for(lambda: bridge.stats.connected)
        thing = client.post("/sta/v1.1/Things", json={"name": "门禁", "description": "door"}, headers=writer).json()
        tid = thing["@iot.id"]
        sub.connect("127.0.0.1", broker.port)
        topics = ["v1.1/Things", f"v1.1/Things({tid})", f"v1.1/Things({tid})/name", f"v1.1/Things({tid})/Locations"]
        sub.subscribe([(t, 0) for t in topics])
        sub.loop_start()
        assert watching.wait(10)
        r = client.patch(f"/sta/v1.1/Things({tid})", json={"name": "南门门禁"}, headers=writer)
        assert r.status_code == 200
        r = client.put(f"/sta/v1.1/Things({tid})", json={"name": "南门门禁", "description": "gate"}, headers=writer)
        assert r.status_code == 200
        client.post("/sta/v1.1/Things", json={"name": "北门", "description": ""}, headers=writer)
        loc = {"name": "南门", "description": "", "encodingType": "application/geo+json"}
        loc["location"] = {"type": "Point", "coordinates": [119.27, 28.59]}
        assert client.post(f"/sta/v1.1/Things({tid})/Locations", json=loc, headers=writer).status_code == 201
        # 门禁's own create may still be on its way when the watcher subscribes (a loaded machine)
        heard = lambda: [(t, b) for t, b in got if b.get("name") != "门禁"]  # noqa: E731
        assert wait_for(lambda: len(heard()) >= 6), got
        by_topic: dict[str, list[dict]] = {}
        for topic, body in heard():
            by_topic.setdefault(topic, []).append(body)
        assert [b["name"] for b in by_topic[f"v1.1/Things({tid})"]] == ["南门门禁", "南门门禁"]
        assert by_topic[f"v1.1/Things({tid})"][1]["description"] == "gate"
        assert by_topic[f"v1.1/Things({tid})/name"][0] == {"name": "南门门禁"}
        assert [b["name"] for b in by_topic["v1.1/Things"]] == ["北门"]
        assert [b["name"] for b in by_topic[f"v1.1/Things({tid})/Locations"]] == ["南门"]
    finally:
        sub.loop_stop()
        bridge.stop()


def test_device_topic_and_sensorthings_topics(db, sensors, broker):
    bridge = Bridge(db, broker.url, client_id="countyos-test")
    bridge_listens = subscribed(bridge.client)
    bridge.start()
    try:
        assert bridge_listens.wait(20)
        got: list[tuple[str, dict]] = []
        sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sta-subscriber", protocol=mqtt.MQTTv5)
        sub.on_message = lambda c, u, m: got.append((m.topic, orjson.loads(m.payload)))
        watching = subscribed(sub)
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe(f"v1.1/Datastreams({sensors.level})/Observations", qos=0)
        sub.loop_start()
        assert watching.wait(10)
        pub = publisher(broker.port)
        t = int(time.time()) - 60
        pub.publish(
            "county/wl-0001/telemetry", orjson.dumps({"ts": t, "metrics": {"water_level": 2.5, "battery": 80}}), qos=1
        )
        pub.publish("county/wl-0001/telemetry", orjson.dumps({"ts": t + 60, "water_level": 2.6}), qos=1)
        pub.publish("county/wl-0001/telemetry", orjson.dumps({"ts": t, "water_level": 999}), qos=1)  # refused
        pub.publish("county/nobody/telemetry", b"not json", qos=1)  # refused, still acknowledged
        pub.publish(
            f"v1.1/Datastreams({sensors.level})/Observations",
            orjson.dumps({"phenomenonTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + 30)), "result": 2.55}),
            qos=1,
        )
        pub.publish(
            "v1.1/Observations",
            orjson.dumps(
                {
                    "result": 3,
                    "phenomenonTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + 10)),
                    "Datastream": {"@iot.id": sensors.rainfall},
                    "parameters": {"via": "gateway"},
                }
            ),
            qos=1,
        )
        assert wait_for(lambda: count(db) == 5), count(db)
        assert wait_for(lambda: bridge.stats.refused == 2)
        # With an external broker a subscriber also sees the raw create messages on that topic; the
        # entities CountyOS publishes are the ones with an @iot.id.
        assert wait_for(lambda: len([b for _, b in got if "@iot.id" in b]) >= 3)
        got[:] = [(tp, b) for tp, b in got if "@iot.id" in b]
        topics = {tp for tp, _ in got}
        assert topics == {f"v1.1/Datastreams({sensors.level})/Observations"}
        assert sorted(b["result"] for _, b in got) == [2.5, 2.55, 2.6]
        assert all(b["@iot.selfLink"].endswith(f"Observations({b['@iot.id']})") for _, b in got)
        pub.loop_stop()
        sub.loop_stop()
    finally:
        bridge.stop()


def test_broker_outage_shows_in_health_and_reconnects(db, sensors, broker, app, client):
    bridge = Bridge(db, broker.url, client_id="countyos-outage")
    app.state.health_probes = {"mqtt": bridge.health}
    bridge.start()
    try:
        assert wait_for(lambda: bridge.stats.connected)
        assert client.get("/healthz").json()["checks"]["mqtt"] == "ok"
        broker.stop()
        assert wait_for(lambda: not bridge.stats.connected)
        r = client.get("/healthz")
        assert r.status_code == 503 and "unreachable" in r.json()["checks"]["mqtt"]
        broker.start()
        assert wait_for(lambda: bridge.stats.connected, timeout=90)
        pub = publisher(broker.port, "after-outage")
        pub.publish("county/wl-0001/telemetry", orjson.dumps({"water_level": 1.0}), qos=1)
        assert wait_for(lambda: count(db) == 1)
        assert client.get("/healthz").json()["checks"]["mqtt"] == "ok"
        pub.loop_stop()
    finally:
        bridge.stop()


@pytest.mark.committed  # a separate ingest process writes the observations
def test_sigkill_under_load_loses_no_acknowledged_observation(db, sensors, broker, settings):
    """A separate CountyOS ingest process is killed with SIGKILL while messages stream in; after a
    restart every published observation is stored exactly once."""
    n = 3000
    env = dict(
        os.environ,
        COUNTYOS_DATABASE_URL=settings.database_url,
        COUNTYOS_MQTT_URL=broker.url,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    cmd = [sys.executable, "-m", "countyos.sensing.bridge"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Wait until the bridge's persistent session exists (it receives and stores a first message).
        pub = publisher(broker.port, "load")
        t0 = int(time.time()) - n - 10

        def first_stored() -> bool:  # repeated until the bridge has subscribed (a repeat is idempotent)
            pub.publish("county/wl-0001/telemetry", orjson.dumps({"ts": t0, "water_level": 0.5}), qos=1)
            return wait_for(lambda: count(db) == 1, timeout=0.5)

        assert wait_for(first_stored, timeout=60)
        done = threading.Event()

        sent: list[mqtt.MQTTMessageInfo] = []

        def load() -> None:
            for i in range(1, n):
                payload = orjson.dumps({"ts": t0 + i, "water_level": i % 40})
                sent.append(pub.publish("county/wl-0001/telemetry", payload, qos=1))
                if i % 200 == 0:
                    time.sleep(0.01)  # a device's pace, not a wait
            done.set()

        threading.Thread(target=load, daemon=True).start()
        assert wait_for(lambda: count(db) > n // 5, timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = count(db)
        assert killed_at < n, "the bridge finished before it could be killed; raise n"
        assert done.wait(60)
        for info in sent:  # every message is with the broker before the bridge comes back
            info.wait_for_publish(30)
            assert info.is_published()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: count(db) == n, timeout=60), (killed_at, count(db))
        with db.reading() as s:
            distinct = s.scalar(select(func.count(func.distinct(Observation.phenomenon_us))))
        assert distinct == n
        pub.loop_stop()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
