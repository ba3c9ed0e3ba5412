"""A small world for the reports tests: the emergency bureau and a lead department with their
commanders, a published flood plan (schedule: first in 30 min, follow-ups every 6 h, final within 48 h),
and events with tasks and log rows inserted directly (the events part's service is built alongside)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from countyos.core.db import Database
from countyos.safety.models.events import (
    EmergencyEvent,
    EventLog,
    EventSource,
    EventState,
    EventTask,
    LogKind,
    TaskState,
)
from countyos.safety.models.plans import Plan, PlanState, PlanType, PlanVersion, ResponseLevel, VersionState
from tests import factories

T0 = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)  # 10:00 in the county
BODY = {
    "levels": [
        {"level": "IV", "duties": [{"department": "测试水利局", "duty": "加密监测水位", "deadline_minutes": 60}]},
        {"level": "III", "duties": [{"department": "测试镇政府", "duty": "转移低洼地带群众", "deadline_minutes": 120}]},
    ],
    "reports": {"first_minutes": 30, "followup_hours": 6, "final_hours": 48, "to": "市应急管理局"},
}


@dataclass
class World:
    bureau: int
    water: int
    town: int
    commander: factories.Person  # emergency_officer of the bureau
    water_commander: factories.Person  # emergency_officer of the lead department
    bystander: factories.Person  # emergency_officer of the town: not a recipient
    reader: factories.Person  # dispatcher: EMERGENCY_READ only
    plan_id: int
    version_id: int


def build(db: Database) -> World:
    bureau = factories.department(db, "县应急管理局")
    water = factories.department(db, "测试水利局")
    town = factories.department(db, "测试镇政府")
    commander = factories.person(db, ["emergency_officer"], department_id=bureau)
    water_commander = factories.person(db, ["emergency_officer"], department_id=water)
    bystander = factories.person(db, ["emergency_officer"], department_id=town)
    reader = factories.person(db, ["dispatcher"], department_id=bureau)
    with db.unit_of_work() as s:
        plan = Plan(
            code="T-FX", name="测试防汛预案", type=PlanType.FLOOD, state=PlanState.ACTIVE, lead_department_id=water
        )
        s.add(plan)
        s.flush()
        version = PlanVersion(plan_id=plan.id, number=1, state=VersionState.PUBLISHED, body=BODY, published_at=T0)
        s.add(version)
        s.flush()
        plan.current_version_id = version.id
        return World(bureau, water, town, commander, water_commander, bystander, reader, plan.id, version.id)


def event(
    db: Database,
    w: World,
    *,
    started_at: datetime = T0,
    closed_at: datetime | None = None,
    with_plan: bool = True,
    number: str = "YJ20260620001",
) -> int:
    """A flood event started at IV, raised to III an hour later; the water bureau's task done late, the
    town's acknowledged after 15 min and still open; a command."""
    with db.unit_of_work() as s:
        e = EmergencyEvent(
            number=number, title="妙高溪洪水", type=PlanType.FLOOD, level=ResponseLevel.III,
            state=EventState.CLOSED if closed_at else EventState.ACTIVE,
            plan_id=w.plan_id if with_plan else None, plan_version_id=w.version_id if with_plan else None,
            source=EventSource.PLAN, place="妙高街道 妙高溪", description="妙高溪水位超过警戒水位",
            started_at=started_at, level_changed_at=started_at + timedelta(hours=1), closed_at=closed_at,
        )  # fmt: skip
        s.add(e)
        s.flush()
        water_task = EventTask(
            event_id=e.id, level=ResponseLevel.IV, department_id=w.water, duty="加密监测水位", state=TaskState.DONE,
            issued_at=started_at, deadline_at=started_at + timedelta(minutes=60),
            acknowledged_at=started_at + timedelta(minutes=5), done_at=started_at + timedelta(minutes=95),
            feedback="已每15分钟报送一次水位",
        )  # fmt: skip
        town_task = EventTask(
            event_id=e.id, level=ResponseLevel.III, department_id=w.town, duty="转移低洼地带群众",
            state=TaskState.ACKNOWLEDGED, issued_at=started_at + timedelta(hours=1),
            deadline_at=started_at + timedelta(hours=3), acknowledged_at=started_at + timedelta(minutes=75),
        )  # fmt: skip
        s.add_all([water_task, town_task])
        s.flush()
        logs = [
            (started_at, LogKind.STARTED, "启动Ⅳ级响应", {}),
            (started_at, LogKind.TASK_ISSUED, "测试水利局：加密监测水位", {}),
            (started_at + timedelta(hours=1), LogKind.ESCALATED, "响应由Ⅳ级提升为Ⅲ级", {}),
            (started_at + timedelta(minutes=70), LogKind.COMMAND, "立即组织妙高溪沿岸群众转移", {"command_id": 1}),
            (started_at + timedelta(minutes=82), LogKind.COMMAND_ACKNOWLEDGED, "测试镇政府已签收", {"command_id": 1}),
        ]
        if closed_at:
            logs.append((closed_at, LogKind.CLOSED, "响应结束", {}))
        s.add_all(
            EventLog(event_id=e.id, at=at, kind=k, text=text, actor_name="值班员", detail=d) for at, k, text, d in logs
        )
        return e.id
