"""Fixtures of the tourism tests: a gate counter (entries, exits) registered as data with its device
token, a scenic spot counted by it and managed by a scenic_manager, and helpers to post counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from countyos.cases.service import location
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from countyos.village.models.tourism import ALevel
from countyos.village.schemas.tourism import CounterIn, SpotIn
from countyos.village.service import tourism, tourism_flow
from tests.cases.conftest import fake_locate
from tests.factories import Person, person
from tests.sensing.conftest import FACTORY

INGEST = "/api/v1/sensing/ingest"
GATE = DeviceSpec(
    device_key="gate-test-01",
    name="测试景区闸机",
    device_class="gate_counter",
    lon=119.27,
    lat=28.59,
    expected_interval_s=600,
    metrics=(
        MetricSpec("entries", "入园人数", "persons", "人", valid_min=0, valid_max=20000),
        MetricSpec("exits", "出园人数", "persons", "人", valid_min=0, valid_max=20000),
    ),
)


@dataclass
class Gate:
    spot_id: int
    thing_id: int
    entries: int  # datastream ids
    exits: int
    token: str
    manager: Person


@pytest.fixture
def fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield


@pytest.fixture
def gate(db: Database) -> Gate:
    manager = person(db, ["scenic_manager"])
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=FACTORY, spec=GATE)
        ds = {d.metric: d.id for d in devices.datastreams_of(s, thing_id=thing.id)}
        _, token = devices.issue_token(s, actor=FACTORY, thing_id=thing.id, name="gate")
        spot = tourism.create_spot(
            s,
            actor=FACTORY,
            data=SpotIn(
                name="测试峡谷",
                a_level=ALevel.A4,
                lon=119.27,
                lat=28.59,
                capacity_instant=100,
                capacity_daily=1000,
                manager_id=manager.id,
            ),
        )
        tourism.attach_counter(
            s,
            actor=FACTORY,
            spot_id=spot.id,
            data=CounterIn(entry_datastream_id=ds["entries"], exit_datastream_id=ds["exits"]),
        )
        return Gate(spot.id, thing.id, ds["entries"], ds["exits"], token, manager)


def slots(n: int, now: datetime | None = None) -> list[datetime]:
    """N distinct times inside today's local day, all before (or at most a minute after) now, 10 s apart."""
    now = (now or utcnow()).replace(microsecond=0)
    start, _ = tourism_flow.day_bounds(tourism_flow.local_day(now))
    base = max(start + timedelta(seconds=1), now - timedelta(minutes=30))
    return [base + timedelta(seconds=10 * i) for i in range(n)]


def ingest(client, gate: Gate, items: list[tuple[str, datetime, float]]) -> dict:
    body = {
        "observations": [
            {"device": GATE.device_key, "metric": metric, "time": at.isoformat(), "value": value}
            for metric, at, value in items
        ]
    }
    r = client.post(INGEST, json=body, headers={"X-Device-Token": gate.token})
    assert r.status_code == 200, r.text
    out: dict = r.json()
    return out
