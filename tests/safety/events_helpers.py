"""Fixtures of the events tests: a river gauge with a datastream, three departments with their people, and a
flood plan published straight into the plan tables (IV: water level > 3.0 m, III: > 4.0 m; sensing
rules and PlanRule rows made here as publishing does)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.safety.models.plans import Plan, PlanRule, PlanState, PlanType, PlanVersion, ResponseLevel, VersionState
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ, TASK
from countyos.sensing.service import devices, rules
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from tests import factories

FACTORY = Actor(id=None, name="factory")

GAUGE = DeviceSpec(
    device_key="ev-gauge-01",
    name="演练水位站",
    device_class="river_gauge",
    lon=119.27,
    lat=28.59,
    expected_interval_s=300,
    metrics=(MetricSpec("water_level", "水位", "metre", "m", valid_min=-5, valid_max=50, retention="critical"),),
)


@dataclass
class Drill:
    plan_id: int
    version_id: int
    level_ds: int
    water: int  # departments
    police: int
    town: int
    commander: factories.Person
    water_handler: factories.Person
    police_handler: factories.Person
    machine: dict[str, str]  # the posting device account's Basic header

    def actor(self, p: factories.Person, dept: int | None, perms: set[str]) -> Actor:
        return Actor(id=p.id, name=p.username, permissions=frozenset(perms), department_id=dept)

    def water_actor(self) -> Actor:
        return self.actor(self.water_handler, self.water, {TASK})

    def command_actor(self) -> Actor:
        return self.actor(self.commander, None, {EMERGENCY_READ, EMERGENCY_COMMAND, TASK})


def body(case_category: str | None = None) -> dict[str, Any]:
    iv_triggers: list[dict[str, Any]] = [
        {
            "kind": "reading",
            "device": GAUGE.device_key,
            "metric": "water_level",
            "condition": {"type": "threshold", "op": ">", "value": 3.0, "clear": 2.8},
            "description": "水位超过警戒水位 3.0 m",
        }
    ]
    if case_category:
        iv_triggers.append({"kind": "case", "category": case_category, "description": "积水内涝上报"})
    return {
        "levels": [
            {
                "level": "IV",
                "criteria": "水位超过 3.0 m",
                "triggers": iv_triggers,
                "duties": [
                    {"department": "演练水利局", "duty": "加密水情监测，每小时报告", "deadline_minutes": 30},
                    {"department": "演练大柘镇", "duty": "巡查沿河低洼地带", "deadline_minutes": 60},
                ],
            },
            {
                "level": "III",
                "criteria": "水位超过 4.0 m",
                "triggers": [
                    {
                        "kind": "reading",
                        "device": GAUGE.device_key,
                        "metric": "water_level",
                        "condition": {"type": "threshold", "op": ">", "value": 4.0, "clear": 3.8},
                    }
                ],
                "duties": [
                    {"department": "演练公安局", "duty": "封闭漫水路段，疏导交通", "deadline_minutes": 20},
                    {"department": "演练大柘镇", "duty": "转移沿河群众", "deadline_minutes": 45},
                ],
            },
        ],
        "reports": {"first_minutes": 30, "followup_hours": 6, "final_hours": 72, "to": "市应急管理局"},
    }


def publish(db: Database, *, code: str = "DRILL-FX", case_category: str | None = None) -> tuple[int, int, int]:
    """Register the gauge, write the plan and its published version, make the rules and PlanRule rows.
    Returns (plan id, version id, water-level datastream id)."""
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=FACTORY, spec=GAUGE)
        (ds,) = [d for d in devices.datastreams_of(s, thing_id=thing.id) if d.metric == "water_level"]
        data = body(case_category)
        plan = Plan(code=code, name="演练防汛预案", type=PlanType.FLOOD, state=PlanState.ACTIVE)
        s.add(plan)
        s.flush()
        version = PlanVersion(plan_id=plan.id, number=1, state=VersionState.PUBLISHED, body=data, published_at=utcnow())
        s.add(version)
        s.flush()
        plan.current_version_id = version.id
        for spec in data["levels"]:
            for i, trig in enumerate(spec["triggers"]):
                if trig["kind"] != "reading":
                    continue
                rule = rules.save(
                    s,
                    actor=FACTORY,
                    data={
                        "name": f"演练防汛预案 · {spec['level']}",
                        "severity": "major",
                        "datastream_id": ds.id,
                        "condition": trig["condition"],
                        "dedupe_seconds": 1800,
                    },
                )
                s.add(PlanRule(plan_id=plan.id, version_id=version.id, level=ResponseLevel(spec["level"]),
                               trigger_index=i, rule_id=rule.id))  # fmt: skip
        s.flush()
        return plan.id, version.id, ds.id


@pytest.fixture
def drill(db: Database) -> Drill:
    water = factories.department(db, "演练水利局")
    police = factories.department(db, "演练公安局")
    town = factories.department(db, "演练大柘镇")
    plan_id, version_id, ds = publish(db)
    commander = factories.person(db, ["emergency_officer"])
    water_handler = factories.person(db, ["handler"], department_id=water)
    police_handler = factories.person(db, ["handler"], department_id=police)
    device = factories.person(db, ["data_admin"], is_machine=True)
    header = {"Authorization": "Basic " + base64.b64encode(f"{device.username}:{device.password}".encode()).decode()}
    return Drill(plan_id, version_id, ds, water, police, town, commander, water_handler, police_handler, header)


def readings(ds: int, values: list[float], *, start_minutes_ago: int) -> list[dict[str, Any]]:
    """A CreateObservations body: one value a minute from START_MINUTES_AGO."""
    t0 = utcnow() - timedelta(minutes=start_minutes_ago)
    rows = [
        [(t0 + timedelta(minutes=i)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), v] for i, v in enumerate(values)
    ]
    return [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"], "dataArray": rows}]


def api_headers(db: Database, p: factories.Person, scopes: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {factories.token_for(db, p, scopes)}"}


def at(minutes_ago: int) -> datetime:
    return utcnow() - timedelta(minutes=minutes_ago)
