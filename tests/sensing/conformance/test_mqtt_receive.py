"""OGC SensorThings API v1.1, conformance class A.8 Receive updates via MQTT
(http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates): a client
subscribed to an entity set, an entity or a property hears of what the HTTP API created or changed,
after the commit, and never of a write that was refused."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from countyos.sensing.bridge import Bridge
from tests.sensing.broker import Broker, available, free_port
from tests.sensing.sta_helpers import machine
from tests.sensing.test_mqtt import wait_for

pytestmark = pytest.mark.skipif(not available(), reason="needs the mosquitto broker")
STA = "/sta/v1.1"


@pytest.fixture
def mqtt_broker():
    b = Broker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-mqtt-")))
    b.start()
    yield b
    b.stop()


def test_subscribers_hear_of_creates_and_updates_but_not_of_refused_writes(db, client, mqtt_broker):
    writer = machine(db)
    bridge = Bridge(db, mqtt_broker.url, client_id="countyos-receive")
    bridge.start()
    got: list[tuple[str, dict]] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sta-receiver", protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: got.append((m.topic, orjson.loads(m.payload)))
    try:
        assert wait_for(lambda: bridge.stats.connected)
        sub.connect("127.0.0.1", mqtt_broker.port)
        sub.subscribe("v1.1/Things", qos=0)
        sub.loop_start()
        time.sleep(0.5)
        r = client.post(f"{STA}/Things", json={"name": "闸门", "description": "gate"}, headers=writer)
        assert r.status_code == 201
        tid = r.json()["@iot.id"]
        assert client.post(f"{STA}/Things", json={"name": {"zh": "坏"}}, headers=writer).status_code == 400
        sub.subscribe(f"v1.1/Things({tid})/description", qos=0)
        time.sleep(0.5)
        assert client.patch(f"{STA}/Things({tid})", json={"description": "sluice"}, headers=writer).status_code == 200
        assert client.patch(f"{STA}/Things({tid})", json={"name": None}, headers=writer).status_code == 400
        assert wait_for(lambda: len(got) >= 2)
        time.sleep(0.5)  # anything published for the refused writes would have arrived by now
        assert [(tp, b.get("@iot.id"), b.get("name"), b.get("description")) for tp, b in got] == [
            ("v1.1/Things", tid, "闸门", "gate"),
            (f"v1.1/Things({tid})/description", None, None, "sluice"),
        ]
    finally:
        sub.loop_stop()
        bridge.stop()
