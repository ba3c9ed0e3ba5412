"""Fixtures of the sensing tests: a river gauge and a rain gauge registered as data, with tokens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from tests.harness import Baseline, Harness
from tests.sensing.sta_world import StaWorld

FACTORY = Actor(id=None, name="factory")

GAUGE = DeviceSpec(
    device_key="wl-0001",
    name="妙高溪水位站",
    device_class="river_gauge",
    lon=119.27,
    lat=28.59,
    expected_interval_s=300,
    metrics=(
        MetricSpec("water_level", "水位", "metre", "m", valid_min=-5, valid_max=50, retention="critical"),
        MetricSpec("battery", "电量", "percent", "%", valid_min=0, valid_max=100),
    ),
)
RAIN = DeviceSpec(
    device_key="rg-0001",
    name="北界雨量站",
    device_class="rain_gauge",
    lon=119.21,
    lat=28.62,
    metrics=(MetricSpec("rain", "降雨量", "millimetre", "mm", valid_min=0, valid_max=500),),
)


@dataclass
class Devices:
    gauge: int
    rain: int
    level: int  # datastream ids
    battery: int
    rainfall: int
    gauge_token: str
    rain_token: str


@pytest.fixture
def sensors(db: Database) -> Devices:
    with db.unit_of_work() as s:
        g = devices.register(s, actor=FACTORY, spec=GAUGE)
        r = devices.register(s, actor=FACTORY, spec=RAIN)
        ds = {d.metric: d.id for d in devices.datastreams_of(s, thing_id=g.id)}
        (rain_ds,) = devices.datastreams_of(s, thing_id=r.id)
        _, gt = devices.issue_token(s, actor=FACTORY, thing_id=g.id, name="gauge")
        _, rt = devices.issue_token(s, actor=FACTORY, thing_id=r.id, name="rain")
        return Devices(g.id, r.id, ds["water_level"], ds["battery"], rain_ds.id, gt, rt)


@pytest.fixture
def sta(db: Database, harness: Harness, sta_world_baseline: Baseline) -> StaWorld:
    """The shared SensorThings world (committed once; this test's changes roll back)."""
    world: StaWorld = harness.value(sta_world_baseline, db=db)
    return world
