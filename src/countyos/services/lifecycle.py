"""The 办件 (application) lifecycle: states, actions, roles and the ONE transition table.

Nothing else decides what may happen to an application; it asks this table (state × action × role →
state). GB/T 39046-2020 表5–表8 and the 行政许可法 shape it::

    DRAFT 草稿 ─提交→ SUBMITTED 待受理 ─受理→ IN_PROGRESS 办理中 (step 1 待办) ─通过→ … ─通过 (last)→ DECIDED 办结
    SUBMITTED ─即办件受理→ DECIDED (准予/不予 at once)                      DECIDED ─送达→ DELIVERED 已送达
    SUBMITTED ─不予受理→ REJECTED
    SUBMITTED ─补正告知 (一次性告知)→ CORRECTION_REQUESTED 补正中 ─补正提交→ SUBMITTED
    IN_PROGRESS ─退回 (step k>1)→ IN_PROGRESS at step k-1
    IN_PROGRESS ─退回 (first step)→ SUPPLEMENT_REQUESTED 办理中补正 ─补正提交→ IN_PROGRESS at the first step
    IN_PROGRESS ─特别程序开始→ SPECIAL_PROCEDURE 特别程序 (clock stopped) ─特别程序结束→ IN_PROGRESS
    every state before DECIDED ─撤回→ WITHDRAWN; 补正 not made in time ─视为撤回→ WITHDRAWN

已受理 is the event that starts the first step, not a resting state: an accepted 承诺件 is IN_PROGRESS
with its first step 待办 (表7 环节办理状态 1), and the timeline keeps the 受理 entry (表6). 准予 and
不予 are the ``Decision`` of DECIDED, not two states. A step's 业务动作 (表7) is PASS 通过, RETURN 退回 or
STEP_OTHER 其他; which department's staff act as STEP_HANDLER is the caller's business (the current
step's department), the table only says that a step handler acts.

Clocks (``CLOCK``): nothing runs before 受理 (the count starts at acceptance). The clock runs while
IN_PROGRESS and is stopped in SPECIAL_PROCEDURE (A.7: 延长审批, 听证/检验/检测/鉴定 …) and in
SUPPLEMENT_REQUESTED (补正 after acceptance; by default the count restarts when the materials come back
complete, see ``deadlines.CorrectionPolicy``). It has ended in DECIDED, DELIVERED, REJECTED and WITHDRAWN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from countyos.core import errors
from countyos.core.i18n import N_


class State(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交 / 待受理
    CORRECTION_REQUESTED = "correction_requested"  # 补正中 (受理前, 一次性告知 of everything missing)
    REJECTED = "rejected"  # 不予受理
    IN_PROGRESS = "in_progress"  # 办理中 (已受理; the matter's steps)
    SUPPLEMENT_REQUESTED = "supplement_requested"  # 办理中补正 (a first step returned it to the applicant)
    SPECIAL_PROCEDURE = "special_procedure"  # 特别程序 (clock stopped)
    DECIDED = "decided"  # 办结 (准予 / 不予: ``Decision``)
    DELIVERED = "delivered"  # 已送达
    WITHDRAWN = "withdrawn"  # 撤回 (or 视为撤回)


class Action(StrEnum):
    SUBMIT = "submit"  # 提交
    REQUEST_CORRECTION = "request_correction"  # 补正告知 (一次性告知)
    RESUBMIT = "resubmit"  # 补正提交
    ACCEPT = "accept"  # 受理 (承诺件)
    ACCEPT_IMMEDIATE = "accept_immediate"  # 受理并即办 (即办件: 办结 at once)
    REJECT = "reject"  # 不予受理
    PASS = "pass"  # 环节 通过
    RETURN = "return"  # 环节 退回
    STEP_OTHER = "step_other"  # 环节 其他 (recorded; the step stays 待办)
    START_SPECIAL = "start_special"  # 特别程序开始
    END_SPECIAL = "end_special"  # 特别程序结束
    DELIVER = "deliver"  # 送达 (窗口领取 / 快递 / 电子送达)
    WITHDRAW = "withdraw"  # 撤回
    LAPSE = "lapse"  # 逾期未补正, 视为撤回
    SUPERVISE = "supervise"  # 督办 (recorded, state unchanged)
    COMMENT = "comment"  # 备注 (recorded, state unchanged)


class Role(StrEnum):
    APPLICANT = "applicant"  # 申请人 (the resident or enterprise)
    AGENT = "agent"  # 代办员 (帮办代办, with the applicant's recorded consent)
    WINDOW = "window"  # 窗口人员
    STEP_HANDLER = "step_handler"  # 审批人员 of the current step's department
    SUPERVISOR = "supervisor"  # 监督 (政务服务中心 / 电子监察)


class Decision(StrEnum):
    """办结 outcome (表8 办件结果描述)."""

    GRANTED = "granted"  # 准予
    DENIED = "denied"  # 不予


class StepStatus(StrEnum):
    """表7 环节办理状态."""

    PENDING = "pending"  # 1 待办
    DONE = "done"  # 2 已办


class DeliveryMethod(StrEnum):
    """How the result reaches the applicant (表8 是否快递寄送结果, 表15 物流)."""

    WINDOW = "window"  # 窗口领取
    EXPRESS = "express"  # 快递寄送 (with a tracking number)
    ELECTRONIC = "electronic"  # 电子送达 (电子证照)


class Clock(StrEnum):
    """What the time limit does while an application is in a state."""

    NOT_STARTED = "not_started"  # before 受理
    RUNNING = "running"
    STOPPED = "stopped"  # 特别程序 / 办理中补正: the time is not counted
    ENDED = "ended"


class Move(StrEnum):
    """Targets that depend on where the application is in the matter's steps."""

    FIRST_STEP = "first_step"  # IN_PROGRESS at the first step
    SAME_STEP = "same_step"  # IN_PROGRESS at the step it was at
    NEXT_STEP = "next_step"  # the next step, or DECIDED after the last one
    PREVIOUS_STEP = "previous_step"  # the previous step, or SUPPLEMENT_REQUESTED from the first one


