"""The demo county's events and command part: a past flood event of the 防汛防台 plan (SC-FX) in the 2026
flood season — started at level IV by the river_gauge-01 rule on 18 June, raised to III three hours
later, lowered to IV the next morning and ended on the third day; every department's tasks acknowledged
and done (two of them late), feedback, commands with their acknowledgements and notes, all at explicit
past times. No response is left running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.org.models import User
from countyos.safety.models.events import EmergencyEvent, EventSource, EventTask, TaskState
from countyos.safety.models.plans import Plan, ResponseLevel
from countyos.safety.permissions import EMERGENCY_COMMAND, EMERGENCY_READ, TASK
from countyos.safety.service import events, events_tasks
from countyos.sensing.models import Thing

NUMBER_DAY = datetime(2026, 6, 18, 5, 40, tzinfo=UTC)  # 13:40 county time
FEEDBACK = {
    "县水利局": "已加密监测妙高溪、大柘溪水情，每小时报送一次，水库已预泄腾库。",
    "县应急管理局": "应急指挥部已启动，值班力量加强，物资仓库完成出库准备。",
    "县自然资源和规划局": "已对沿线地质灾害隐患点开展巡查，未发现新的险情。",
    "县交通运输局": "G235 漫水路段已设置警示标志，安排人员值守。",
    "县公安局": "已封闭两处漫水路段并疏导交通，未发生事故。",
    "县卫生健康局": "医疗救护队两组待命，安置点卫生防疫已落实。",
    "大柘镇人民政府": "已转移沿溪低洼地带群众 126 人至安置点，生活保障到位。",
    "妙高街道办事处": "已巡查城区低洼地段和地下车库，转移群众 38 人。",
}


def _commander(ctx: Any) -> Actor:
    uid = ctx.user_ids.get("yjj")
    return Actor(id=uid, name="yjj", permissions=frozenset({EMERGENCY_READ, EMERGENCY_COMMAND, TASK}))


def _worker(department_id: int, people: dict[int, int]) -> Actor:
    uid = people.get(department_id)
    return Actor(id=uid, name="值班人员", permissions=frozenset({TASK}), department_id=department_id)


def load(session: Session, ctx: Any) -> None:
    plan = session.scalar(select(Plan).where(Plan.code == "SC-FX"))
    if plan is None or plan.current_version_id is None:
        return
    if session.scalar(select(EmergencyEvent.id).where(EmergencyEvent.plan_id == plan.id)) is not None:
        return
    boss = _commander(ctx)
    # one person of each department answers its tasks (the demo's handlers first)
    people: dict[int, int] = {}
    q = select(User.id, User.department_id).where(User.department_id.is_not(None), User.is_machine.is_(False))
    for uid, dept in session.execute(q.order_by(User.id)):
        if dept is not None:
            people.setdefault(dept, uid)
    for username in ("slj", "zrzy", "yj_dz", "jtj", "aqjc", "zjj", "zfj"):
        uid = ctx.user_ids.get(username)
        user = session.get(User, uid) if uid else None
        if user is not None and user.department_id is not None:
            people[user.department_id] = user.id

    t0 = NUMBER_DAY
    gauge = session.scalar(select(Thing).where(Thing.device_key == "river_gauge-01"))
    system = Actor(id=None, name="system", permissions=frozenset({EMERGENCY_COMMAND}))
    event = events.start(
        session,
        actor=system,
        type=plan.type,
        level=ResponseLevel.IV,
        title=f"{plan.name}：{gauge.name if gauge else '妙高溪水位站'}水位超过 4.0 m",
        plan_id=plan.id,
        version_id=plan.current_version_id,
        source=EventSource.PLAN,
        description="6月18日午后强降雨，妙高溪水位持续上涨，超过警戒水位。",
        at=t0,
        lon=gauge.lon if gauge else None,
        lat=gauge.lat if gauge else None,
        place=gauge.name if gauge else "妙高溪",
    )
    _answer(session, event, people, t0)
    cmd = events_tasks.give_command(
        session,
        actor=boss,
        event_id=event.id,
        at=t0 + timedelta(minutes=25),
        text="各单位立即进入防汛应急状态，30 分钟内报告到岗情况。",
    )
    _ack_command(session, cmd.id, people, t0 + timedelta(minutes=31))

    t1 = t0 + timedelta(hours=3)
    events.escalate(
        session,
        actor=boss,
        event_id=event.id,
        level=ResponseLevel.III,
        at=t1,
        reason="妙高溪水位超过 4.6 m，且上游仍有强降雨",
    )
    _answer(session, event, people, t1)
    cmd = events_tasks.give_command(
        session,
        actor=boss,
        event_id=event.id,
        at=t1 + timedelta(minutes=10),
        text="大柘镇、妙高街道立即组织沿溪低洼地带群众转移，每两小时报告转移人数。",
    )
    _ack_command(session, cmd.id, people, t1 + timedelta(minutes=18))
    events.note(
        session,
        actor=boss,
        event_id=event.id,
        at=t1 + timedelta(hours=2),
        text="21:00 会商：上游雨势减弱，水位预计凌晨开始回落。",
    )

    t2 = t0 + timedelta(hours=20)  # 09:40 the next morning
    events.lower(
        session,
        actor=boss,
        event_id=event.id,
        level=ResponseLevel.IV,
        at=t2,
        reason="水位回落至 4.2 m 以下，雨势明显减弱",
    )
    t3 = t0 + timedelta(days=1, hours=22)  # the third day, 11:40
    events.note(
        session, actor=boss, event_id=event.id, at=t3 - timedelta(hours=1), text="转移群众已全部返回，未发生人员伤亡。"
    )
    events.close(session, actor=boss, event_id=event.id, at=t3, note="水位回落至警戒水位以下，险情解除，响应结束。")
    ctx.notes.append(
        f"Emergency: a past flood event {event.number} of SC-FX (IV → III → IV → ended), tasks and commands"
    )


def _answer(session: Session, event: EmergencyEvent, people: dict[int, int], at: datetime) -> None:
    """Every task issued at AT is acknowledged within minutes and done — the last one of the level late."""
    names = events.department_names(
        session, set(people) | {t.department_id for t in events.tasks_of(session, event_id=event.id)}
    )
    rows = session.scalars(
        select(EventTask)
        .where(EventTask.event_id == event.id, EventTask.issued_at == at, EventTask.state == TaskState.ISSUED)
        .order_by(EventTask.id)
    ).all()
    for i, task in enumerate(rows):
        who = _worker(task.department_id, people)
        name = names.get(task.department_id, "")
        events_tasks.acknowledge(session, actor=who, task_id=task.id, at=at + timedelta(minutes=4 + i))
        span = task.deadline_at - at
        finish = task.deadline_at + timedelta(minutes=25) if i == len(rows) - 1 else at + span * 0.7
        events_tasks.feedback(
            session,
            actor=who,
            task_id=task.id,
            at=finish - timedelta(minutes=5),
            text=FEEDBACK.get(name, "已按预案落实。"),
        )
        events_tasks.done(session, actor=who, task_id=task.id, at=finish, text="按要求完成，现场已核实")


def _ack_command(session: Session, command_id: int, people: dict[int, int], at: datetime) -> None:
    from countyos.safety.models.events import CommandTarget

    targets = session.scalars(select(CommandTarget).where(CommandTarget.command_id == command_id)).all()
    for i, t in enumerate(targets):
        who = _worker(t.department_id, people)
        events_tasks.acknowledge_command(
            session, actor=who, command_id=command_id, reply="收到，已落实", at=at + timedelta(minutes=i)
        )
