"""The demo county's sensing part: devices with weeks of history, rules, accounts; the simulator's
scheduled flood wave raises the flood alarm, which opens a case."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import func, select

from countyos.cases.models import Case
from countyos.cases.service import categories, location
from countyos.core.demo import DemoContext
from countyos.sensing import flows, signals
from countyos.sensing.demo import MACHINE, MACHINE_PASSWORD
from countyos.sensing.demo import load as load_demo
from countyos.sensing.models import Alarm, AlarmKind, Datastream, Observation, RollupDay, Rule, Thing
from countyos.sensing.service.ingest import Prepared
from countyos.sensing.service.times import MINUTE_US, now_us
from tests.cases.conftest import fake_locate
from tests.sensing.conftest import FACTORY

Ctx = DemoContext  # what `countyos demo` gives every domain's loader


@pytest.fixture(autouse=True)
def _fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield


def test_demo_devices_history_rules_and_the_scheduled_flood(db, client):
    ctx = Ctx()
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=FACTORY)
        load_demo(s, ctx)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Thing)) == sum(signals.COUNTS.values()) + 1
        n = s.scalar(select(func.count()).select_from(Observation))
        assert n > 100_000
        assert s.scalar(select(func.count()).select_from(RollupDay)) > 500
        assert s.scalar(select(func.count()).select_from(Rule)) == 5
    assert any("Bearer" in note for note in ctx.notes) and any(a[0] == MACHINE for a in ctx.accounts)
    basic = {"Authorization": "Basic " + base64.b64encode(f"{MACHINE}:{MACHINE_PASSWORD}".encode()).decode()}
    r = client.post("/sta/v1.1/Things", json={"name": "demo client thing"}, headers=basic)
    assert r.status_code == 201
    with db.unit_of_work() as s:
        offline = flows.health_sweep(s)
        kinds = {s.get(Alarm, a).kind for a in offline}
        assert kinds == {AlarmKind.OFFLINE}  # the cover that fell silent two days ago
    # The simulator's flood wave on river_gauge-01, minute by minute over one anomaly period.
    with db.unit_of_work() as s:
        (ds,) = s.scalars(
            select(Datastream.id)
            .join(Thing)
            .where(Thing.device_key == "river_gauge-01", Datastream.metric == "water_level")
        )
        # Two hours: one whole wave is inside whatever the minute of the hour is (the wave starts at
        # every full hour; one hour back from, say, 15:13 holds only the first 13 minutes of it).
        start = now_us() // MINUTE_US * MINUTE_US - 120 * MINUTE_US
        t = np.arange(start + 30_000_000, start + 120 * MINUTE_US, MINUTE_US, dtype=np.int64)
        wave = signals.with_anomalies("river_gauge-01", "water_level", t, np.full(len(t), 1.5))
        prepared = Prepared(datastream_ids=[ds] * len(t), times=t.tolist(), values=wave.tolist(), things={1})
        out = flows.ingest(s, prepared)
        assert out.stored == len(t) and out.alarms
    with db.reading() as s:
        flood = s.scalars(select(Alarm).where(Alarm.kind == AlarmKind.RULE, Alarm.datastream_id == ds)).all()
        assert any(a.severity == "critical" and a.case_id for a in flood), [(a.severity, a.case_error) for a in flood]
        assert s.scalar(select(func.count()).select_from(Case)) >= 1
