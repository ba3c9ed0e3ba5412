"""The closed loop through the services: report → … → rated, with rework, extension, suspension."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from countyos.cases import lifecycle
from countyos.cases.lifecycle import Action, State
from countyos.cases.models import Case, CaseEvent, Channel, DispatchRecord, Notification, Satisfaction
from countyos.cases.schemas import ActionIn
from countyos.cases.service import cases, transitions
from countyos.cases.service.transitions import ActionForbidden, StaleCase, TransitionNotAllowed
from countyos.core.errors import ValidationFailed
from countyos.core.workcal import TimeUnit
from countyos.org.models import AuditEvent
from tests.cases.conftest import actor_of

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday morning


def report(db, world, *, category=None, lon=119.27, lat=28.59, key=None, at=T0, channel=Channel.GRID, reporter=None):
    with db.unit_of_work() as s:
        new = cases.NewCase(
            channel=channel,
            category_id=category or world.cat_manhole,
            description="井盖缺失，有人差点掉下去",
            lon=lon,
            lat=lat,
            idempotency_key=key,
            reporter=cases.ReporterIn(user_id=reporter.id if reporter else world.inspector.id, phone="13805710001"),
        )
        case, _, created = cases.create(s, actor=actor_of(db, reporter or world.inspector), new=new, now=at)
        return case.id, created


def act(db, p, case_id, action, at, **kw):
    with db.unit_of_work() as s:
        c = transitions.apply(s, actor=actor_of(db, p), case_id=case_id, data=ActionIn(action=action, **kw), now=at)
        return c.state, c.step_deadline, c.version


def test_table_is_complete():
    for t in lifecycle.transitions():
        assert t.roles, t
        assert t.target == lifecycle.RESUME or isinstance(t.target, State)
        assert t.action in lifecycle.ACTION_LABELS
    assert set(lifecycle.LABELS) == set(State)
    # every open state has a clock or is an approval that stops none
    assert set(lifecycle.STATE_STEP) == set(lifecycle.OPEN_STATES)


def test_whole_loop_with_rework(db, world):
    cid, created = report(db, world)
    assert created
    t = T0
    assert act(db, world.intake, cid, Action.ACCEPT, t + timedelta(minutes=5))[0] == State.ACCEPTED
    assert act(db, world.shift, cid, Action.REGISTER, t + timedelta(minutes=10))[0] == State.REGISTERED
    state, deadline, _ = act(db, world.dispatcher, cid, Action.DISPATCH, t + timedelta(minutes=15))
    assert state == State.DISPATCHED
    # area class A, handle limit 1 working day from 09:15 Monday → 09:15 Tuesday
    assert deadline == datetime(2026, 3, 3, 9, 15, tzinfo=CST)
    with db.reading() as s:
        c = s.get(Case, cid)
        assert c.department_id == world.works  # the routing rule on the 01 group
        assert s.scalar(select(DispatchRecord.overridden).where(DispatchRecord.case_id == cid)) is False
        # the department's handlers were told
        assert (
            s.scalar(select(Notification.user_id).where(Notification.case_id == cid, Notification.kind == "assigned"))
            == world.handler.id
        )
    act(db, world.handler, cid, Action.SIGN, t + timedelta(minutes=30))
    act(db, world.handler, cid, Action.FEEDBACK, t + timedelta(hours=3))
    act(db, world.intake, cid, Action.SEND_CHECK, t + timedelta(hours=3, minutes=5))  # → the reporting inspector
    state, deadline, _ = act(db, world.inspector, cid, Action.CHECK_FAIL, t + timedelta(hours=4), comment="还是缺")
    assert state == State.DISPATCHED
    act(db, world.handler, cid, Action.SIGN, t + timedelta(hours=4, minutes=10))
    act(db, world.handler, cid, Action.FEEDBACK, t + timedelta(hours=5))
    act(db, world.intake, cid, Action.SEND_CHECK, t + timedelta(hours=5, minutes=5))
    assert act(db, world.inspector, cid, Action.CHECK_PASS, t + timedelta(hours=5, minutes=30))[0] == State.CHECKED
    assert act(db, world.shift, cid, Action.CLOSE, t + timedelta(hours=6))[0] == State.CLOSED
    state, _, version = act(
        db, world.intake, cid, Action.RATE, t + timedelta(days=1), satisfaction=Satisfaction.SATISFIED
    )
    assert state == State.EVALUATED
    with db.reading() as s:
        c = s.get(Case, cid)
        assert (c.rework_count, c.is_open, c.closed_in_time, c.satisfaction) == (1, False, True, "satisfied")
        events = cases.timeline(s, case_id=cid)
        assert [e.action for e in events][:4] == ["report", "accept", "register", "dispatch"]
        assert len(events) == 14 and [e.seq for e in events] == list(range(1, 15))
        audited = s.scalar(
            select(func.count()).where(AuditEvent.target_id == c.number, AuditEvent.action.like("case.%"))
        )
        assert audited == 14
        assert version == 14  # one version per change


def test_disallowed_action_is_409_with_allowed_list(db, world):
    cid, _ = report(db, world)
    with pytest.raises(TransitionNotAllowed) as exc:
        act(db, world.handler, cid, Action.FEEDBACK, T0)
    assert exc.value.status == 409
    assert exc.value.extra()["allowed_actions"] == []  # a handler has nothing to do on a new report
    with pytest.raises(TransitionNotAllowed) as exc:
        act(db, world.intake, cid, Action.REGISTER, T0)
    assert "accept" in exc.value.extra()["allowed_actions"]
    with db.reading() as s:
        assert s.get(Case, cid).state == State.REPORTED
        assert len(cases.timeline(s, case_id=cid)) == 1


def test_stale_version_is_409(db, world):
    cid, _ = report(db, world)
    act(db, world.intake, cid, Action.ACCEPT, T0, version=1)
    with pytest.raises(StaleCase):
        act(db, world.shift, cid, Action.REGISTER, T0, version=1)


def test_handler_of_another_department_cannot_act(db, world):
    cid, _ = report(db, world)
    act(db, world.intake, cid, Action.ACCEPT, T0)
    act(db, world.shift, cid, Action.REGISTER, T0)
    act(db, world.dispatcher, cid, Action.DISPATCH, T0)
    with pytest.raises(ActionForbidden) as exc:  # the state allows signing, not by this department: 403
        act(db, world.handler2, cid, Action.SIGN, T0)
    assert exc.value.status == 403 and exc.value.extra()["allowed_actions"] == []


def _dispatched(db, world, at=T0):
    cid, _ = report(db, world, at=at)
    act(db, world.intake, cid, Action.ACCEPT, at)
    act(db, world.shift, cid, Action.REGISTER, at)
    act(db, world.dispatcher, cid, Action.DISPATCH, at)
    act(db, world.handler, cid, Action.SIGN, at)
    return cid


def test_extension_moves_the_deadline_only_when_approved(db, world):
    cid = _dispatched(db, world)
    with db.reading() as s:
        before = s.get(Case, cid).step_deadline
    _, d1, _ = act(db, world.handler, cid, Action.REQUEST_EXTENSION, T0, amount=2, unit=TimeUnit.WORKING_DAYS)
    assert d1 == before
    _, d2, _ = act(db, world.dispatcher, cid, Action.APPROVE_EXTENSION, T0)
    assert d2 == datetime(2026, 3, 5, 9, 0, tzinfo=CST)  # Tuesday 09:00 + 2 working days


def test_suspension_stops_the_clock(db, world):
    cid = _dispatched(db, world)
    with db.reading() as s:
        before = s.get(Case, cid).step_deadline  # Tuesday 09:00
    act(db, world.handler, cid, Action.REQUEST_SUSPENSION, T0 + timedelta(hours=1), comment="等待产权单位")
    act(db, world.shift, cid, Action.APPROVE_SUSPENSION, T0 + timedelta(hours=1))
    # suspended from Monday 10:00 to Wednesday 10:00: two working days stopped
    state, after, _ = act(db, world.shift, cid, Action.RESUME, datetime(2026, 3, 4, 10, 0, tzinfo=CST))
    assert state == State.HANDLING
    assert after == datetime(2026, 3, 5, 9, 0, tzinfo=CST)
    assert after - before == timedelta(days=2)


def test_return_and_redispatch(db, world):
    cid = _dispatched(db, world)
    act(db, world.handler, cid, Action.REQUEST_RETURN, T0, comment="不属于本部门")
    act(db, world.dispatcher, cid, Action.REFUSE_RETURN, T0)
    with db.reading() as s:
        assert s.get(Case, cid).state == State.HANDLING  # back where it was
    act(db, world.handler, cid, Action.REQUEST_RETURN, T0, comment="不属于本部门")
    assert act(db, world.dispatcher, cid, Action.APPROVE_RETURN, T0)[0] == State.REGISTERED
    with pytest.raises(ValidationFailed):  # overriding the suggestion needs a reason
        act(db, world.dispatcher, cid, Action.DISPATCH, T0, department_id=world.water)
    act(db, world.dispatcher, cid, Action.DISPATCH, T0, department_id=world.water, comment="水务设施")
    with db.reading() as s:
        rec = s.scalars(select(DispatchRecord).where(DispatchRecord.case_id == cid).order_by(DispatchRecord.id)).all()
        assert [r.overridden for r in rec] == [False, True]


def test_a_wrong_position_is_corrected_before_dispatch(db, world):
    """更正位置: grid, village, township and area class follow the new point; the deadline does not move;
    the timeline and the audit record say where from and where to; after dispatch it is no longer offered."""
    cid, _ = report(db, world, lon=119.27, lat=28.59)  # 妙高街道 (fake geo: west of 119.25), area class A
    act(db, world.intake, cid, Action.ACCEPT, T0)
    with db.reading() as s:
        before = s.get(Case, cid)
        deadline, grid = before.step_deadline, before.grid_code
    with pytest.raises(ValidationFailed):  # no position given
        act(db, world.dispatcher, cid, Action.RELOCATE, T0)
    with pytest.raises(ValidationFailed):  # outside the county
        act(db, world.dispatcher, cid, Action.RELOCATE, T0, lon=121.5, lat=31.2)
    assert act(db, world.dispatcher, cid, Action.RELOCATE, T0, lon=119.31, lat=28.55)[0] == State.ACCEPTED
    with db.reading() as s:
        c = s.get(Case, cid)
        assert (c.lon, c.lat, c.township_code, c.area_class) == (119.31, 28.55, "331123100", "B")
        assert c.grid_code != grid and c.step_deadline == deadline
        ev = s.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq.desc())).first()
        assert ev.action == "relocate" and ev.context["from"]["grid"] == grid and ev.context["to"]["lon"] == 119.31
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.relocate")).one()
        assert audit.detail["to"]["grid"] == c.grid_code
    act(db, world.shift, cid, Action.REGISTER, T0)
    act(db, world.dispatcher, cid, Action.DISPATCH, T0, department_id=world.works)
    with pytest.raises(TransitionNotAllowed):
        act(db, world.dispatcher, cid, Action.RELOCATE, T0, lon=119.27, lat=28.59)


def test_void_needs_the_shift_leader(db, world):
    cid, _ = report(db, world)
    act(db, world.intake, cid, Action.ACCEPT, T0)
    act(db, world.intake, cid, Action.REQUEST_VOID, T0, comment="重复")
    with pytest.raises(ActionForbidden) as exc:
        act(db, world.intake, cid, Action.APPROVE_VOID, T0)
    assert exc.value.status == 403 and exc.value.code == "permission_denied"
    assert act(db, world.shift, cid, Action.REFUSE_VOID, T0)[0] == State.ACCEPTED
    act(db, world.intake, cid, Action.REQUEST_VOID, T0, comment="重复")
    assert act(db, world.shift, cid, Action.APPROVE_VOID, T0)[0] == State.VOIDED


def test_idempotency_key_returns_the_first_case(db, world):
    a, created_a = report(db, world, key="device-1:0001")
    b, created_b = report(db, world, key="device-1:0001")
    assert a == b and created_a and not created_b
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_outside_the_county_is_rejected(db, world):
    with pytest.raises(ValidationFailed) as exc:
        report(db, world, lon=120.5, lat=30.2)
    assert exc.value.code == "outside_county"
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_duplicate_is_flagged_and_merge_moves_reporters(db, world):
    first, _ = report(db, world)
    second, _ = report(db, world, lon=119.2702, at=T0 + timedelta(hours=1))
    with db.reading() as s:
        assert s.get(Case, second).duplicate_of_id == first
    act(db, world.intake, second, Action.MERGE, T0 + timedelta(hours=2), target_case_id=first)
    with db.reading() as s:
        assert s.get(Case, second).state == State.MERGED
        assert len(cases.reporters(s, case_id=first)) == 2
        assert "merged_in" in [e.action for e in cases.timeline(s, case_id=first)]


def test_supervision_is_recorded_without_changing_state(db, world):
    cid = _dispatched(db, world)
    from countyos.cases.models import Supervision, SupervisionLevel

    state, _d, _ = act(db, world.leader, cid, Action.SUPERVISE, T0, level=SupervisionLevel.LISTED, comment="限期整改")
    assert state == State.HANDLING
    with db.reading() as s:
        sup = s.scalar(select(Supervision).where(Supervision.case_id == cid))
        assert sup.level == "listed" and sup.department_id == world.works


def test_queue_order_overdue_then_urgency_then_deadline(db, world):
    from countyos.cases.service.cases import CaseFilter, list_cases
    from countyos.core.paging import PageParams

    now = datetime(2026, 3, 3, 10, 0, tzinfo=CST)
    old, _ = report(db, world, at=datetime(2026, 3, 2, 9, 0, tzinfo=CST))  # accept limit 1 wh: overdue
    normal, _ = report(db, world, lon=119.40, lat=28.70, at=now - timedelta(minutes=30))
    critical, _ = report(db, world, lon=119.10, lat=28.45, at=now - timedelta(minutes=5))
    with db.unit_of_work() as s:
        s.get(Case, critical).priority = "critical"
    with db.reading() as s:
        rows, _ = list_cases(s, actor=actor_of(db, world.intake), f=CaseFilter(open=True), page=PageParams(), now=now)
        assert [c.id for c in rows] == [old, critical, normal]