S, A, R = State, Action, Role
_APPLICANTS = (R.APPLICANT, R.AGENT)
_FILERS = (R.APPLICANT, R.AGENT, R.WINDOW)
_SPECIAL = (R.STEP_HANDLER, R.SUPERVISOR)

# (state, action) → (roles allowed, target). ONE table; ``allowed``/``next_position`` read only it.
_TABLE: dict[tuple[State, Action], tuple[tuple[Role, ...], State | Move]] = {
    (S.DRAFT, A.SUBMIT): (_FILERS, S.SUBMITTED),
    (S.DRAFT, A.WITHDRAW): (_FILERS, S.WITHDRAWN),
    (S.SUBMITTED, A.REQUEST_CORRECTION): ((R.WINDOW,), S.CORRECTION_REQUESTED),
    (S.SUBMITTED, A.ACCEPT): ((R.WINDOW,), Move.FIRST_STEP),
    (S.SUBMITTED, A.ACCEPT_IMMEDIATE): ((R.WINDOW,), S.DECIDED),
    (S.SUBMITTED, A.REJECT): ((R.WINDOW,), S.REJECTED),
    (S.SUBMITTED, A.WITHDRAW): (_APPLICANTS, S.WITHDRAWN),
    (S.CORRECTION_REQUESTED, A.RESUBMIT): (_FILERS, S.SUBMITTED),
    (S.CORRECTION_REQUESTED, A.WITHDRAW): (_APPLICANTS, S.WITHDRAWN),
    (S.CORRECTION_REQUESTED, A.LAPSE): ((R.WINDOW, R.SUPERVISOR), S.WITHDRAWN),
    (S.IN_PROGRESS, A.PASS): ((R.STEP_HANDLER,), Move.NEXT_STEP),
    (S.IN_PROGRESS, A.RETURN): ((R.STEP_HANDLER,), Move.PREVIOUS_STEP),
    (S.IN_PROGRESS, A.STEP_OTHER): ((R.STEP_HANDLER,), Move.SAME_STEP),
    (S.IN_PROGRESS, A.START_SPECIAL): (_SPECIAL, S.SPECIAL_PROCEDURE),
    (S.IN_PROGRESS, A.WITHDRAW): (_APPLICANTS, S.WITHDRAWN),
    (S.SUPPLEMENT_REQUESTED, A.RESUBMIT): (_FILERS, Move.FIRST_STEP),
    (S.SUPPLEMENT_REQUESTED, A.WITHDRAW): (_APPLICANTS, S.WITHDRAWN),
    (S.SUPPLEMENT_REQUESTED, A.LAPSE): ((R.WINDOW, R.SUPERVISOR), S.WITHDRAWN),
    (S.SPECIAL_PROCEDURE, A.END_SPECIAL): (_SPECIAL, Move.SAME_STEP),
    (S.SPECIAL_PROCEDURE, A.WITHDRAW): (_APPLICANTS, S.WITHDRAWN),
    (S.DECIDED, A.DELIVER): ((R.WINDOW,), S.DELIVERED),
}

