"""The MQTT bridge: a broker (Mosquitto, EMQX) set in ``mqtt_url`` → CountyOS, and back.

It subscribes with QoS 1 to

* ``county/{device}/telemetry``: several metrics of one device in one JSON message,
  ``{"ts": 1777622400, "metrics": {"water_level": 1.23, "battery": 87}}`` (or the metrics at the top
  level next to ``ts``); each metric goes to the device's datastream of that name;
* the SensorThings MQTT extension: ``v1.1/Datastreams(id)/Observations`` (and ``v1.1/Observations``
  with a ``Datastream`` in the body) creates an observation.

Messages are acknowledged only after the transaction that stored them has committed (paho's manual
acknowledgement, a persistent session): if the process dies, the broker delivers every message that
was not acknowledged again, and the (datastream, phenomenon time) key makes the repeat harmless. So a
SIGKILL under load loses no acknowledged observation.

New observations are published to ``v1.1/Datastreams(id)/Observations`` (SensorThings subscribers;
the bridge subscribes with "no local", so it never reads its own notifications); entities created
through the SensorThings API also go to their collection topic (``v1.1/Things``, ``v1.1/Observations``…).
With an external broker a subscriber of ``v1.1/Datastreams(id)/Observations`` also receives the raw
messages that devices publish there to create observations; CountyOS's own messages carry ``@iot.id``.
The bridge reconnects with backoff (1 s doubling to 60 s); while the broker is unreachable the health
check says so and ``countyos_mqtt_connected`` is 0.

Run it inside ``countyos serve``/``countyos worker`` (when ``mqtt_url`` is set) or alone:
``python -m countyos.sensing.bridge``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import msgspec
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.sensing import flows
from countyos.sensing.service import ingest, store, streams
from countyos.sensing.service.ingest import ItemError, Prepared, check_time, check_value
from countyos.sensing.service.sta import write as sta_write
from countyos.sensing.service.times import iso, now_us

log = logging.getLogger("countyos.sensing.mqtt")

DEVICE_TOPIC = "county/+/telemetry"
STA_TOPICS = ("v1.1/+/Observations", "v1.1/Observations")
_STA_STREAM = re.compile(r"^v1\.1/(Datastreams|MultiDatastreams)\((\d+)\)/Observations$")
MQTT_ACTOR = Actor(id=None, name="mqtt", permissions=frozenset({"sensing.write"}))
_decode = msgspec.json.Decoder()


@dataclass
class Stats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    batches: int = 0
    connected: bool = False
    since: float = field(default_factory=time.time)
    last_error: str | None = None


class Bridge:
    def __init__(
        self,
        db: Database,
        url: str,
        *,
        client_id: str = "countyos-ingest",
        batch_max: int = 5000,
        notify: bool = True,
        public_url: str = "http://127.0.0.1:8000",
    ) -> None:
        u = urlparse(url)
        if u.scheme not in ("mqtt", "tcp", "mqtts", "ssl"):
            raise ValueError(f"mqtt_url must be mqtt://host:port, not {url}")
        self.db = db
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (8883 if u.scheme in ("mqtts", "ssl") else 1883)
        self.batch_max = batch_max
        self.notify = notify
        self.base = public_url.rstrip("/") + "/sta/v1.1"
        self.stats = Stats()
        self._pending: deque[mqtt.MQTTMessage] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        if u.username:
            c.username_pw_set(u.username, u.password)
        if u.scheme in ("mqtts", "ssl"):
            c.tls_set()
        c.reconnect_delay_set(min_delay=1, max_delay=60)
        c.max_inflight_messages_set(1000)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    # --- life cycle -----------------------------------------------------------------------------
    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 7 * 86400  # the broker keeps unacknowledged messages a week
        props.ReceiveMaximum = 20000  # how many unacknowledged messages may be in flight to us
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._writer, name="countyos-mqtt-writer", daemon=True)
        self._thread.start()
        if self.notify:
            flows.add_notifier(self._notify_created)

    def stop(self) -> None:
        flows.remove_notifier(self._notify_created)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self.client.disconnect()
        self.client.loop_stop()

    def health(self) -> str:
        if self.stats.connected:
            return "ok"
        return f"error: MQTT broker {self.host}:{self.port} unreachable ({self.stats.last_error or 'connecting'})"

    # --- paho callbacks (network thread: do as little as possible) -------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.stats.last_error = str(reason)
            return
        self.stats.connected = True
        self.stats.since = time.time()
        opts = SubscribeOptions(qos=1, noLocal=True)
        client.subscribe([(DEVICE_TOPIC, opts), *[(t, opts) for t in STA_TOPICS]])
        log.info("connected to MQTT broker %s:%s", self.host, self.port)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.stats.connected = False
        self.stats.since = time.time()
        self.stats.last_error = str(reason)
        log.warning("MQTT broker %s:%s disconnected: %s", self.host, self.port, reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._pending.append(msg)
        self.stats.received += 1
        if len(self._pending) == 1 or len(self._pending) >= self.batch_max:
            self._wake.set()

    # --- writer thread --------------------------------------------------------------------------
    def _writer(self) -> None:
        backoff = 0.5
        batch: list[mqtt.MQTTMessage] = []
        while not self._stop.is_set():
            if not batch:
                self._wake.wait(0.2)
                self._wake.clear()
                while self._pending and len(batch) < self.batch_max:
                    batch.append(self._pending.popleft())
                if not batch:
                    continue
            try:
                self.process(batch)
            except Exception as exc:  # the database is down or full: keep the batch, retry, ack nothing
                self.stats.last_error = f"storing failed: {type(exc).__name__}: {exc}"
                log.exception("storing an MQTT batch failed; retrying in %.1f s", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30)
                continue
            backoff = 0.5
            for msg in batch:
                if msg.qos > 0:
                    self.client.ack(msg.mid, msg.qos)
            batch = []

    def process(self, batch: list[mqtt.MQTTMessage]) -> None:
        """Store one batch in one transaction (commits; the caller acknowledges afterwards)."""
        now = now_us()
        with store.paused_gc(), self.db.unit_of_work() as session:
            prepared = Prepared()
            slow: list[tuple[str, int | None, dict[str, Any]]] = []
            for msg in batch:
                topic = msg.topic
                try:
                    body = _decode.decode(msg.payload)
                except (msgspec.DecodeError, RecursionError):  # a poison message is refused, never retried
                    prepared.errors.append(ItemError(topic, "bad_item", "not JSON"))
                    continue
                if not isinstance(body, dict):
                    prepared.errors.append(ItemError(topic, "bad_item", "not a JSON object"))
                    continue
                if topic.startswith("county/"):
                    self._device_message(session, topic, body, prepared, now)
                else:
                    m = _STA_STREAM.match(topic)
                    if m is not None:
                        kind, sid = m.group(1), int(m.group(2))
                        if kind == "Datastreams" and self._fast_sta(session, sid, body, prepared, now):
                            continue
                        slow.append((kind, sid, body))
                    elif topic == "v1.1/Observations":
                        slow.append(("", None, body))
            outcome = flows.ingest(session, prepared, now=now)
            created: list[tuple[str, int]] = []
            if slow:
                writer = sta_write.Writer(session, MQTT_ACTOR)
                for kind, stream_id, obs_body in slow:
                    if stream_id is not None:
                        obs_body = {**obs_body, kind[:-1]: {"@iot.id": stream_id}}
                    try:
                        with session.begin_nested():
                            writer.create_observation(obs_body)
                    except (sta_write.StaInvalid, sta_write.StaMissing, sta_write.StaConflict) as exc:
                        outcome.errors.append(ItemError(kind or "v1.1/Observations", "bad_item", str(exc)))
                created = writer.created
            rows = outcome.new_rows() if self.notify and outcome.stored else []
            if slow:
                flows.after_sta_write(session, created if self.notify else [], writer.batches)
        if rows:
            self._publish_rows(rows)  # after the commit: subscribers never see what was rolled back
        self.stats.batches += 1
        self.stats.stored += outcome.stored + len(created)
        self.stats.duplicates += outcome.duplicates
        self.stats.refused += len(outcome.errors)

    def _device_message(self, session: Any, topic: str, body: dict[str, Any], out: Prepared, now: int) -> None:
        device = topic.split("/")[1]
        ts = body.get("ts", body.get("time"))
        t = check_time(ts, now) if ts is not None else now
        if isinstance(t, str):
            out.errors.append(ItemError(topic, t))
            return
        metrics = body.get("metrics")
        if not isinstance(metrics, dict):
            metrics = {k: v for k, v in body.items() if k not in ("ts", "time", "device")}
        for metric, value in metrics.items():
            info = streams.by_key(session, device, metric)
            if info is None:
                out.errors.append(ItemError(f"{topic}:{metric}", "unknown_datastream"))
                continue
            bad = check_value(info, value)
            if bad:
                out.errors.append(ItemError(f"{topic}:{metric}", bad))
                continue
            out.datastream_ids.append(info.id)
            out.times.append(t)
            out.values.append(float(value))
            out.things.add(info.thing_id)

    def _fast_sta(self, session: Any, sid: int, body: dict[str, Any], out: Prepared, now: int) -> bool:
        """An observation with only phenomenonTime and a numeric result takes the bulk path."""
        if set(body) - {"phenomenonTime", "result"}:
            return False
        result = body.get("result")
        if isinstance(result, bool) or not isinstance(result, int | float):
            return False
        info = streams.by_id(session, sid)
        if info is None:
            return False
        pt = body.get("phenomenonTime")
        t = check_time(pt, now) if isinstance(pt, str) and "/" not in pt else (now if pt is None else None)
        if t is None or isinstance(t, str):
            return False
        bad = check_value(info, result)
        if bad:
            out.errors.append(ItemError(f"v1.1/Datastreams({sid})/Observations", bad))
            return True
        out.datastream_ids.append(sid)
        out.times.append(t)
        out.values.append(float(result))
        out.things.add(info.thing_id)
        return True

    # --- notifications --------------------------------------------------------------------------
    def _publish_rows(self, rows: list[tuple[int, int, int, float]]) -> None:
        for oid, ds, t, v in rows:
            payload = orjson.dumps(
                {
                    "@iot.id": oid,
                    "@iot.selfLink": f"{self.base}/Observations({oid})",
                    "phenomenonTime": iso(t),
                    "result": v,
                    "resultTime": None,
                    "Datastream@iot.navigationLink": f"{self.base}/Observations({oid})/Datastream",
                }
            )
            self.client.publish(f"v1.1/Datastreams({ds})/Observations", payload, qos=0)

    def _notify_created(
        self, created: list[tuple[str, int]], updated: list[tuple[str, int, list[str]]] | None = None
    ) -> None:
        """After a SensorThings write commits (the STA MQTT extension): a new entity goes to its
        collection topic (``v1.1/Things``) and to the navigation topics of the entities it belongs to
        (``v1.1/Things(1)/Datastreams``); a changed entity goes to its own topic (``v1.1/Things(1)``)
        and each changed property to its property topic (``v1.1/Things(1)/name``)."""
        from sqlalchemy import literal

        from countyos.sensing.service.sta import entities as E
        from countyos.sensing.service.sta import read as R
        from countyos.sensing.service.sta.query import Options

        with self.db.reading() as s:
            ctx = R.Ctx(s, self.base, s.get_bind().dialect.name)
            for plural, rid in created:
                try:
                    body = R.read_entity(ctx, R.resolve(f"{plural}({rid})"), Options())
                except R.StaNotFound:
                    continue
                payload = orjson.dumps(body)
                self.client.publish(f"v1.1/{plural}", payload, qos=0)
                for parent in E.ENTITIES.values():
                    for nav_name, nav in parent.navs.items():
                        if not nav.many or nav.target != plural:
                            continue
                        p, c = parent.alias(), E.ENTITIES[plural].alias()
                        link = select(literal(1)).select_from(c).where(c.id == rid, nav.link(p, c)).exists()
                        for pid in s.scalars(select(p.id).where(link)):
                            self.client.publish(f"v1.1/{parent.plural}({pid})/{nav_name}", payload, qos=0)
            for plural, rid, fields in updated or []:
                try:
                    body = R.read_entity(ctx, R.resolve(f"{plural}({rid})"), Options())
                except R.StaNotFound:
                    continue
                self.client.publish(f"v1.1/{plural}({rid})", orjson.dumps(body), qos=0)
                for name in fields:
                    if name in body:
                        self.client.publish(f"v1.1/{plural}({rid})/{name}", orjson.dumps({name: body[name]}), qos=0)


# --- one bridge per process -----------------------------------------------------------------------

_running: Bridge | None = None
_lock = threading.Lock()


def ensure_running(db: Database, url: str, **kwargs: Any) -> Bridge:
    global _running
    with _lock:
        if _running is None:
            _running = Bridge(db, url, **kwargs)
            _running.start()
        return _running


def running() -> Bridge | None:
    return _running


def stop_running() -> None:
    global _running
    with _lock:
        if _running is not None:
            _running.stop()
            _running = None


def main() -> None:
    """``python -m countyos.sensing.bridge``: the ingest process on its own."""
    import signal

    from countyos.core.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if not settings.mqtt_url:
        raise SystemExit("Set COUNTYOS_MQTT_URL (e.g. mqtt://127.0.0.1:1883).")
    db = Database(settings.database_url)
    bridge = ensure_running(db, settings.mqtt_url, public_url=settings.public_url)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(5):
        s = bridge.stats
        log.info("received %s stored %s duplicates %s refused %s", s.received, s.stored, s.duplicates, s.refused)
    stop_running()
    db.dispose()


if __name__ == "__main__":
    main()


__all__ = ["Bridge", "ingest"]
