"""Fixtures of the ioc tests: a county (real packaged divisions) with a generated history of cases,
devices, alarms and components whose every field is known, so tests can check the indicators
against a count made independently in Python."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import select, text

from countyos.cases.models import Case, Channel, DispatchRecord
from countyos.cases.service import categories
from countyos.core.commitorder import HORIZON_SQL
from countyos.core.db import Database
from countyos.geo.models import Component, ComponentStatus, Division, DivisionLevel
from countyos.geo.service import divisions
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmState, Datastream, Health, Severity, Thing
from countyos.sensing.models import Rule as AlarmRule
from countyos.sensing.service import devices, streams
from tests.cases.conftest import BASELINE as CASES
from tests.cases.conftest import FACTORY, World, world  # noqa: F401  (the fixture is used by ioc tests)
from tests.harness import Baseline, Harness

NOW = datetime(2026, 3, 18, 6, 30, tzinfo=UTC)  # 14:30 in 遂昌, a Wednesday
SUICHANG = "331123"
OPEN_STATES = ["reported", "accepted", "registered", "dispatched", "handling", "suspended", "feedback", "checking"]


@dataclass
class History:
    world: World
    townships: list[str]
    cases: list[Case] = field(default_factory=list)  # detached copies with every field
    things: dict[int, str] = field(default_factory=dict)  # thing id → township code
    alarms: list[Alarm] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    alarm_category: str = ""  # service code the alarm rule raises cases of
    rule_id: int = 0
    watched: set[int] = field(default_factory=set)  # things the rule watches (the category's devices)


def _case(rng: random.Random, w: World, n: int, towns: list[str], cats: list[int]) -> dict:
    reported = NOW - timedelta(minutes=rng.randint(0, 45 * 24 * 60))
    town = rng.choice(towns)
    fate = rng.choices(["open", "closed", "voided", "rejected", "merged"], [45, 40, 5, 5, 5])[0]
    dep = rng.choice([w.works, w.enforcement, None])
    c = dict(
        channel=rng.choice([Channel.GRID, Channel.OPEN311, Channel.HOTLINE]),
        category_id=rng.choice(cats),
        priority=rng.choices(["normal", "urgent", "critical"], [80, 15, 5])[0],
        title=f"例{n}",
        lon=119.1,
        lat=28.5,
        township_code=town,
        township_name=f"镇{town[-3:]}",
        grid_code=town + "001" + rng.choice(["001", "002"]),
        area_class="B",
        version=1,
        reported_at=reported,
        number=f"T{n:06d}",
        department_id=dep,
        rework_count=rng.choice([0, 0, 0, 1, 2]),
        public_report=rng.random() < 0.3,
    )
    if fate != "rejected" and rng.random() < 0.9:
        c["registered_at"] = reported + timedelta(hours=rng.uniform(0.1, 5))
        c["register_deadline"] = reported + timedelta(hours=3)
    if fate == "open":
        state = rng.choice(OPEN_STATES)
        c.update(state=state, is_open=True, step=rng.choice(["accept", "register", "dispatch", "handle", "check"]))
        c["step_deadline"] = NOW + timedelta(hours=rng.uniform(-72, 72))
        c["step_warn_at"] = c["step_deadline"] - timedelta(hours=rng.uniform(0, 10))
        if state == "suspended":
            c["paused_at"] = NOW - timedelta(hours=2)
        if state in ("dispatched", "handling", "feedback", "checking", "suspended"):
            c["dispatched_at"] = reported + timedelta(hours=rng.uniform(1, 8))
            c["dispatch_deadline"] = reported + timedelta(hours=6)
    elif fate == "closed":
        c.update(state=rng.choice(["closed", "evaluated"]), is_open=False)
        c["dispatched_at"] = reported + timedelta(hours=rng.uniform(1, 8))
        c["dispatch_deadline"] = reported + timedelta(hours=6)
        c["handled_in_time"] = rng.random() < 0.7
        c["closed_at"] = reported + timedelta(hours=rng.uniform(10, 100))
        c["closed_in_time"] = rng.random() < 0.75
        if rng.random() < 0.6:
            c["satisfaction"] = rng.choice(
                ["very_satisfied", "satisfied", "fairly_satisfied", "dissatisfied", "very_dissatisfied"]
            )
    elif fate == "voided":
        c.update(state="voided", is_open=False, voided_at=reported + timedelta(hours=8))
    elif fate == "rejected":
        c.update(state="rejected", is_open=False)
        c.pop("registered_at", None)
        c.pop("register_deadline", None)
    else:
        c.update(state="merged", is_open=False)
    if fate == "closed" and rng.random() < 0.2:
        c["self_handled"] = True
    return c


def make_history(db: Database, w: World, *, seed: int = 7, n_cases: int = 160) -> History:
    rng = random.Random(seed)
    with db.unit_of_work() as s:
        if divisions.the_county(s) is None:
            divisions.bootstrap(s, actor=FACTORY, county_code=SUICHANG)
        towns = list(
            s.scalars(select(Division).where(Division.level == DivisionLevel.TOWNSHIP).order_by(Division.code).limit(2))
        )
        codes = [t.code for t in towns]
        spots = {t.code: t.geom.representative_point() for t in towns}
        cats = [w.cat_manhole, w.cat_garbage, w.cat_stall]
        manhole = categories.get(s, category_id=w.cat_manhole)
        h = History(w, codes, alarm_category=manhole.service_code)
        made = []
        for i in range(n_cases):
            row = Case(**_case(rng, w, i, codes, cats))
            s.add(row)
            made.append(row)
        s.flush()
        for row in made:
            if row.state == "merged":
                row.merged_into_id = made[0].id if row is not made[0] else made[1].id
            if row.dispatched_at is not None:
                for k in range(rng.choice([1, 1, 2])):
                    s.add(
                        DispatchRecord(
                            case_id=row.id,
                            department_id=row.department_id or w.works,
                            at=row.dispatched_at + timedelta(minutes=k),
                        )
                    )
        rule = AlarmRule(
            name="井盖倾斜",
            severity=Severity.MAJOR,
            condition={"gt": 5},
            device_class="manhole",
            case_category_code=manhole.service_code,
        )
        s.add(rule)
        s.flush()
        h.rule_id = rule.id
        sensor, tilt = devices.sensor(s, name="倾角传感器"), devices.observed_property(s, name="倾角")
        for i in range(8):
            town = codes[i % 2]
            p: Point = spots[town]
            t = Thing(
                name=f"设备{i}",
                device_key=f"dev-{i}",
                device_class="manhole" if i < 5 else "river_gauge",  # the rule watches the manhole covers
                health=[Health.ONLINE, Health.OFFLINE, Health.UNKNOWN, Health.ONLINE][i % 4],
                lon=p.x + 0.0001 * i,
                lat=p.y,
            )
            s.add(t)
            s.flush()
            s.add(Datastream(name=f"设备{i} 倾角", unit={"name": "degree", "symbol": "°"}, thing_id=t.id,
                             sensor_id=sensor.id, observed_property_id=tilt.id, metric="tilt"))  # fmt: skip
            h.things[t.id] = town
            if t.device_class == "manhole":
                h.watched.add(t.id)
        streams.invalidate()
        things = list(h.things)
        for i in range(40):
            raised = NOW - timedelta(minutes=rng.randint(0, 30 * 24 * 60))
            state = rng.choice(list(AlarmState))
            thing = rng.choice(things)
            a = Alarm(
                kind=AlarmKind.RULE,
                rule_id=rule.id if thing in h.watched and rng.random() < 0.7 else None,
                thing_id=thing,
                severity=rng.choice(list(Severity)),
                state=state,
                title=f"告警{i}",
                raised_at=raised,
                last_raised_at=raised,
                cleared_at=raised + timedelta(hours=1) if state == AlarmState.CLEARED else None,
            )
            s.add(a)
            s.flush()
            s.add(AlarmEvent(alarm_id=a.id, at=raised, action="raise", to_state="active"))
        for i, status in enumerate(
            [ComponentStatus.INTACT, ComponentStatus.INTACT, ComponentStatus.DAMAGED, ComponentStatus.LOST]
        ):
            town = codes[i % 2]
            p = spots[town]
            s.add(
                Component(
                    code=f"{SUICHANG}01001{i + 1:06d}",
                    class_code="01001",
                    name="供水井盖",
                    status=status,
                    initial_date=date(2025, 1, 1),
                    township_code=town,
                    lon=p.x,
                    lat=p.y,
                    geom=p,
                    minx=p.x,
                    miny=p.y,
                    maxx=p.x,
                    maxy=p.y,
                )
            )
    return h


def with_rows(db: Database, h: History) -> History:
    """H with detached copies of every case, alarm and component (every field loaded)."""
    with db.reading() as s:
        h.cases = list(s.scalars(select(Case)))
        h.alarms = list(s.scalars(select(Alarm)))
        h.components = list(s.scalars(select(Component)))
        s.expunge_all()  # keep every loaded field after the read session ends
    return h


BASELINE = Baseline("ioc history", lambda db, built: make_history(db, built[CASES.name]), extends=CASES)


@pytest.fixture
def history(db: Database, harness: Harness, world: World, ioc_history_baseline: Baseline) -> History:  # noqa: F811
    return with_rows(db, harness.value(ioc_history_baseline, db=db))


def settle(db) -> None:
    """Wait until every committed timeline row is below the PostgreSQL horizon (core.commitorder):
    a transaction of this database in progress holds it back for as long."""
    if db.is_sqlite:
        return
    pending = text(
        f"SELECT (SELECT count(*) FROM case_event WHERE xact >= {HORIZON_SQL})"
        f" + (SELECT count(*) FROM sensing_alarm_event WHERE xact >= {HORIZON_SQL})"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.reading() as s:
            if not s.scalar(pending):
                return
        time.sleep(0.05)
    raise AssertionError("timeline rows stayed above the horizon for a minute")
