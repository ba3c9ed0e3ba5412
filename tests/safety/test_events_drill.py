"""THE FLOOD DRILL through the real interfaces: readings posted through SensorThings start the plan's
response at IV with its departments' tasks, higher readings raise it to III with the III tasks added,
lowering (API) ends the III tasks, closing (API) ends the rest; repeats make no second event; a case of
a trigger category starts an event; the overdue sweep logs once; a department sees only its tasks; a
transition the table does not allow is a 409."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from countyos.cases.models import Notification
from countyos.core.clock import utcnow
from countyos.safety.models.events import EmergencyEvent, EventLog, EventSource, EventState, EventTask, LogKind
from countyos.safety.models.events import TaskState as TS
from countyos.safety.models.plans import ResponseLevel
from countyos.safety.service import events_home, events_tasks
from tests.safety.events_helpers import Drill, api_headers, drill, readings  # noqa: F401

STA = "/sta/v1.1/CreateObservations"


def post(client, d: Drill, values, start):
    r = client.post(STA, json=readings(d.level_ds, values, start_minutes_ago=start), headers=d.machine)
    assert r.status_code == 201 and "error" not in r.text, r.text


def the_event(db) -> EmergencyEvent:
    with db.reading() as s:
        (event,) = s.scalars(select(EmergencyEvent)).all()
        s.expunge(event)
        return event


def tasks(db, event_id: int) -> list[tuple[str, str, TS, str]]:
    with db.reading() as s:
        rows = s.scalars(select(EventTask).where(EventTask.event_id == event_id).order_by(EventTask.id)).all()
        return [(str(t.level), t.duty, t.state, t.close_reason) for t in rows]


def test_the_flood_drill(client, db, drill):  # noqa: F811
    post(client, drill, [2.5, 2.8, 3.2], start=30)
    event = the_event(db)
    assert event.level == ResponseLevel.IV and event.state == EventState.ACTIVE
    assert event.source == EventSource.PLAN and event.alarm_id is not None and event.plan_id == drill.plan_id
    assert event.number and event.number.startswith("YJ") and len(event.number) == 13
    assert event.lon == 119.27 and event.place == "演练水位站"
    assert [(lv, st) for lv, _, st, _ in tasks(db, event.id)] == [("IV", TS.ISSUED), ("IV", TS.ISSUED)]

    # a repeat of the same alarm makes no second event and no trigger line
    post(client, drill, [3.3, 3.4], start=27)
    assert the_event(db).id == event.id

    post(client, drill, [4.2, 4.4], start=25)
    event = the_event(db)
    assert event.level == ResponseLevel.III
    rows = tasks(db, event.id)
    assert [lv for lv, *_ in rows] == ["IV", "IV", "III", "III"]
    assert "封闭漫水路段，疏导交通" in [duty for _, duty, *_ in rows]

    # the water bureau acknowledges and reports through the API
    water = api_headers(db, drill.water_handler, ["safety.task"])
    mine = client.get("/api/v1/safety/tasks", headers=water).json()
    assert [t["department"] for t in mine] == ["演练水利局"]
    tid = mine[0]["id"]
    assert client.post(f"/api/v1/safety/tasks/{tid}/done", json={}, headers=water).status_code == 409
    assert client.post(f"/api/v1/safety/tasks/{tid}/ack", headers=water).json()["state"] == "acknowledged"
    r = client.post(f"/api/v1/safety/tasks/{tid}/feedback", json={"text": "已加密监测"}, headers=water)
    assert r.status_code == 200 and r.json()["feedback"] == "已加密监测"
    assert client.post(f"/api/v1/safety/tasks/{tid}/done", json={"text": "完成"}, headers=water).status_code == 200
    # another department's task is not the water bureau's to acknowledge
    police_task = next(
        t
        for t in client.get(
            "/api/v1/safety/tasks", headers=api_headers(db, drill.police_handler, ["safety.task"])
        ).json()
    )
    assert client.post(f"/api/v1/safety/tasks/{police_task['id']}/ack", headers=water).status_code == 403

    cmd_h = api_headers(db, drill.commander, ["safety.emergency.read", "safety.emergency.command"])
    assert (
        client.post(f"/api/v1/safety/events/{event.id}/lower", json={"level": "IV"}, headers=cmd_h).status_code == 422
    )
    r = client.post(
        f"/api/v1/safety/events/{event.id}/lower", json={"level": "IV", "reason": "水位回落"}, headers=cmd_h
    )
    assert r.status_code == 200 and r.json()["level"] == "IV"
    rows = tasks(db, event.id)
    assert [(lv, st, why) for lv, _, st, why in rows if lv == "III"] == [
        ("III", TS.CLOSED, "响应降级"),
        ("III", TS.CLOSED, "响应降级"),
    ]
    assert [st for lv, _, st, _ in rows if lv == "IV"] == [TS.DONE, TS.ISSUED]

    r = client.post(f"/api/v1/safety/events/{event.id}/close", json={"note": "险情解除"}, headers=cmd_h)
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert [st for *_, st, _ in tasks(db, event.id)].count(TS.CLOSED) == 3
    again = client.post(f"/api/v1/safety/events/{event.id}/close", json={"note": "再次"}, headers=cmd_h)
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"
    assert again.headers["content-type"].startswith("application/problem+json")
    detail = client.get(f"/api/v1/safety/events/{event.id}", headers=cmd_h).json()
    kinds = [x["kind"] for x in detail["log"]]
    assert kinds[0] == "started" and kinds[-1] == "closed" and "escalated" in kinds and "lowered" in kinds

    # after the command post closed the response the water dips and rises again inside the rules' dedupe
    # window: the alarms are raised again (not new), and that starts no new response (a new alarm would)
    post(client, drill, [2.5, 2.6, 4.5], start=10)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(EmergencyEvent)) == 1


def test_a_new_alarm_under_a_higher_running_level_is_noted_once(client, db, drill):  # noqa: F811
    cmd_h = api_headers(db, drill.commander, ["safety.emergency.read", "safety.emergency.command"])
    r = client.post(
        "/api/v1/safety/events",
        json={
            "title": "上游来水",
            "type": "flood",
            "level": "III",
            "plan_id": drill.plan_id,
            "lon": 119.27,
            "lat": 28.59,
        },
        headers=cmd_h,
    )
    assert r.status_code == 201, r.text
    started = r.json()
    assert started["source"] == "manual" and [t["level"] for t in started["tasks"]] == ["IV", "IV", "III", "III"]
    post(client, drill, [3.2], start=10)  # a new IV alarm: noted
    post(client, drill, [3.5], start=9)  # its repeat: not noted again
    with db.reading() as s:
        n = s.scalar(select(func.count()).where(EventLog.event_id == started["id"], EventLog.kind == LogKind.TRIGGER))
        assert n == 1
        assert s.scalar(select(func.count()).select_from(EmergencyEvent)) == 1
        assert s.get(EmergencyEvent, started["id"]).level == ResponseLevel.III
    # a second response of the same plan cannot be started by hand
    again = client.post(
        "/api/v1/safety/events",
        json={"title": "x", "type": "flood", "level": "IV", "plan_id": drill.plan_id},
        headers=cmd_h,
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "plan_id"


def test_commands_are_acknowledged_by_each_department(client, db, drill):  # noqa: F811
    post(client, drill, [3.2], start=10)
    event = the_event(db)
    cmd_h = api_headers(db, drill.commander, ["safety.emergency.read", "safety.emergency.command"])
    r = client.post(f"/api/v1/safety/events/{event.id}/commands", json={"text": "立即上报水情"}, headers=cmd_h)
    assert r.status_code == 201
    cmd = r.json()
    assert sorted(t["department"] for t in cmd["targets"]) == ["演练大柘镇", "演练水利局"]
    water = api_headers(db, drill.water_handler, ["safety.task"])
    police = api_headers(db, drill.police_handler, ["safety.task"])
    assert client.post(f"/api/v1/safety/commands/{cmd['id']}/ack", json={}, headers=police).status_code == 403
    ok = client.post(f"/api/v1/safety/commands/{cmd['id']}/ack", json={"reply": "收到"}, headers=water)
    assert ok.status_code == 200 and ok.json()["acknowledged_at"]
    assert client.post(f"/api/v1/safety/commands/{cmd['id']}/ack", json={}, headers=water).status_code == 409
    # a handler cannot command
    assert (
        client.post(f"/api/v1/safety/events/{event.id}/commands", json={"text": "x"}, headers=water).status_code == 403
    )


def test_overdue_sweep_logs_once_and_notifies(client, db, drill):  # noqa: F811
    post(client, drill, [3.2], start=5)
    event = the_event(db)
    later = utcnow() + timedelta(minutes=45)  # past the 30-minute deadline, not the 60-minute one
    with db.unit_of_work() as s:
        assert events_tasks.sweep_overdue(s, now=utcnow()) == 0
        assert events_tasks.sweep_overdue(s, now=later) == 1
        assert events_tasks.sweep_overdue(s, now=later) == 0
    with db.reading() as s:
        n = s.scalar(select(func.count()).where(EventLog.event_id == event.id, EventLog.kind == LogKind.TASK_OVERDUE))
        assert n == 1
        notes = s.scalars(select(Notification).where(Notification.user_id == drill.water_handler.id)).all()
        assert [x.kind for x in notes] == ["safety_task", "safety_task_overdue"]  # told when issued, and when late
        (queue,) = events_home.queues(s, drill.water_actor(), later)
        assert (queue.key, queue.count, queue.overdue) == ("safety_tasks", 1, 1)
        assert events_home.queues(s, drill.command_actor(), later) == []
    water = api_headers(db, drill.water_handler, ["safety.task"])
    (mine,) = client.get("/api/v1/safety/tasks?open_only=true", headers=water).json()
    assert mine["department"] == "演练水利局"
