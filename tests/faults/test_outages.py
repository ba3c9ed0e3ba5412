"""Outages of the services CountyOS depends on, while devices keep sending:

* the MQTT broker stops and comes back: the server says so in /healthz and /metrics, reconnects by
  itself and stores every message the broker acknowledged (a broker with persistence, as a county
  runs it);
* PostgreSQL restarts under load: requests during the outage get a clear 503, /healthz reports it,
  /metrics counts it, the server reconnects by itself (no restart) and every observation it
  acknowledged is stored.

The PostgreSQL test runs its own PostgreSQL 15 instance (initdb in a temporary folder) so that the
restart does not cut the connections of the test run itself or of anything else on the machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from countyos import domains
from countyos.core import migrate
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.org import flows
from countyos.sensing.models import Observation
from tests.faults.server import Server, free_port
from tests.faults.test_sigkill import HttpIngest, Load, MqttIngest
from tests.security.world import build
from tests.sensing.broker import Broker, available

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PersistentBroker(Broker):
    """Mosquitto keeping sessions and queued messages on disk across a restart (as a county runs it)."""

    def persistence(self) -> str:
        return f"persistence true\npersistence_location {self.folder}/\nautosave_interval 1\n"


def metric(server: Server, token: str, name: str) -> list[tuple[str, float]]:
    r = httpx.get(server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200, r.text
    return [(m.group(1) or "", float(m.group(2))) for m in re.finditer(rf"^{name}(\{{[^}}]*\}})? (\S+)$", r.text, re.M)]


def health(server: Server) -> tuple[int, dict]:
    r = httpx.get(server.url + "/healthz", timeout=5)
    return r.status_code, r.json()


def wait(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def stored_times(db: Database, datastream: int, lo: int, hi: int) -> set[int]:
    with db.reading() as s:
        rows = s.scalars(
            select(Observation.phenomenon_us).where(
                Observation.datastream_id == datastream,
                Observation.phenomenon_us >= lo * 1_000_000,
                Observation.phenomenon_us < hi * 1_000_000,
            )
        )
        return {int(us // 1_000_000) for us in rows}


@pytest.mark.skipif(not available(), reason="needs the mosquitto broker")
def test_broker_outage_during_ingest(county):
    w, db = county.world, county.db
    broker = PersistentBroker(free_port(), Path(tempfile.mkdtemp(prefix="countyos-outage-mqtt-")))
    broker.start()
    server = Server(county.url, county.data_dir, mqtt_url=broker.url)
    admin = w.bearer(db, w.sysadmin)["Authorization"][7:]
    base = int(utcnow().timestamp()) - 86400
    load = Load()
    try:
        server.start()
        assert wait(lambda: health(server)[1]["checks"].get("mqtt") == "ok", 30), health(server)
        mq = MqttIngest(broker.port, "sec-wl-01", base, load)
        mq.start()
        assert wait(lambda: len(mq.acknowledged) > 200, 30)
        broker.stop()
        assert wait(lambda: health(server)[0] == 503, 30), health(server)
        _status, body = health(server)
        assert body["status"] == "degraded" and body["checks"]["database"] == "ok"
        assert "unreachable" in body["checks"]["mqtt"]
        assert metric(server, admin, "countyos_mqtt_connected") == [("", 0.0)]
        during = mq.published
        assert wait(lambda: mq.published >= during + 100, 30)  # the device keeps publishing into its queue
        broker.start()
        assert wait(lambda: health(server)[0] == 200, 120), health(server)
        assert metric(server, admin, "countyos_mqtt_connected") == [("", 1.0)]
        after = len(mq.acknowledged)
        assert wait(lambda: len(mq.acknowledged) >= after + 100, 30)  # and goes on after the outage
        load.stop.set()
        mq.join(10)
        mq.close()
        acked = {base + i for i in mq.acknowledged}
        assert wait(lambda: not acked - stored_times(db, w.level, base, base + 86400), 60), (
            f"{len(acked - stored_times(db, w.level, base, base + 86400))} acknowledged messages missing"
        )
    except BaseException:
        print(server.log_text())
        raise
    finally:
        load.stop.set()
        server.stop()
        broker.stop()


# --- PostgreSQL ---------------------------------------------------------------------------------


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster owned by the postgres user, on a free loopback port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="countyos-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"

    def pg(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.pg(str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self.pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.mark.postgres_only
@pytest.mark.skipif(os.geteuid() != 0 or not (PG_BIN / "initdb").exists(), reason="needs root and PostgreSQL 15")
def test_postgresql_restart_under_load():
    pg = PrivatePostgres()
    pg.init()
    data_dir = Path(tempfile.mkdtemp(prefix="countyos-outage-pg-"))
    server = None
    load = Load()
    try:
        admin_engine = create_engine(pg.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin_engine.connect() as c:
            c.execute(text("CREATE DATABASE county"))
        admin_engine.dispose()
        ext = create_engine(pg.url("county"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with ext.connect() as c:
            c.execute(text("CREATE EXTENSION postgis"))
        ext.dispose()
        url = pg.url("county")
        migrate.upgrade(url)
        db = Database(url)
        with db.unit_of_work() as s:
            flows.bootstrap(
                s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
            )
        w = build(db)
        admin = w.bearer(db, w.sysadmin)["Authorization"][7:]
        server = Server(url, data_dir)
        server.start()
        base = int(utcnow().timestamp()) - 86400
        http = HttpIngest(server, w.device_token, w.level, base, load)
        http.start()
        assert wait(lambda: len(http.acknowledged) >= 200, 60)
        db.dispose()
        pg.stop()
        refused = []

        def outage_seen() -> bool:
            status, body = health(server)
            refused.append(status)
            return status == 503 and body["checks"]["database"].startswith("error")

        assert wait(outage_seen, 30), refused
        r = httpx.post(
            server.url + "/api/v1/sensing/ingest",
            json={"observations": [{"datastream": w.level, "time": base - 5, "value": 1.0}]},
            headers={"X-Device-Token": w.device_token},
            timeout=10,
        )
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "service_unavailable"
        during = http.sent
        assert wait(lambda: http.sent >= during + 5, 30)  # the gauge keeps trying through the outage
        pg.start()
        assert wait(lambda: health(server)[0] == 200, 60), health(server)  # reconnected by itself
        before = len(http.acknowledged)
        assert wait(lambda: len(http.acknowledged) > before + 100, 60), "ingest did not resume"
        load.stop.set()
        http.join(15)
        failures = sum(
            v
            for labels, v in metric(server, admin, "countyos_http_requests_total")
            if 'status="503"' in labels and "/ingest" in labels
        )
        assert failures >= 1, "the outage is not in /metrics"
        got = stored_times(db, w.level, base, base + 86400)
        lost = {base + i for i in http.acknowledged} - got
        assert not lost, f"{len(lost)} acknowledged observations are missing"
        assert base - 5 not in stored_times(db, w.level, base - 10, base)  # the refused one left no trace
        with db.reading() as s:
            assert s.scalar(select(func.count()).select_from(Observation)) == len(got)
        db.dispose()
    except BaseException:
        if server is not None:
            print(server.log_text())
        raise
    finally:
        load.stop.set()
        if server is not None:
            server.stop()
        pg.destroy()
