"""The 办件 transition table: exact rows, the step moves, 即办件, refusals with the allowed list, and a
property test over random actions by random roles with an in-memory timeline."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from countyos.core import i18n
from countyos.services import lifecycle
from countyos.services.lifecycle import (
    Action,
    Clock,
    Decision,
    Move,
    Position,
    Role,
    State,
    TransitionNotAllowed,
    allowed,
    apply,
)

A, R, S = Action, Role, State
TERMINAL = {S.REJECTED, S.DELIVERED, S.WITHDRAWN}


def test_the_window_decides_on_a_submitted_application() -> None:
    assert allowed(S.SUBMITTED, R.WINDOW) == [A.REQUEST_CORRECTION, A.ACCEPT, A.ACCEPT_IMMEDIATE, A.REJECT, A.COMMENT]
    assert allowed(S.SUBMITTED, R.APPLICANT) == [A.WITHDRAW]
    assert allowed(S.SUBMITTED, R.AGENT) == [A.WITHDRAW]
    assert allowed(S.SUBMITTED, R.STEP_HANDLER) == [A.COMMENT]
    assert allowed(S.DRAFT, R.AGENT) == [A.SUBMIT, A.WITHDRAW]
    assert allowed(S.DRAFT, R.SUPERVISOR) == []
    assert allowed(S.IN_PROGRESS, R.STEP_HANDLER) == [A.PASS, A.RETURN, A.STEP_OTHER, A.START_SPECIAL, A.COMMENT]
    assert allowed(S.IN_PROGRESS, R.WINDOW) == [A.COMMENT]
    assert allowed(S.SPECIAL_PROCEDURE, R.SUPERVISOR) == [A.END_SPECIAL, A.SUPERVISE, A.COMMENT]
    assert allowed(S.CORRECTION_REQUESTED, R.WINDOW) == [A.RESUBMIT, A.LAPSE, A.COMMENT]
    assert allowed(S.DECIDED, R.WINDOW) == [A.DELIVER]
    assert allowed(S.DECIDED, [R.APPLICANT, R.AGENT, R.STEP_HANDLER, R.SUPERVISOR]) == []


def test_terminal_states_allow_nothing_and_every_other_state_something() -> None:
    for state in State:
        anything = allowed(state, list(Role))
        assert (anything == []) is (state in TERMINAL), state


def test_table_rows_are_unique_and_every_state_is_reachable_from_draft() -> None:
    rows = lifecycle.transitions()
    assert len({(t.state, t.action) for t in rows}) == len(rows)
    seen, todo = {Position(S.DRAFT)}, deque([Position(S.DRAFT)])
    while todo:
        here = todo.popleft()
        for action in allowed(here.state, list(Role)):
            for role in lifecycle.roles_for(here.state, action):
                there = lifecycle.next_position(here, action, role, steps=2)
                assert there is not None
                if there not in seen:
                    seen.add(there)
                    todo.append(there)
    assert {p.state for p in seen} == set(State)


def test_steps_go_forward_on_pass_and_back_on_return() -> None:
    h = R.STEP_HANDLER
    p = apply(Position(S.SUBMITTED), A.ACCEPT, R.WINDOW, steps=3)
    assert p == Position(S.IN_PROGRESS, 0)
    p = apply(p, A.PASS, h, steps=3)
    assert p == Position(S.IN_PROGRESS, 1)
    p = apply(p, A.STEP_OTHER, h, steps=3)
    assert p == Position(S.IN_PROGRESS, 1)
    p = apply(p, A.RETURN, h, steps=3)  # 退回: the previous step is 待办 again
    assert p == Position(S.IN_PROGRESS, 0)
    p = apply(p, A.RETURN, h, steps=3)  # 退回 from the first step: back to the applicant for materials
    assert p == Position(S.SUPPLEMENT_REQUESTED, 0)
    p = apply(p, A.RESUBMIT, R.AGENT, steps=3)
    assert p == Position(S.IN_PROGRESS, 0)
    p = apply(apply(p, A.PASS, h, steps=3), A.PASS, h, steps=3)
    assert p == Position(S.IN_PROGRESS, 2)
    with pytest.raises(ValueError, match="decision"):
        apply(p, A.PASS, h, steps=3)  # the last step concludes: it needs 准予/不予
    p = apply(p, A.PASS, h, steps=3, decision=Decision.DENIED)
    assert p == Position(S.DECIDED)
    assert apply(p, A.DELIVER, R.WINDOW, steps=3) == Position(S.DELIVERED)


def test_special_procedure_stops_the_clock_and_keeps_the_step() -> None:
    p = apply(Position(S.IN_PROGRESS, 1), A.START_SPECIAL, R.STEP_HANDLER, steps=2)
    assert p == Position(S.SPECIAL_PROCEDURE, 1)
    assert lifecycle.clock(p.state) is Clock.STOPPED
    assert allowed(p.state, R.STEP_HANDLER) == [A.END_SPECIAL, A.COMMENT]
    p = apply(p, A.END_SPECIAL, R.SUPERVISOR, steps=2)
    assert p == Position(S.IN_PROGRESS, 1)
    assert lifecycle.clock(p.state) is Clock.RUNNING


def test_an_immediate_matter_closes_on_acceptance() -> None:
    p = apply(Position(S.SUBMITTED), A.ACCEPT_IMMEDIATE, R.WINDOW, steps=0, decision=Decision.GRANTED)
    assert p == Position(S.DECIDED)
    with pytest.raises(ValueError, match="decision"):
        apply(Position(S.SUBMITTED), A.ACCEPT_IMMEDIATE, R.WINDOW, steps=0)
    with pytest.raises(ValueError, match="decision"):
        apply(Position(S.SUBMITTED), A.REJECT, R.WINDOW, steps=0, decision=Decision.GRANTED)
    with pytest.raises(ValueError, match="at least one step"):
        apply(Position(S.SUBMITTED), A.ACCEPT, R.WINDOW, steps=0)  # a 承诺件 needs its steps


def test_the_correction_loop_before_acceptance() -> None:
    p = apply(Position(S.SUBMITTED), A.REQUEST_CORRECTION, R.WINDOW, steps=1)
    assert p == Position(S.CORRECTION_REQUESTED)
    assert lifecycle.clock(p.state) is Clock.NOT_STARTED
    assert apply(p, A.RESUBMIT, R.APPLICANT, steps=1) == Position(S.SUBMITTED)
    assert apply(p, A.LAPSE, R.WINDOW, steps=1) == Position(S.WITHDRAWN)


def test_a_refusal_is_a_409_with_the_allowed_actions_in_the_interface_language() -> None:
    with pytest.raises(TransitionNotAllowed) as info:
        apply(Position(S.SUBMITTED), A.ACCEPT, R.APPLICANT, steps=2)
    exc = info.value
    assert exc.status == 409
    assert exc.extra() == {"state": "submitted", "allowed_actions": ["withdraw"]}
    with i18n.use_locale("zh_CN"):
        assert exc.message == "申请处于“已提交，待受理”状态，不能执行“受理”"
        assert exc.problem()["allowed_actions"] == ["withdraw"]
    with i18n.use_locale("en"):
        assert exc.message == "Accept is not allowed on an application that is Submitted, awaiting acceptance"


def test_every_state_action_role_and_code_has_a_label() -> None:
    assert set(lifecycle.LABELS) == {s.value for s in State}
    assert set(lifecycle.ACTION_LABELS) == {a.value for a in Action}
    assert set(lifecycle.ROLE_LABELS) == {r.value for r in Role}
    assert set(lifecycle.DECISION_LABELS) == {d.value for d in Decision}
    assert set(lifecycle.DELIVERY_LABELS) == {d.value for d in lifecycle.DeliveryMethod}
    assert set(lifecycle.CLOCK_LABELS) == {c.value for c in Clock}
    assert set(lifecycle.CLOCK) == set(State)
    assert lifecycle.STEP_STATUS_CODES == {lifecycle.StepStatus.PENDING: "1", lifecycle.StepStatus.DONE: "2"}
    assert lifecycle.STEP_BUSINESS_ACTIONS == {A.PASS: "通过", A.RETURN: "退回", A.STEP_OTHER: "其他"}
    with i18n.use_locale("zh_CN"):
        for label in [*lifecycle.LABELS.values(), *lifecycle.ACTION_LABELS.values(), *lifecycle.ROLE_LABELS.values()]:
            assert i18n.gettext(label) != label, label


def test_the_clock_is_stopped_only_in_special_procedure_and_supplement() -> None:
    stopped = {s for s in State if lifecycle.clock(s) is Clock.STOPPED}
    assert stopped == {S.SPECIAL_PROCEDURE, S.SUPPLEMENT_REQUESTED}
    assert {s for s in State if lifecycle.clock(s) is Clock.RUNNING} == {S.IN_PROGRESS}
    assert {s for s in State if lifecycle.clock(s) is Clock.NOT_STARTED} == {
        S.DRAFT,
        S.SUBMITTED,
        S.CORRECTION_REQUESTED,
    }


# -- property test --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One timeline row: what an applied action did (the model of the 办件 timeline)."""

    before: Position
    action: Action
    role: Role
    decision: Decision | None
    after: Position


