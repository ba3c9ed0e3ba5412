"""The demo's events part: on the sensing demo with the SC-FX plan, a past flood event 18–20 June 2026
(IV → III → IV → ended), every task acknowledged and done (two late), commands acknowledged; nothing is
left running. Without the plan it loads nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from countyos.core.clock import county_day
from countyos.core.demo import DemoContext
from countyos.safety import demo_events
from countyos.safety.models.events import (
    CommandTarget,
    EmergencyEvent,
    EventLog,
    EventState,
    EventTask,
    LogKind,
    TaskFeedback,
    TaskState,
)
from countyos.safety.models.plans import Plan, PlanState, PlanType, PlanVersion, ResponseLevel, VersionState
from countyos.sensing.demo import load as load_sensing
from tests import factories

DEPTS = ["县水利局", "县应急管理局", "县公安局", "大柘镇人民政府"]


def body() -> dict:
    return {
        "levels": [
            {
                "level": "IV",
                "duties": [
                    {"department": "县水利局", "duty": "加密水情监测", "deadline_minutes": 60},
                    {"department": "县应急管理局", "duty": "启动应急值守", "deadline_minutes": 30},
                    {"department": "大柘镇人民政府", "duty": "巡查沿河低洼地带", "deadline_minutes": 120},
                ],
            },
            {
                "level": "III",
                "duties": [
                    {"department": "县公安局", "duty": "封闭漫水路段", "deadline_minutes": 30},
                    {"department": "大柘镇人民政府", "duty": "转移沿溪群众", "deadline_minutes": 60},
                ],
            },
        ]
    }


def test_the_demo_flood_event(db):
    ids = {name: factories.department(db, name) for name in DEPTS}
    handler = factories.person(db, ["handler"], department_id=ids["县水利局"])
    ctx = DemoContext()
    ctx.user_ids["slj"] = handler.id
    with db.unit_of_work() as s:
        demo_events.load(s, ctx)  # no plan yet: nothing
        assert s.scalar(select(func.count()).select_from(EmergencyEvent)) == 0
        load_sensing(s, ctx)
        plan = Plan(code="SC-FX", name="遂昌县防汛防台应急预案", type=PlanType.FLOOD, state=PlanState.ACTIVE)
        s.add(plan)
        s.flush()
        v = PlanVersion(plan_id=plan.id, number=1, state=VersionState.PUBLISHED, body=body())
        s.add(v)
        s.flush()
        plan.current_version_id = v.id
        demo_events.load(s, ctx)
    with db.reading() as s:
        (event,) = s.scalars(select(EmergencyEvent)).all()
        assert event.number == "YJ20260618001" and event.state == EventState.CLOSED
        assert event.level == ResponseLevel.IV and county_day(event.closed_at).isoformat() == "2026-06-20"
        assert event.place and event.lon is not None
        tasks = s.scalars(select(EventTask).where(EventTask.event_id == event.id)).all()
        assert len(tasks) == 5 and all(t.state == TaskState.DONE for t in tasks)
        assert sum(1 for t in tasks if t.done_at > t.deadline_at) == 2
        assert [t.acknowledged_by_id for t in tasks if t.department_id == ids["县水利局"]] == [handler.id]
        assert s.scalar(select(func.count()).select_from(TaskFeedback)) == 5
        assert s.scalar(select(func.count()).where(CommandTarget.acknowledged_at.is_(None))) == 0
        kinds = [
            k
            for (k,) in s.execute(
                select(EventLog.kind).where(EventLog.event_id == event.id).order_by(EventLog.at, EventLog.id)
            )
        ]
        assert kinds[0] == LogKind.STARTED and kinds[-1] == LogKind.CLOSED
        assert LogKind.ESCALATED in kinds and LogKind.LOWERED in kinds and LogKind.COMMAND_ACKNOWLEDGED in kinds
    assert any("SC-FX" in n for n in ctx.notes)
