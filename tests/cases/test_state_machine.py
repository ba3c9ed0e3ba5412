"""Property: random sequences of actions by random roles never leave the transition table, never lose a
timeline entry, and a step's deadline moves only by an approved action (or a new step)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from countyos.cases import lifecycle
from countyos.cases.lifecycle import Action, State
from countyos.cases.models import Case, CaseEvent, Satisfaction, SupervisionLevel
from countyos.cases.schemas import ActionIn
from countyos.cases.service import transitions
from countyos.core.errors import CountyError
from countyos.core.workcal import TimeUnit
from countyos.org.models import AuditEvent
from tests.cases.conftest import actor_of
from tests.cases.test_lifecycle import report

CST = ZoneInfo("Asia/Shanghai")
PEOPLE = ("intake", "shift", "dispatcher", "handler", "handler2", "inspector", "leader")

ALL_ROLES = list(lifecycle.Role)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draw=st.data(), n=st.integers(min_value=5, max_value=40))
def test_random_sequences_stay_in_the_table(db, world, draw, n):
    # Each example starts from the world as the test found it: its writes are undone when it ends (a
    # savepoint rolled back). Otherwise 40 examples pile their cases and every updated row version up
    # in the test's one open transaction, and on PostgreSQL each lookup walks them all.
    with db.engine.connect():
        run_sequence(db, world, draw, n)


def run_sequence(db, world, draw, n) -> None:
    t = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
    cid, _ = report(db, world, at=t)
    other, _ = report(db, world, lon=119.40, lat=28.70, at=t)  # a merge target far away
    actors = {name: actor_of(db, getattr(world, name)) for name in PEOPLE}
    with db.reading() as s:
        events_before = s.scalar(select(func.count()).where(CaseEvent.case_id == cid))
    applied = 0
    for _ in range(n):
        with db.reading() as s:
            c = s.get(Case, cid)
            before = (c.state, c.step, c.step_deadline, c.version, c.step_seq)
            resume_state = c.resume_state
        # half the time an action the table knows for this state (by anyone), else any action at all
        plausible = lifecycle.allowed(before[0], ALL_ROLES)
        pool = plausible if plausible and draw.draw(st.booleans()) else list(Action)
        action = draw.draw(st.sampled_from(pool))
        with db.reading() as s:
            c = s.get(Case, cid)
            able = [
                p
                for p in PEOPLE
                if set(transitions.acting_roles(s, actors[p], c)) & set(lifecycle.roles_for(c.state, action))
            ]
        who = draw.draw(st.sampled_from(able if able and draw.draw(st.booleans()) else list(PEOPLE)))
        t += timedelta(minutes=draw.draw(st.integers(min_value=1, max_value=600)))
        fresh_version = draw.draw(st.integers(0, 9)) > 0  # sometimes a stale version
        with db.reading() as s:
            roles = transitions.acting_roles(s, actors[who], s.get(Case, cid))
        data = ActionIn(
            action=action,
            version=before[3] if fresh_version else before[3] - 1,
            comment="因为",
            assignee_id=world.inspector.id,
            amount=1,
            unit=TimeUnit.WORKING_DAYS,
            result=True,
            satisfaction=Satisfaction.SATISFIED,
            level=SupervisionLevel.URGE,
            target_case_id=other,
            lon=119.31,  # relocate: a point in the other township of the fake geography
            lat=28.55,
        )
        try:
            with db.unit_of_work() as s:
                transitions.apply(s, actor=actors[who], case_id=cid, data=data, now=t)
        except CountyError as exc:
            assert exc.status in (403, 409, 422), exc
            with db.reading() as s:  # nothing half-written
                c = s.get(Case, cid)
                assert (c.state, c.step, c.step_deadline, c.version, c.step_seq) == before
            continue
        applied += 1
        assert fresh_version
        with db.reading() as s:
            c = s.get(Case, cid)
            expected = {lifecycle.next_state(before[0], action, r, resume_state) for r in roles} - {None}
            assert State(c.state) in expected
            assert c.version == before[3] + 1
            same_step = c.step == before[1] and c.step_seq == before[4]
            if same_step and action not in lifecycle.DEADLINE_ACTIONS:
                assert c.step_deadline == before[2], (action, before, c.step_deadline)
            if action is Action.APPROVE_EXTENSION:
                assert c.step_deadline > before[2]
            ev = s.scalar(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq.desc()).limit(1))
            assert ev.action == action and ev.to_state == c.state and ev.from_state == before[0]
    with db.reading() as s:
        events = s.scalars(select(CaseEvent.seq).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq)).all()
        assert list(events) == list(range(1, events_before + applied + 1))
        number = s.get(Case, cid).number
        audited = s.scalar(select(func.count()).where(AuditEvent.target_id == number, AuditEvent.action.like("case.%")))
        assert audited == 1 + applied