OPEN_STATES = frozenset(
    {S.DRAFT, S.SUBMITTED, S.CORRECTION_REQUESTED, S.IN_PROGRESS, S.SUPPLEMENT_REQUESTED, S.SPECIAL_PROCEDURE}
)
# States in which the application sits at one of the matter's steps (``Position.step`` is set).
STEP_STATES = frozenset({S.IN_PROGRESS, S.SUPPLEMENT_REQUESTED, S.SPECIAL_PROCEDURE})

# Actions that leave the state as it is, allowed on every open state after submission.
_RECORDING: dict[Action, tuple[Role, ...]] = {
    A.SUPERVISE: (R.SUPERVISOR,),
    A.COMMENT: (R.WINDOW, R.STEP_HANDLER, R.SUPERVISOR),
}
_RECORDED_ON = OPEN_STATES - {S.DRAFT}

CLOCK: dict[State, Clock] = {
    S.DRAFT: Clock.NOT_STARTED,
    S.SUBMITTED: Clock.NOT_STARTED,
    S.CORRECTION_REQUESTED: Clock.NOT_STARTED,
    S.REJECTED: Clock.ENDED,
    S.IN_PROGRESS: Clock.RUNNING,
    S.SUPPLEMENT_REQUESTED: Clock.STOPPED,
    S.SPECIAL_PROCEDURE: Clock.STOPPED,
    S.DECIDED: Clock.ENDED,
    S.DELIVERED: Clock.ENDED,
    S.WITHDRAWN: Clock.ENDED,
}

# Exchange values at the edges (exports, provincial connectors), like ``codes.NATIONAL``: 表7 环节办理状态
# codes and 业务动作 in the standard's own words.
STEP_STATUS_CODES: dict[StepStatus, str] = {StepStatus.PENDING: "1", StepStatus.DONE: "2"}
STEP_BUSINESS_ACTIONS: dict[Action, str] = {A.PASS: "通过", A.RETURN: "退回", A.STEP_OTHER: "其他"}

# Actions that need a ``Decision`` (准予/不予) when they lead to DECIDED.
DECIDING_ACTIONS = frozenset({A.ACCEPT_IMMEDIATE, A.PASS})

LABELS: dict[str, str] = {
    S.DRAFT: N_("Draft"),
    S.SUBMITTED: N_("Submitted, awaiting acceptance"),
    S.CORRECTION_REQUESTED: N_("Awaiting corrected materials"),
    S.REJECTED: N_("Not accepted"),
    S.IN_PROGRESS: N_("Being processed"),
    S.SUPPLEMENT_REQUESTED: N_("Awaiting supplementary materials"),
    S.SPECIAL_PROCEDURE: N_("In a special procedure"),
    S.DECIDED: N_("Concluded"),
    S.DELIVERED: N_("Result delivered"),
    S.WITHDRAWN: N_("Withdrawn"),
}

ACTION_LABELS: dict[str, str] = {
    A.SUBMIT: N_("Submit"),
    A.REQUEST_CORRECTION: N_("Request corrections (one complete notice)"),
    A.RESUBMIT: N_("Submit the corrected materials"),
    A.ACCEPT: N_("Accept"),
    A.ACCEPT_IMMEDIATE: N_("Accept and conclude at once"),
    A.REJECT: N_("Do not accept"),
    A.PASS: N_("Approve the step"),
    A.RETURN: N_("Return the step"),
    A.STEP_OTHER: N_("Other step action"),
    A.START_SPECIAL: N_("Start a special procedure"),
    A.END_SPECIAL: N_("End the special procedure"),
    A.DELIVER: N_("Deliver the result"),
    A.WITHDRAW: N_("Withdraw the application"),
    A.LAPSE: N_("Treat as withdrawn (corrections not made in time)"),
    A.SUPERVISE: N_("Supervise"),
    A.COMMENT: N_("Comment"),
}

ROLE_LABELS: dict[str, str] = {
    R.APPLICANT: N_("Applicant"),
    R.AGENT: N_("Village or township agent"),
    R.WINDOW: N_("Window clerk"),
    R.STEP_HANDLER: N_("Step handler"),
    R.SUPERVISOR: N_("Supervisor"),
}

