"""THE FLOOD DRILL, end to end through the real interfaces: a flood plan written and published through the
plans API (IV and III reading triggers on a gauge, duties of four departments), gauge readings posted
through SensorThings start the response at IV with exactly the IV departments' tasks, higher readings
raise it to III; the 首报 reminder fires once when due soon and once when overdue, to the lead
department's and the emergency bureau's commanders, and stops once the report is sent; a department
acknowledges and finishes its task through the API; lowering ends the III tasks (响应降级), closing ends
the rest; the review lists the timeline and the tasks; readings back under the threshold reopen nothing."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from countyos.cases.models import Notification
from countyos.core.db import Database
from countyos.org.models import Department
from countyos.safety.models.events import EmergencyEvent, EventLog, EventSource, EventState, EventTask, LogKind
from countyos.safety.models.events import TaskState as TS
from countyos.safety.models.plans import ResponseLevel
from countyos.safety.models.reports import EventReport, ReportKind, ReportState
from countyos.safety.service import reports
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec, MetricSpec
from tests import factories
from tests.safety.events_helpers import FACTORY, api_headers, readings

STA = "/sta/v1.1/CreateObservations"
GAUGE = DeviceSpec(
    device_key="drill-gauge-01",
    name="演练妙高溪水位站",
    device_class="river_gauge",
    lon=119.27,
    lat=28.59,
    expected_interval_s=300,
    metrics=(MetricSpec("water_level", "水位", "metre", "m", valid_min=-5, valid_max=50, retention="critical"),),
)
BUREAU = "县应急管理局"
WATER, TOWN, POLICE, HEALTH = "演练县水利局", "演练大柘镇人民政府", "演练县公安局", "演练县卫生健康局"
IV_DUTIES = {
    BUREAU: ("组织会商研判，发布预警", 20),
    WATER: ("加密水情监测，每小时报告", 30),
    TOWN: ("巡查沿河低洼地带", 60),
}
III_DUTIES = {POLICE: ("封闭漫水路段，疏导交通", 20), TOWN: ("转移沿河群众", 45), HEALTH: ("医疗救护队伍待命", 40)}
MANAGE = ["safety.emergency.read", "safety.emergency.manage"]
COMMAND = ["safety.emergency.read", "safety.emergency.command"]


def reading(value: float, clear: float) -> dict[str, object]:
    return {
        "kind": "reading",
        "device": GAUGE.device_key,
        "metric": "water_level",
        "condition": {"type": "threshold", "op": ">", "value": value, "clear": clear},
        "description": f"演练妙高溪水位超过 {value} m",
    }


def duties(table: dict[str, tuple[str, int]]) -> list[dict[str, object]]:
    return [{"department": d, "duty": duty, "deadline_minutes": m} for d, (duty, m) in table.items()]


PLAN_BODY = {
    "levels": [
        {"level": "IV", "criteria": "水位超过 3.0 m", "triggers": [reading(3.0, 2.8)], "duties": duties(IV_DUTIES)},
        {"level": "III", "criteria": "水位超过 4.0 m", "triggers": [reading(4.0, 3.8)], "duties": duties(III_DUTIES)},
    ],
    "reports": {"first_minutes": 30, "followup_hours": 6, "final_hours": 72, "to": "市应急管理局"},
}


@dataclass
class World:
    departments: dict[str, int]
    keeper: factories.Person  # emergency officer of the bureau: writes the plan, commands
    lead_commander: factories.Person  # emergency officer of the lead department (the water bureau)
    water_handler: factories.Person
    police_handler: factories.Person
    town_officer: factories.Person  # emergency officer of a duty department that is not the lead: no reminder
    datastream_id: int
    machine: dict[str, str]


def _department(db: Database, name: str) -> int:
    with db.reading() as s:
        found = s.scalar(select(Department.id).where(Department.name == name))
    return found if found is not None else factories.department(db, name)


@pytest.fixture
def world(db: Database) -> World:
    ids = {name: _department(db, name) for name in (BUREAU, WATER, TOWN, POLICE, HEALTH)}
    with db.unit_of_work() as s:
        thing = devices.register(s, actor=FACTORY, spec=GAUGE)
        (ds,) = [d.id for d in devices.datastreams_of(s, thing_id=thing.id) if d.metric == "water_level"]
    device = factories.person(db, ["data_admin"], is_machine=True)
    header = {"Authorization": "Basic " + base64.b64encode(f"{device.username}:{device.password}".encode()).decode()}
    return World(
        departments=ids,
        keeper=factories.person(db, ["emergency_officer"], department_id=ids[BUREAU]),
        lead_commander=factories.person(db, ["emergency_officer"], department_id=ids[WATER]),
        water_handler=factories.person(db, ["handler"], department_id=ids[WATER]),
        police_handler=factories.person(db, ["handler"], department_id=ids[POLICE]),
        town_officer=factories.person(db, ["emergency_officer"], department_id=ids[TOWN]),
        datastream_id=ds,
        machine=header,
    )


def post(client, w: World, values: list[float], *, start: int) -> None:
    r = client.post(STA, json=readings(w.datastream_id, values, start_minutes_ago=start), headers=w.machine)
    assert r.status_code == 201 and "error" not in r.text, r.text


def events(db: Database) -> list[EmergencyEvent]:
    with db.reading() as s:
        rows = list(s.scalars(select(EmergencyEvent).order_by(EmergencyEvent.id)).all())
        s.expunge_all()
        return rows


def tasks(db: Database, event_id: int) -> list[EventTask]:
    with db.reading() as s:
        rows = list(s.scalars(select(EventTask).where(EventTask.event_id == event_id).order_by(EventTask.id)).all())
        s.expunge_all()
        return rows


def by_department(w: World, rows: list[EventTask]) -> dict[str, EventTask]:
    names = {v: k for k, v in w.departments.items()}
    return {names[t.department_id]: t for t in rows}


def reminders(db: Database, report_id: int) -> list[tuple[int | None, str]]:
    with db.reading() as s:
        q = select(Notification.user_id, Notification.kind).where(
            Notification.dedupe_key.like(f"safety.report:{report_id}:%")
        )
        return sorted((u, k) for u, k in s.execute(q).all())


def due_rows(db: Database, event_id: int, report_id: int) -> list[bool]:
    with db.reading() as s:
        rows = s.scalars(
            select(EventLog)
            .where(EventLog.event_id == event_id, EventLog.kind == LogKind.REPORT_DUE)
            .order_by(EventLog.id)
        ).all()
        return [bool(x.detail["overdue"]) for x in rows if x.detail.get("report_id") == report_id]


def remind(db: Database, at) -> reports.Reminded:
    with db.unit_of_work() as s:
        return reports.remind(s, now=at)


def test_the_flood_drill(client, db, world: World):
    keeper = api_headers(db, world.keeper, MANAGE)
    command = api_headers(db, world.keeper, COMMAND)

    # the plan through the API: card, draft, publish
    r = client.post(
        "/api/v1/safety/plans",
        json={
            "code": "DRILL-FX",
            "name": "演练防汛应急预案",
            "type": "flood",
            "lead_department_id": world.departments[WATER],
        },
        headers=keeper,
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    r = client.put(f"/api/v1/safety/plans/{plan_id}/draft", json={"body": PLAN_BODY, "note": "演练"}, headers=keeper)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/safety/plans/{plan_id}/publish", headers=keeper)
    assert r.status_code == 200 and r.json()["state"] == "published", r.text
    version_id = r.json()["id"]
    assert events(db) == []

    # under the IV threshold: nothing
    post(client, world, [2.4, 2.6], start=50)
    assert events(db) == []

    # IV crossed: right after the POST, an event at IV with exactly the IV departments' tasks
    post(client, world, [2.9, 3.3], start=45)
    (event,) = events(db)
    assert (event.level, event.state, event.source) == (ResponseLevel.IV, EventState.ACTIVE, EventSource.PLAN)
    assert event.plan_id == plan_id and event.plan_version_id == version_id and event.alarm_id is not None
    assert event.place == GAUGE.name and (event.lon, event.lat) == (GAUGE.lon, GAUGE.lat)
    iv = by_department(world, tasks(db, event.id))
    assert set(iv) == set(IV_DUTIES) and len(tasks(db, event.id)) == len(IV_DUTIES)
    for name, t in iv.items():
        duty, minutes = IV_DUTIES[name]
        assert (t.level, t.duty, t.state) == (ResponseLevel.IV, duty, TS.ISSUED)
        assert t.issued_at == event.started_at
        assert t.deadline_at == event.started_at + timedelta(minutes=minutes)

    # a repeat above IV: no second event, no new task
    post(client, world, [3.5], start=43)
    assert [e.id for e in events(db)] == [event.id] and len(tasks(db, event.id)) == 3

    # higher readings: escalated to III, the III tasks added, the log says so
    post(client, world, [3.9, 4.3], start=40)
    (event,) = events(db)
    assert event.level == ResponseLevel.III and event.state == EventState.ACTIVE
    rows = tasks(db, event.id)
    assert len(rows) == len(IV_DUTIES) + len(III_DUTIES)
    iii = [t for t in rows if t.level == ResponseLevel.III]
    names = {v: k for k, v in world.departments.items()}
    assert sorted(names[t.department_id] for t in iii) == sorted(III_DUTIES)
    for t in iii:
        duty, minutes = III_DUTIES[names[t.department_id]]
        assert t.duty == duty and t.state == TS.ISSUED and t.issued_at == event.level_changed_at
        assert t.deadline_at == t.issued_at + timedelta(minutes=minutes)
    with db.reading() as s:
        (raised,) = s.scalars(select(EventLog).where(EventLog.event_id == event.id, EventLog.kind == LogKind.ESCALATED))
        assert (raised.detail["from"], raised.detail["to"]) == ("IV", "III")
        issued = s.scalar(
            select(func.count()).where(EventLog.event_id == event.id, EventLog.kind == LogKind.TASK_ISSUED)
        )
        assert issued == 6

    # the 首报 (first report, due 30 minutes after the start; the reminder 10 minutes before)
    first_due = event.started_at + timedelta(minutes=30)
    done = remind(db, first_due - timedelta(minutes=11))  # just before due-soon: the row, no reminder
    assert (done.due_soon, done.overdue) == (0, 0)
    with db.reading() as s:
        (first,) = s.scalars(select(EventReport).where(EventReport.event_id == event.id)).all()
        assert (first.kind, first.state, first.due_at) == (ReportKind.FIRST, ReportState.DUE, first_due)
        first_id = first.id
    assert reminders(db, first_id) == [] and due_rows(db, event.id, first_id) == []

    done = remind(db, first_due - timedelta(minutes=10))  # due soon: one message each to the right people
    assert (done.due_soon, done.overdue) == (1, 0)
    expected = sorted([world.keeper.id, world.lead_commander.id])
    assert reminders(db, first_id) == [(u, "yellow") for u in expected]
    assert due_rows(db, event.id, first_id) == [False]
    done = remind(db, first_due - timedelta(minutes=10))  # again at the same time: nothing new
    assert (done.due_soon, done.overdue, done.created) == (0, 0, 0)
    assert len(reminders(db, first_id)) == 2 and due_rows(db, event.id, first_id) == [False]

    done = remind(db, first_due + timedelta(minutes=1))  # after due: the overdue reminder, once
    assert (done.due_soon, done.overdue) == (0, 1)
    assert reminders(db, first_id) == sorted([(u, "yellow") for u in expected] + [(u, "red") for u in expected])
    assert due_rows(db, event.id, first_id) == [False, True]
    assert remind(db, first_due + timedelta(minutes=2)).overdue == 0
    assert due_rows(db, event.id, first_id) == [False, True]

    # the 首报 sent through the API
    listed = client.get(f"/api/v1/safety/events/{event.id}/reports", headers=command).json()
    assert [x["id"] for x in listed] == [first_id] and listed[0]["state"] == "due"
    draft = client.get(f"/api/v1/safety/reports/{first_id}/draft", headers=command).json()["body"]
    assert event.number in draft or "演练" in draft
    r = client.post(f"/api/v1/safety/reports/{first_id}/send", json={"body": draft, "evacuated": 120}, headers=command)
    assert r.status_code == 200 and r.json()["state"] == "sent" and r.json()["sent_at"], r.text
    # later sweeps (through the first follow-up's due time) remind of the follow-up, never of the 首报 again
    later = first_due + timedelta(hours=6)
    remind(db, later)
    assert len(reminders(db, first_id)) == 4 and due_rows(db, event.id, first_id) == [False, True]
    with db.reading() as s:
        sent = s.scalars(
            select(EventLog).where(EventLog.event_id == event.id, EventLog.kind == LogKind.REPORT_SENT)
        ).all()
        assert [x.detail["report_id"] for x in sent] == [first_id]

    # the water bureau acknowledges, feeds back and finishes its task through the API (as its person)
    water = api_headers(db, world.water_handler, ["safety.task"])
    mine = client.get("/api/v1/safety/tasks", headers=water).json()
    assert [(t["department"], t["level"]) for t in mine] == [(WATER, "IV")]
    tid = mine[0]["id"]
    r = client.post(f"/api/v1/safety/tasks/{tid}/ack", headers=water)
    assert r.status_code == 200 and r.json()["state"] == "acknowledged" and r.json()["acknowledged_at"]
    r = client.post(f"/api/v1/safety/tasks/{tid}/feedback", json={"text": "已加密至每15分钟监测"}, headers=water)
    assert r.status_code == 200 and r.json()["feedback"] == "已加密至每15分钟监测"
    r = client.post(f"/api/v1/safety/tasks/{tid}/done", json={"text": "监测正常运转"}, headers=water)
    assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["done_at"]
    # the police's person may not touch the water bureau's task
    police = api_headers(db, world.police_handler, ["safety.task"])
    assert client.post(f"/api/v1/safety/tasks/{tid}/ack", headers=police).status_code in (403, 409)

    # lowering (with a reason) ends the III tasks with 响应降级
    r = client.post(f"/api/v1/safety/events/{event.id}/lower", json={"level": "IV"}, headers=command)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/safety/events/{event.id}/lower", json={"level": "IV", "reason": "水位回落至4米以下"}, headers=command
    )
    assert r.status_code == 200 and r.json()["level"] == "IV", r.text
    rows = tasks(db, event.id)
    assert {(t.state, t.close_reason) for t in rows if t.level == ResponseLevel.III} == {(TS.CLOSED, "响应降级")}
    states = {names[t.department_id]: t.state for t in rows if t.level == ResponseLevel.IV}
    assert states == {BUREAU: TS.ISSUED, WATER: TS.DONE, TOWN: TS.ISSUED}

    # closing ends the rest
    r = client.post(f"/api/v1/safety/events/{event.id}/close", json={"note": "险情解除，响应结束"}, headers=command)
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    rows = tasks(db, event.id)
    assert [t.state for t in rows if t.state not in (TS.CLOSED, TS.DONE)] == []
    assert [names[t.department_id] for t in rows if t.state == TS.DONE] == [WATER]
    assert sum(t.state == TS.CLOSED for t in rows) == 5

    # the review: the timeline and the tasks
    r = client.get(f"/api/v1/safety/events/{event.id}/review", headers=command)
    assert r.status_code == 200, r.text
    review = r.json()
    assert review["event"]["id"] == event.id and review["event"]["state"] == "closed"
    with db.reading() as s:
        n_log = s.scalar(select(func.count()).where(EventLog.event_id == event.id))
    assert len(review["timeline"]) == n_log
    texts = [x["text"] for x in review["timeline"]]
    assert "水位回落至4米以下" in texts and "险情解除，响应结束" in texts
    assert sorted((t["department"], t["duty"]) for t in review["tasks"]) == sorted(
        [(d, duty) for d, (duty, _) in IV_DUTIES.items()] + [(d, duty) for d, (duty, _) in III_DUTIES.items()]
    )
    (water_row,) = [t for t in review["tasks"] if t["department"] == WATER]
    assert water_row["done_at"] is not None and water_row["acknowledged_after"] is not None
    assert [x["id"] for x in review["reports"] if x["sent_at"]] == [first_id]

    # readings back under the threshold reopen nothing
    post(client, world, [2.7, 2.5, 2.2], start=5)
    (after,) = events(db)
    assert after.id == event.id and after.state == EventState.CLOSED and after.level == ResponseLevel.IV
    assert len(tasks(db, event.id)) == 6 and all(t.state in (TS.CLOSED, TS.DONE) for t in tasks(db, event.id))
