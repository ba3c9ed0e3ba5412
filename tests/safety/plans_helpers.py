"""Fixtures of the plans and resources tests: two departments, a river gauge with a water-level
datastream, a case category, and a keeper's actor; a plan body to build on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from countyos.cases.models import CategoryKind
from countyos.cases.service import categories
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.safety.permissions import EMERGENCY_MANAGE, EMERGENCY_READ
from countyos.safety.schemas.plans import PlanBody
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from tests import factories

KEEPER = Actor(id=None, name="keeper", permissions=frozenset({EMERGENCY_READ, EMERGENCY_MANAGE}))
GAUGE = DeviceSpec(
    device_key="gauge-plan-test-01",
    name="测试水位站",
    device_class="river_gauge",
    lon=119.27,
    lat=28.59,
    metrics=(MetricSpec("water_level", "水位", "metre", "m", valid_min=0, valid_max=20),),
)


@dataclass
class World:
    water: int
    emergency: int
    datastream_id: int
    category_code: str


@pytest.fixture
def world(db: Database) -> World:
    water = factories.department(db, "测试水利局")
    emergency = factories.department(db, "测试应急管理局")
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=KEEPER, spec=GAUGE)
        ds = devices.datastreams_of(s, thing_id=thing.id)[0].id
        cat = categories.create(
            s, actor=KEEPER, kind=CategoryKind.LOCAL, code="PLANTEST1", name="测试积水", audit_it=False
        )
    return World(water, emergency, ds, cat.service_code)


def over(value: float, clear: float, seconds: int = 600) -> dict[str, Any]:
    return {
        "type": "duration",
        "seconds": seconds,
        "of": {"type": "threshold", "op": ">", "value": value, "clear": clear},
    }


def body(**changes: Any) -> PlanBody:
    data: dict[str, Any] = {
        "levels": [
            {
                "level": "IV",
                "criteria": "水位超过 4.0 米",
                "triggers": [
                    {
                        "kind": "reading",
                        "device": GAUGE.device_key,
                        "metric": "water_level",
                        "condition": over(4.0, 3.8),
                        "description": "测试水位超过 4.0 米",
                    },
                ],
                "duties": [
                    {"department": "测试水利局", "duty": "加密监测", "deadline_minutes": 60},
                    {"department": "测试应急管理局", "duty": "会商研判", "deadline_minutes": 120},
                ],
            },
            {
                "level": "III",
                "criteria": "水位超过 4.6 米",
                "triggers": [
                    {
                        "kind": "reading",
                        "device": GAUGE.device_key,
                        "metric": "water_level",
                        "condition": over(4.6, 4.4),
                        "description": "测试水位超过 4.6 米",
                    },
                ],
                "duties": [{"department": "测试水利局", "duty": "巡堤查险", "deadline_minutes": 30}],
            },
        ],
        "reports": {"first_minutes": 30, "followup_hours": 6, "final_hours": 72, "to": "市应急管理局"},
    }
    data.update(changes)
    return PlanBody.model_validate(data)
