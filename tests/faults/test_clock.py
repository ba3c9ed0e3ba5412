"""Clock jumps and the 春节 boundary do not break deadlines.

The server's clock is moved with time-machine, the way it moves on a real server: through a holiday
while cases wait, backwards (an NTP correction, a VM restored from a snapshot) and forwards by days
(a machine suspended over a holiday). Deadlines keep counting working time only, a clock running
backwards never shortens a deadline or makes a duration negative, and each warning is sent once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from countyos.cases import jobs
from countyos.cases.lifecycle import Action, State
from countyos.cases.models import Case, CaseEvent, Notification
from countyos.cases.schemas import ActionIn
from countyos.cases.service import timers, transitions
from countyos.core.clock import utcnow
from countyos.core.workcal import calendar
from countyos.org.service import audit
from tests.security.world import World, new_case

CST = ZoneInfo("Asia/Shanghai")


def act(db, w: World, who, cid: int, action: Action, **kw) -> Case:
    with db.unit_of_work() as s:
        return transitions.apply(s, actor=w.actor(db, who), case_id=cid, data=ActionIn(action=action, **kw))


def dispatched(db, w: World) -> int:
    cid = new_case(db, w, w.worker_a, w.cat_manhole, w.point_a)
    act(db, w, w.intake, cid, Action.ACCEPT)
    act(db, w, w.shift, cid, Action.REGISTER)
    act(db, w, w.dispatcher, cid, Action.DISPATCH)
    return cid


def case_of(db, cid: int) -> Case:
    """The case as stored now, detached with its columns loaded."""
    with db.reading() as s:
        c = s.get_one(Case, cid)
        s.expunge(c)
        return c


def level_now(db, cid: int) -> timers.Level:
    with db.reading() as s:
        return timers.level(s.get_one(Case, cid), utcnow())


def warnings_of(db, cid: int) -> list[tuple[int | None, str]]:
    """(person, level) of the yellow and red notifications queued for the case."""
    with db.reading() as s:
        return [
            (u, k)
            for u, k in s.execute(
                select(Notification.user_id, Notification.kind).where(
                    Notification.case_id == cid, Notification.kind.in_(("yellow", "red"))
                )
            ).all()
        ]


def sweep(db) -> dict[str, int]:
    with db.unit_of_work() as s:
        return jobs.sweep(s)  # on the server's (travelled) clock


@pytest.mark.parametrize(
    "dispatch_at,break_days",
    [
        # 2026: Saturday 14 Feb is an adjusted working day (调休), 16–23 Feb are the break
        (datetime(2026, 2, 14, 16, 45, tzinfo=CST), [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]),
        # 2027 (provisional calendar file): 5–8 Feb off
        (datetime(2027, 2, 4, 17, 0, tzinfo=CST), [date(2027, 2, 5) + timedelta(days=i) for i in range(4)]),
    ],
)
def test_deadlines_across_the_spring_festival_with_the_clock_running_through_it(db, world, dispatch_at, break_days):
    cal = calendar()
    with time_machine.travel(dispatch_at, tick=False):
        cid = dispatched(db, world)
    c = case_of(db, cid)
    assert c.state == State.DISPATCHED and c.step_deadline is not None
    # the clock of the step counts working time only: the limit, exactly, and the deadline falls on a
    # working day after the break
    assert cal.working_time_between(c.step_started_at, c.step_deadline) == timedelta(seconds=c.step_limit_s)
    deadline_day = c.step_deadline.astimezone(CST).date()
    assert cal.is_working_day(deadline_day) and deadline_day > break_days[-1]
    assert not any(cal.is_working_day(d) for d in break_days)
    # the server's clock runs through the break: no warning, however many sweeps
    for d in break_days:
        with time_machine.travel(datetime(d.year, d.month, d.day, 15, 0, tzinfo=CST), tick=False):
            sweep(db)
            assert level_now(db, cid) is timers.Level.GREEN
    assert warnings_of(db, cid) == []
    with time_machine.travel(c.step_deadline - timedelta(minutes=1), tick=False):
        assert level_now(db, cid) is not timers.Level.RED
    with time_machine.travel(c.step_deadline + timedelta(minutes=1), tick=False):
        sweep(db)
        assert level_now(db, cid) is timers.Level.RED
    assert {k for _, k in warnings_of(db, cid)} == {"red"}


def test_a_clock_running_backwards_never_shortens_a_deadline(db, world):
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)  # a Monday
    with time_machine.travel(t0, tick=False):
        cid = dispatched(db, world)
        act(db, world, world.handler_works, cid, Action.SIGN)
    handling = case_of(db, cid)
    first_deadline = handling.step_deadline
    with time_machine.travel(t0 + timedelta(minutes=30), tick=False):
        act(db, world, world.handler_works, cid, Action.REQUEST_SUSPENSION, comment="等待配件")
        act(db, world, world.shift, cid, Action.APPROVE_SUSPENSION)
    # NTP corrects the clock by three hours backwards, then the case is resumed
    with time_machine.travel(t0 - timedelta(hours=3), tick=False):
        act(db, world, world.shift, cid, Action.RESUME)
        sweep(db)
    assert warnings_of(db, cid) == []
    c = case_of(db, cid)
    assert c.state == State.HANDLING and c.paused_at is None
    assert c.step_paused_s >= 0 and c.step_deadline >= first_deadline
    assert c.step_deadline > c.step_started_at
    with db.reading() as s:
        events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq)))
        assert [e.seq for e in events] == list(range(1, c.version + 1))
        assert [e.action for e in events][-3:] == ["request_suspension", "approve_suspension", "resume"]
        assert audit.verify(s).ok  # the chain is ordered by sequence, not by the clock


def test_a_clock_jumping_forward_by_days_sends_each_warning_once(db, world):
    t0 = datetime(2026, 3, 3, 9, 0, tzinfo=CST)
    with time_machine.travel(t0, tick=False):
        cid = dispatched(db, world)
    deadline = case_of(db, cid).step_deadline
    # the machine was suspended; it wakes up ten days later and the scheduler catches up at once
    with time_machine.travel(t0 + timedelta(days=10), tick=False):
        sweep(db)
        once = warnings_of(db, cid)
        sweep(db)
        sweep(db)
    assert once and {k for _, k in once} == {"red"}  # straight to red, no stale yellow
    assert warnings_of(db, cid) == once and len(once) == len(set(once))  # each person told once
    assert case_of(db, cid).step_deadline == deadline  # nothing recomputed by the jump