def _expected(position: Position, action: Action, role: Role, steps: int) -> Position | None:
    """What the table rows say, worked out independently of ``next_position``."""
    rows = [t for t in lifecycle.transitions() if t.state is position.state and t.action is action]
    if not rows or role not in rows[0].roles:
        return None
    target, step = rows[0].target, position.step
    if isinstance(target, State):
        return Position(target, step if target in lifecycle.STEP_STATES else None)
    if target is Move.FIRST_STEP:
        return Position(S.IN_PROGRESS, 0)
    assert step is not None
    if target is Move.SAME_STEP:
        return Position(S.IN_PROGRESS, step)
    if target is Move.NEXT_STEP:
        return Position(S.IN_PROGRESS, step + 1) if step + 1 < steps else Position(S.DECIDED)
    return Position(S.IN_PROGRESS, step - 1) if step > 0 else Position(S.SUPPLEMENT_REQUESTED, 0)


_ORDER = {Clock.NOT_STARTED: 0, Clock.RUNNING: 1, Clock.STOPPED: 1, Clock.ENDED: 2}


@settings(max_examples=300, deadline=None)
@given(steps=st.integers(min_value=1, max_value=4), n=st.integers(min_value=1, max_value=60), draw=st.data())
def test_random_actions_by_random_roles_never_leave_the_table(steps: int, n: int, draw: st.DataObject) -> None:
    position = Position(S.DRAFT)
    timeline: list[Entry] = []
    stopped_in: set[State] = set()
    for _ in range(n):
        # half the time an action the table knows here (by its roles), else anything by anyone
        plausible = allowed(position.state, list(Role))
        if plausible and draw.draw(st.booleans()):
            action = draw.draw(st.sampled_from(plausible))
            role = draw.draw(st.sampled_from(lifecycle.roles_for(position.state, action)))
        else:
            action, role = draw.draw(st.sampled_from(list(Action))), draw.draw(st.sampled_from(list(Role)))
        expected = _expected(position, action, role, steps)
        if expected is None:
            with pytest.raises(TransitionNotAllowed) as info:
                apply(position, action, role, steps=steps, decision=Decision.GRANTED)
            offered = info.value.extra()["allowed_actions"]
            assert offered == [str(a) for a in allowed(position.state, role)]
            assert str(action) not in offered
            continue  # nothing recorded for a refusal
        decision = Decision.GRANTED if expected.state is S.DECIDED else None
        after = apply(position, action, role, steps=steps, decision=decision)
        assert after == expected
        assert action in allowed(position.state, role)
        # the step index exists exactly in the step states and stays within the matter's steps
        assert (after.step is not None) is (after.state in lifecycle.STEP_STATES)
        assert after.step is None or 0 <= after.step < steps
        # the clock never goes back: not started → running/stopped → ended
        assert _ORDER[lifecycle.clock(after.state)] >= _ORDER[lifecycle.clock(position.state)]
        timeline.append(Entry(position, action, role, decision, after))
        position = after
        if lifecycle.clock(position.state) is Clock.STOPPED:
            stopped_in.add(position.state)
    assert stopped_in <= {S.SPECIAL_PROCEDURE, S.SUPPLEMENT_REQUESTED}
    # every applied action is one timeline entry, chained without a gap, and replaying it gives the same place
    for earlier, later in itertools.pairwise(timeline):
        assert earlier.after == later.before
    replay = Position(S.DRAFT)
    for entry in timeline:
        assert entry.before == replay
        replay = apply(replay, entry.action, entry.role, steps=steps, decision=entry.decision)
    assert replay == position
