"""OGC SensorThings API v1.1, conformance class A.7 Create observations via MQTT
(http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation):
an Observation published to ``v1.1/Datastreams(id)/Observations`` or ``v1.1/Observations`` is stored
as if POSTed; a body that a POST would refuse (here: a time without a zone, a wrong type anywhere) is refused
and never stored with a guessed meaning."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from countyos.sensing.bridge import Bridge
from countyos.sensing.models import Observation, ObservationExtra
from tests.sensing.broker import Broker, available, free_port
from tests.sensing.test_mqtt import publisher, wait_for

pytestmark = pytest.mark.skipif(not available(), reason="needs the mosquitto broker")


@pytest.fixture
def mqtt_broker():
    b = Broker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-mqtt-")))
    b.start()
    yield b
    b.stop()


def _iso(t: float, zone: str = "Z") -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + zone


def _stored(db, ds: int) -> list[tuple[float | None, int | None]]:
    with db.reading() as s:
        rows = s.execute(
            select(Observation.result, ObservationExtra.result_time_us)
            .outerjoin(ObservationExtra, ObservationExtra.observation_id == Observation.id)
            .where(Observation.datastream_id == ds)
            .order_by(Observation.phenomenon_us)
        )
        return [(r[0], r[1]) for r in rows]


def test_observations_published_over_mqtt_are_created_or_refused(db, sensors, mqtt_broker):
    bridge = Bridge(db, mqtt_broker.url, client_id="countyos-create")
    bridge.start()
    try:
        assert wait_for(lambda: bridge.stats.connected)
        pub = publisher(mqtt_broker.port, "create-pub")
        t = int(time.time()) - 600
        topic = f"v1.1/Datastreams({sensors.level})/Observations"
        ok = {"phenomenonTime": _iso(t), "result": 2.5, "resultTime": _iso(t + 5)}
        pub.publish(topic, orjson.dumps(ok), qos=1)
        pub.publish(topic, orjson.dumps({"phenomenonTime": _iso(t + 60, ""), "result": 2.6}), qos=1)  # no zone
        pub.publish(topic, orjson.dumps({"phenomenonTime": _iso(t + 120), "result": 2.7, "resultTime": 5}), qos=1)
        pub.publish(topic, orjson.dumps({"phenomenonTime": _iso(t + 150), "result": 2.75, "parameters": [1]}), qos=1)
        pub.publish(
            "v1.1/Observations",
            orjson.dumps({"phenomenonTime": _iso(t + 180), "result": 2.8, "Datastream": {"@iot.id": sensors.level}}),
            qos=1,
        )
        assert wait_for(lambda: bridge.stats.batches >= 1 and bridge.stats.stored + bridge.stats.refused == 5)
        assert (bridge.stats.stored, bridge.stats.refused) == (2, 3)
        assert _stored(db, sensors.level) == [(2.5, (t + 5) * 1_000_000), (2.8, None)]
        pub.loop_stop()
    finally:
        bridge.stop()
