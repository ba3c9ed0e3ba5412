"""SIGKILL of the server at random moments while devices ingest over HTTP and MQTT and staff move
cases through their lifecycle — again and again. After the last restart:

* every observation the server acknowledged over HTTP (200) is stored, once;
* every MQTT message the broker acknowledged (QoS 1) is stored, once (the bridge inside the server
  acknowledges only after commit, so the broker delivers the rest again after the restart);
* every report a posting app sent through Open311 and got a ``service_request_id`` for is a case,
  exactly once per idempotency key (retries after a lost answer included), with its reporter, its
  timeline entry and its audit record — the group-commit writer answers only after the commit;
* every case transition the server confirmed is in the case's timeline at the version it answered,
  and no case is half-changed: its version, its timeline and its audit records agree;
* the audit chain verifies (``countyos audit verify``) and the database is intact.

``COUNTYOS_SCALE=long`` kills the server 25 times instead of 3 (see docs/reliability.md). The
killing of a separate ingest-only bridge process is tested in tests/sensing/test_mqtt.py.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from countyos.cases.models import Case, CaseEvent, Reporter
from countyos.core.clock import utcnow
from countyos.org.models import AuditEvent
from countyos.sensing.models import Observation
from tests.faults.server import SCALE, Server
from tests.security.world import World
from tests.sensing.broker import Broker, available, free_port

KILLS = {"ci": 3, "full": 6, "long": 25}.get(SCALE, 3)
BATCH = 20
CHAIN = [  # (action, who, state after)
    ("accept", "intake", "accepted"),
    ("register", "shift", "registered"),
    ("dispatch", "dispatcher", "dispatched"),
    ("sign", "handler_works", "handling"),
    ("feedback", "handler_works", "feedback"),
    ("send_check", "intake", "checking"),
    ("check_pass", "worker_a", "checked"),
    ("close", "shift", "closed"),
]

pytestmark = pytest.mark.skipif(not available(), reason="needs the mosquitto broker")


@dataclass
class Load:
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)


class HttpIngest(threading.Thread):
    """A gauge posting batches of observations; a batch counts once the server answered 200."""

    def __init__(self, server: Server, token: str, datastream: int, base: int, load: Load) -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.datastream, self.base, self.load = server, token, datastream, base, load
        self.acknowledged: set[int] = set()
        self.sent = 0

    def run(self) -> None:
        client = httpx.Client(timeout=5)
        i = 0
        while not self.load.stop.is_set():
            batch = list(range(i, i + BATCH))
            body = {
                "observations": [{"datastream": self.datastream, "time": self.base + k, "value": k % 40} for k in batch]
            }
            try:
                r = client.post(
                    self.server.url + "/api/v1/sensing/ingest", json=body, headers={"X-Device-Token": self.token}
                )
            except httpx.HTTPError:
                time.sleep(0.05)
                continue  # the same batch again: the (datastream, time) key makes a repeat harmless
            self.sent += 1
            if r.status_code == 200:
                out = r.json()
                if out["stored"] + out["duplicates"] != BATCH:
                    self.load.errors.append(f"ingest answered {out}")
                self.acknowledged.update(batch)
                i += BATCH
            elif r.status_code not in (502, 503):
                self.load.errors.append(f"ingest {r.status_code}: {r.text[:200]}")
                time.sleep(0.05)
        client.close()


class MqttIngest(threading.Thread):
    """A gauge publishing QoS 1 telemetry; a message counts once the broker acknowledged it."""

    def __init__(self, port: int, device: str, base: int, load: Load) -> None:
        super().__init__(daemon=True)
        self.base, self.device, self.load = base, device, load
        self.acknowledged: set[int] = set()
        self.published = 0
        self._mids: dict[int, int] = {}
        self._early: set[int] = set()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fault-gauge", protocol=mqtt.MQTTv5)
        self.client.on_publish = self._on_publish
        self.client.max_inflight_messages_set(200)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, _c, _u, mid, _rc, _p) -> None:
        with self._lock:
            if mid in self._mids:
                self.acknowledged.add(self._mids.pop(mid))
            else:  # acknowledged before publish() returned its mid to us
                self._early.add(mid)

    def run(self) -> None:
        i = 0
        while not self.load.stop.is_set():
            payload = orjson.dumps({"ts": self.base + i, "water_level": i % 40})
            info = self.client.publish(f"county/{self.device}/telemetry", payload, qos=1)
            with self._lock:
                if info.mid in self._early:
                    self._early.discard(info.mid)
                    self.acknowledged.add(i)
                else:
                    self._mids[info.mid] = i
            i += 1
            self.published = i
            time.sleep(0.002)  # a device's pace, not a wait

    def close(self) -> None:
        deadline = time.monotonic() + 30
        while self._mids and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client.loop_stop()
        self.client.disconnect()


class Open311Posting(threading.Thread):
    """A posting app sending reports, each with an idempotency key it reuses until it gets an answer."""

    def __init__(self, server: Server, api_key: str, point: tuple[float, float], load: Load) -> None:
        super().__init__(daemon=True)
        self.server, self.api_key, self.point, self.load = server, api_key, point, load
        self.answered: dict[str, str] = {}  # idempotency key -> service_request_id
        self.sent: set[str] = set()

    def run(self) -> None:
        client = httpx.Client(timeout=5)
        n = 0
        while not self.load.stop.is_set():
            n += 1
            key = f"o311-sigkill-{n:05d}"
            lon, lat = self.point
            form = {"api_key": self.api_key, "service_code": "C01001", "lat": str(lat), "long": str(lon),
                    "description": f"井盖 {key}"}  # fmt: skip
            while not self.load.stop.is_set():
                self.sent.add(key)
                try:
                    r = client.post(
                        self.server.url + "/open311/v2/requests.json", data=form, headers={"Idempotency-Key": key}
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue  # the same key again: a report the server wrote before the kill is not made twice
                if r.status_code == 200:
                    self.answered[key] = r.json()[0]["service_request_id"]
                    break
                if r.status_code not in (502, 503):
                    self.load.errors.append(f"open311 {r.status_code}: {r.text[:200]}")
                    return
                time.sleep(0.05)
        client.close()


class CaseWork(threading.Thread):
    """Staff reporting cases and moving each through its whole lifecycle over the API."""

    def __init__(self, server: Server, tokens: dict[str, str], w: World, name: str, load: Load) -> None:
        super().__init__(daemon=True)
        self.server, self.tokens, self.w, self.name, self.load = server, tokens, w, name, load
        self.confirmed: list[tuple[int, str, int]] = []  # (case id, action, version answered)
        self.cases: list[int] = []
        self.client = httpx.Client(timeout=5)

    def call(self, method: str, path: str, who: str, body: dict | None = None) -> httpx.Response | None:
        try:
            return self.client.request(
                method, self.server.url + path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"}
            )
        except httpx.HTTPError:
            time.sleep(0.05)
            return None

    def current(self, cid: int) -> dict | None:
        r = self.call("GET", f"/api/v1/cases/{cid}", "intake")
        return r.json() if r is not None and r.status_code == 200 else None

    def run(self) -> None:
        n = 0
        while not self.load.stop.is_set():
            n += 1
            key = f"{self.name}-{n:05d}"
            lon, lat = self.w.point_a
            body = {
                "service_code": "C01001",
                "lon": lon,
                "lat": lat,
                "description": f"井盖 {key}",
                "idempotency_key": key,
            }
            r = None
            while r is None or r.status_code not in (200, 201):
                if self.load.stop.is_set():
                    return
                r = self.call("POST", "/api/v1/cases", "worker_a", body)
                if r is not None and r.status_code not in (200, 201, 502, 503):
                    self.load.errors.append(f"report {r.status_code}: {r.text[:200]}")
                    return
            cid, version = r.json()["id"], r.json()["version"]
            self.cases.append(cid)
            for action, who, after in CHAIN:
                while True:
                    r = self.call("POST", f"/api/v1/cases/{cid}/actions", who, {"action": action, "version": version})
                    if r is not None and r.status_code == 200:
                        version = r.json()["version"]
                        self.confirmed.append((cid, action, version))
                        break
                    if r is not None and r.status_code not in (409, 502, 503):
                        self.load.errors.append(f"{action} {r.status_code}: {r.text[:200]}")
                        return
                    seen = self.current(cid)  # lost answer or stale version: look before trying again
                    if seen is None:
                        continue
                    version = seen["version"]
                    if seen["state"] == after:  # applied before the answer was lost
                        break


def audit_verify(url: str) -> subprocess.CompletedProcess[str]:
    from tests.faults.server import ROOT

    env = {"COUNTYOS_DATABASE_URL": url, "PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(ROOT / "src")}
    import os

    env["COUNTYOS_SECRET_KEY"] = os.environ["COUNTYOS_SECRET_KEY"]
    return subprocess.run(
        [str(Path(sys.executable).parent / "countyos"), "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sigkill_at_random_moments_loses_nothing_acknowledged(county):
    w, db = county.world, county.db
    rng = random.Random(331123)
    broker = Broker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-fault-mqtt-")))
    broker.start()
    server = Server(county.url, county.data_dir, mqtt_url=broker.url)
    tokens = {
        who: w.bearer(db, getattr(w, who))["Authorization"][7:]
        for who in ("intake", "shift", "dispatcher", "handler_works", "worker_a")
    }
    now = int(utcnow().timestamp())
    load = Load()
    try:
        server.start()
        # the bridge has subscribed (its persistent session exists from here on) once it stores a probe
        # (a day before the ranges of the load)
        probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fault-probe", protocol=mqtt.MQTTv5)
        probe.connect("127.0.0.1", broker.port)
        probe.loop_start()
        probe_at = now - 4 * 86400

        def probe_stored() -> bool:
            probe.publish("county/sec-wl-01/telemetry", orjson.dumps({"ts": probe_at, "water_level": 1.0}), qos=1)
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                with db.reading() as s:
                    if s.scalar(select(func.count()).where(
                        Observation.datastream_id == w.level, Observation.phenomenon_us == probe_at * 1_000_000
                    )):  # fmt: skip
                        return True
                time.sleep(0.05)
            return False

        deadline = time.monotonic() + 60
        while not probe_stored():
            assert time.monotonic() < deadline, "the server's MQTT bridge stored nothing in 60 s"
        probe.loop_stop()
        probe.disconnect()
        http = HttpIngest(server, w.device_token, w.level, now - 3 * 86400, load)
        mq = MqttIngest(broker.port, "sec-wl-01", now - 2 * 86400, load)
        work = [CaseWork(server, tokens, w, f"staff{k}", load) for k in range(2)]
        app = Open311Posting(server, w.open311_key, w.point_a, load)
        for t in (http, mq, *work, app):
            t.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.5, 2.5))
            server.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            server.start()
        time.sleep(1.5)
        load.stop.set()
        for t in (http, mq, *work, app):
            t.join(30)
        mq.close()
        assert not load.errors, load.errors[:10]

        def stored(lo: int, hi: int) -> set[int]:
            with db.reading() as s:
                rows = s.scalars(
                    select(Observation.phenomenon_us).where(
                        Observation.datastream_id == w.level,
                        Observation.phenomenon_us >= lo * 1_000_000,
                        Observation.phenomenon_us < hi * 1_000_000,
                    )
                )
                return {int(us // 1_000_000) for us in rows}

        http_base, mqtt_base = now - 3 * 86400, now - 2 * 86400
        # the bridge catches up on what the broker kept for it while the server was down
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            missing = {mqtt_base + i for i in mq.acknowledged} - stored(mqtt_base, mqtt_base + 86400)
            if not missing:
                break
            time.sleep(0.5)
        server.stop()

        got_http = stored(http_base, http_base + 86400)
        lost = {http_base + i for i in http.acknowledged} - got_http
        assert not lost, f"{len(lost)} acknowledged HTTP observations are missing"
        lost = {mqtt_base + i for i in mq.acknowledged} - stored(mqtt_base, mqtt_base + 86400)
        assert not lost, f"{len(lost)} acknowledged MQTT messages are missing"
        assert len(http.acknowledged) > 10 * BATCH and len(mq.acknowledged) > 100, "too little load to mean much"
        with db.reading() as s:
            dupes = s.scalar(
                select(func.count()).select_from(Observation).where(Observation.datastream_id == w.level)
            ) - s.scalar(
                select(func.count(func.distinct(Observation.phenomenon_us))).where(Observation.datastream_id == w.level)
            )
            assert dupes == 0

            confirmed = [c for t in work for c in t.confirmed]
            assert len(confirmed) >= 8, "too few confirmed transitions"
            for cid, action, version in confirmed:
                event = s.scalar(select(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == version))
                assert event is not None and event.action == action, (cid, action, version)
            for cid in [c for t in work for c in t.cases]:
                case = s.get(Case, cid)
                events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq)))
                audited = s.scalar(
                    select(func.count()).where(AuditEvent.target_id == case.number, AuditEvent.action.like("case.%"))
                )
                assert [e.seq for e in events] == list(range(1, case.version + 1)), cid  # no gap, nothing extra
                assert audited == case.version, (cid, audited, case.version)
                assert str(events[-1].to_state) == str(case.state), cid
            assert len(app.answered) >= 5, "too few Open311 reports answered"
            posted = {
                c.idempotency_key: c
                for c in s.scalars(select(Case).where(Case.idempotency_key.like("o311:%:o311-sigkill-%")))
            }
            keys = [k.rsplit(":", 1)[1] for k in posted]
            assert len(keys) == len(set(keys)), "an Open311 report was made twice"
            by_key = {k.rsplit(":", 1)[1]: c for k, c in posted.items()}
            for key, number in app.answered.items():
                case = by_key.get(key)
                assert case is not None and case.number == number, (key, number)  # answered, so committed
                events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)))
                assert events and events[0].action == "report", key
                assert s.scalar(
                    select(func.count()).where(AuditEvent.target_id == number, AuditEvent.action == "case.report")
                ) == 1, key  # fmt: skip
                assert s.scalar(select(func.count()).select_from(Reporter).where(Reporter.case_id == case.id)) == 1
            assert set(by_key) <= app.sent  # nothing made that was not sent
        print(
            f"kills={KILLS} http_acked={len(http.acknowledged)} mqtt_acked={len(mq.acknowledged)} "
            f"cases={sum(len(t.cases) for t in work)} transitions_confirmed={len(confirmed)} "
            f"open311_answered={len(app.answered)} open311_written={len(posted)}"
        )
        verify = audit_verify(county.url)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        if county.url.startswith("sqlite"):
            with db.engine.connect() as c:
                assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    except BaseException:
        print(server.log_text())
        raise
    finally:
        load.stop.set()
        server.stop()
        broker.stop()