DECISION_LABELS: dict[str, str] = {Decision.GRANTED: N_("Granted"), Decision.DENIED: N_("Not granted")}
STEP_STATUS_LABELS: dict[str, str] = {StepStatus.PENDING: N_("To do"), StepStatus.DONE: N_("Handled")}
DELIVERY_LABELS: dict[str, str] = {
    DeliveryMethod.WINDOW: N_("Collected at the window"),
    DeliveryMethod.EXPRESS: N_("Sent by express post"),
    DeliveryMethod.ELECTRONIC: N_("Delivered electronically"),
}
CLOCK_LABELS: dict[str, str] = {
    Clock.NOT_STARTED: N_("Clock not started"),
    Clock.RUNNING: N_("Clock running"),
    Clock.STOPPED: N_("Clock stopped"),
    Clock.ENDED: N_("Clock ended"),
}


@dataclass(frozen=True)
class Position:
    """Where an application is: its state and, in ``STEP_STATES``, the index of its current step (0-based)."""

    state: State
    step: int | None = None


@dataclass(frozen=True)
class Transition:
    state: State
    action: Action
    roles: tuple[Role, ...]
    target: State | Move


class TransitionNotAllowed(errors.TransitionNotAllowed):
    """409: the action is not in the table for this state and role; the answer lists what is allowed."""

    code = "transition_not_allowed"
    title = N_("This action is not allowed in the application's current state")


def transitions() -> list[Transition]:
    """Every row of the table, the recording actions expanded over the states they apply to."""
    rows = [Transition(s, a, roles, t) for (s, a), (roles, t) in _TABLE.items()]
    rows += [Transition(s, a, roles, s) for a, roles in _RECORDING.items() for s in sorted(_RECORDED_ON)]
    return rows


def _row(state: State, action: Action) -> tuple[tuple[Role, ...], State | Move] | None:
    row = _TABLE.get((state, action))
    if row is None and action in _RECORDING and state in _RECORDED_ON:
        return _RECORDING[action], state
    return row


def allowed(state: State | str, roles: Role | Iterable[Role]) -> list[Action]:
    """The actions these roles may take on an application in ``state``, in table order."""
    st = State(state)
    have = {roles} if isinstance(roles, Role) else set(roles)
    out = [a for (s, a), (rs, _) in _TABLE.items() if s is st and have & set(rs)]
    if st in _RECORDED_ON:
        out += [a for a, rs in _RECORDING.items() if have & set(rs)]
    return out


def roles_for(state: State | str, action: Action | str) -> tuple[Role, ...]:
    row = _row(State(state), Action(action))
    return row[0] if row else ()


def is_open(state: State | str) -> bool:
    return State(state) in OPEN_STATES


def clock(state: State | str) -> Clock:
    return CLOCK[State(state)]


def _resolve(target: State | Move, position: Position, steps: int) -> Position:
    if isinstance(target, State):
        return Position(target, position.step if target in STEP_STATES else None)
    if steps < 1:
        raise ValueError("a matter handled in steps needs at least one step")
    if target is Move.FIRST_STEP:
        return Position(S.IN_PROGRESS, 0)
    current = position.step if position.step is not None else 0
    if not 0 <= current < steps:
        raise ValueError(f"step {current} is not one of the matter's {steps} steps")
    if target is Move.SAME_STEP:
        return Position(S.IN_PROGRESS, current)
    if target is Move.NEXT_STEP:
        return Position(S.IN_PROGRESS, current + 1) if current + 1 < steps else Position(S.DECIDED)
    return Position(S.IN_PROGRESS, current - 1) if current > 0 else Position(S.SUPPLEMENT_REQUESTED, 0)


def next_position(position: Position, action: Action | str, role: Role, *, steps: int) -> Position | None:
    """Where ``role`` taking ``action`` leads (``steps``: how many steps the matter has); None if refused."""
    row = _row(position.state, Action(action))
    if row is None or role not in row[0]:
        return None
    return _resolve(row[1], position, steps)


def apply(
    position: Position,
    action: Action | str,
    role: Role,
    *,
    steps: int,
    decision: Decision | None = None,
) -> Position:
    """The position after the action, or ``TransitionNotAllowed`` (409) listing the role's allowed actions.

    An action that concludes the application (即办件 acceptance, the last step's 通过) needs the
    ``decision`` (准予/不予); any other action must not carry one.
    """
    act = Action(action)
    target = next_position(position, act, role, steps=steps)
    if target is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not allowed on an application that is %(state)s"),
            action=ACTION_LABELS[act],
            state=LABELS[position.state],
            allowed=[str(a) for a in allowed(position.state, role)],
            current_state=str(position.state),
        )
    if target.state is S.DECIDED and decision is None:
        raise ValueError("concluding an application needs its decision (granted or refused)")
    if target.state is not S.DECIDED and decision is not None:
        raise ValueError("only an action that concludes the application carries a decision")
    return target
