"""The case lifecycle: states, actions, roles and the ONE transition table (state × action × role → state).

Nothing else in the code compares state strings to decide what may happen; it asks this table.

    上报 REPORTED ─受理→ ACCEPTED ─(派核实→ VERIFYING ─核实→ ACCEPTED)─立案→ REGISTERED ─派遣→ DISPATCHED
       │不予受理→ REJECTED   │自处理结案→ CLOSED                                     │
    DISPATCHED ─签收→ HANDLING ─反馈→ FEEDBACK ─派核查→ CHECKING ─核查通过→ CHECKED ─结案→ CLOSED ─评价→ EVALUATED
                                                                 └核查不通过 (返工)→ DISPATCHED
    HANDLING ⇄ EXTENSION_REQUESTED (延期, approved: deadline moves)
    HANDLING → SUSPENSION_REQUESTED → SUSPENDED (挂账: clock stops) ─恢复→ HANDLING
    DISPATCHED/HANDLING → RETURN_REQUESTED ─回退→ REGISTERED (then 改派)
    ACCEPTED/REGISTERED → VOID_REQUESTED ─作废→ VOIDED
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from countyos.cases.models import Step
from countyos.core.i18n import N_


class State(StrEnum):
    REPORTED = "reported"  # 上报
    REJECTED = "rejected"  # 不予受理
    ACCEPTED = "accepted"  # 受理
    VERIFYING = "verifying"  # 核实中
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣 (awaiting 签收)
    HANDLING = "handling"  # 处置中
    RETURN_REQUESTED = "return_requested"  # 申请回退
    EXTENSION_REQUESTED = "extension_requested"  # 申请延期
    SUSPENSION_REQUESTED = "suspension_requested"  # 申请挂账
    SUSPENDED = "suspended"  # 挂账 (clock stopped)
    FEEDBACK = "feedback"  # 处置反馈
    CHECKING = "checking"  # 核查中
    CHECKED = "checked"  # 核查通过
    CLOSED = "closed"  # 结案
    EVALUATED = "evaluated"  # 评价
    VOID_REQUESTED = "void_requested"  # 申请作废
    VOIDED = "voided"  # 作废
    MERGED = "merged"  # 合并到另一案卷


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    SELF_CLOSE = "self_close"  # 自处理结案
    SEND_VERIFY = "send_verify"
    VERIFY = "verify"
    REGISTER = "register"
    DISPATCH = "dispatch"
    REDISPATCH = "redispatch"  # 改派
    SIGN = "sign"  # 签收
    REQUEST_RETURN = "request_return"
    APPROVE_RETURN = "approve_return"  # 回退
    REFUSE_RETURN = "refuse_return"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"  # 延期
    REFUSE_EXTENSION = "refuse_extension"
    REQUEST_SUSPENSION = "request_suspension"
    APPROVE_SUSPENSION = "approve_suspension"  # 挂账
    REFUSE_SUSPENSION = "refuse_suspension"
    RESUME = "resume"  # 恢复
    FEEDBACK = "feedback"
    SEND_CHECK = "send_check"
    CHECK_PASS = "check_pass"
    CHECK_FAIL = "check_fail"  # 返工
    CLOSE = "close"
    RATE = "rate"
    REQUEST_VOID = "request_void"
    APPROVE_VOID = "approve_void"  # 作废
    REFUSE_VOID = "refuse_void"
    MERGE = "merge"
    RELOCATE = "relocate"  # 更正位置: a wrong or estimated position corrected before dispatch
    SUPERVISE = "supervise"  # 催办 / 督办 / 挂牌督办: recorded, state unchanged
    COMMENT = "comment"


class Role(StrEnum):
    """Who acts. Staff roles come from permissions (``ROLE_PERMISSION``); the reporter from a case token."""

    INTAKE = "intake"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 专业部门
    INSPECTOR = "inspector"  # 监督员 / 网格员
    LEADER = "leader"  # 领导 (督办)
    REPORTER = "reporter"  # the person who reported (public page)


ROLE_PERMISSION: dict[Role, str] = {
    Role.INTAKE: "case.intake",
    Role.SHIFT_LEADER: "case.shift",
    Role.DISPATCHER: "case.dispatch",
    Role.HANDLER: "case.handle",
    Role.INSPECTOR: "case.inspect",
    Role.LEADER: "case.supervise",
}

S, A, R = State, Action, Role
_OPS = (R.INTAKE, R.SHIFT_LEADER)
# "*" as the target means: the state that a refused request returns to (``resume_state``).
RESUME = "*"

# (state, action) → (roles allowed, next state). ONE table; ``allowed``/``next_state`` read only it.
_TABLE: dict[tuple[State, Action], tuple[tuple[Role, ...], State | str]] = {
    (S.REPORTED, A.ACCEPT): (_OPS, S.ACCEPTED),
    (S.REPORTED, A.REJECT): (_OPS, S.REJECTED),
    (S.REPORTED, A.SELF_CLOSE): (_OPS, S.CLOSED),
    (S.REPORTED, A.MERGE): ((*_OPS, R.DISPATCHER), S.MERGED),
    (S.REPORTED, A.RELOCATE): ((*_OPS, R.DISPATCHER), S.REPORTED),
    (S.ACCEPTED, A.RELOCATE): ((*_OPS, R.DISPATCHER), S.ACCEPTED),
    (S.REGISTERED, A.RELOCATE): ((*_OPS, R.DISPATCHER), S.REGISTERED),
    (S.ACCEPTED, A.SEND_VERIFY): (_OPS, S.VERIFYING),
    (S.VERIFYING, A.VERIFY): ((R.INSPECTOR,), S.ACCEPTED),
    (S.ACCEPTED, A.REGISTER): ((R.SHIFT_LEADER,), S.REGISTERED),
    (S.ACCEPTED, A.MERGE): ((*_OPS, R.DISPATCHER), S.MERGED),
    (S.ACCEPTED, A.REQUEST_VOID): ((*_OPS, R.DISPATCHER), S.VOID_REQUESTED),
    (S.REGISTERED, A.REQUEST_VOID): ((*_OPS, R.DISPATCHER), S.VOID_REQUESTED),
    (S.REGISTERED, A.MERGE): ((*_OPS, R.DISPATCHER), S.MERGED),
    (S.VOID_REQUESTED, A.APPROVE_VOID): ((R.SHIFT_LEADER,), S.VOIDED),
    (S.VOID_REQUESTED, A.REFUSE_VOID): ((R.SHIFT_LEADER,), RESUME),
    (S.REGISTERED, A.DISPATCH): ((R.DISPATCHER, R.SHIFT_LEADER), S.DISPATCHED),
    (S.DISPATCHED, A.REDISPATCH): ((R.DISPATCHER, R.SHIFT_LEADER), S.DISPATCHED),
    (S.HANDLING, A.REDISPATCH): ((R.DISPATCHER, R.SHIFT_LEADER), S.DISPATCHED),
    (S.DISPATCHED, A.SIGN): ((R.HANDLER,), S.HANDLING),
    (S.DISPATCHED, A.REQUEST_RETURN): ((R.HANDLER,), S.RETURN_REQUESTED),
    (S.HANDLING, A.REQUEST_RETURN): ((R.HANDLER,), S.RETURN_REQUESTED),
    (S.RETURN_REQUESTED, A.APPROVE_RETURN): ((R.DISPATCHER, R.SHIFT_LEADER), S.REGISTERED),
    (S.RETURN_REQUESTED, A.REFUSE_RETURN): ((R.DISPATCHER, R.SHIFT_LEADER), RESUME),
    (S.HANDLING, A.REQUEST_EXTENSION): ((R.HANDLER,), S.EXTENSION_REQUESTED),
    (S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION): ((R.DISPATCHER, R.SHIFT_LEADER), S.HANDLING),
    (S.EXTENSION_REQUESTED, A.REFUSE_EXTENSION): ((R.DISPATCHER, R.SHIFT_LEADER), S.HANDLING),
    (S.HANDLING, A.REQUEST_SUSPENSION): ((R.HANDLER,), S.SUSPENSION_REQUESTED),
    (S.SUSPENSION_REQUESTED, A.APPROVE_SUSPENSION): ((R.SHIFT_LEADER,), S.SUSPENDED),
    (S.SUSPENSION_REQUESTED, A.REFUSE_SUSPENSION): ((R.SHIFT_LEADER,), S.HANDLING),
    (S.SUSPENDED, A.RESUME): ((R.SHIFT_LEADER, R.DISPATCHER), S.HANDLING),
    (S.HANDLING, A.FEEDBACK): ((R.HANDLER,), S.FEEDBACK),
    (S.FEEDBACK, A.SEND_CHECK): (_OPS, S.CHECKING),
    (S.CHECKING, A.CHECK_PASS): ((R.INSPECTOR,), S.CHECKED),
    (S.CHECKING, A.CHECK_FAIL): ((R.INSPECTOR,), S.DISPATCHED),
    (S.CHECKED, A.CLOSE): ((R.SHIFT_LEADER,), S.CLOSED),
    (S.CLOSED, A.RATE): ((R.REPORTER, R.INTAKE), S.EVALUATED),
}

OPEN_STATES = frozenset(
    {
        S.REPORTED,
        S.ACCEPTED,
        S.VERIFYING,
        S.REGISTERED,
        S.DISPATCHED,
        S.HANDLING,
        S.RETURN_REQUESTED,
        S.EXTENSION_REQUESTED,
        S.SUSPENSION_REQUESTED,
        S.SUSPENDED,
        S.FEEDBACK,
        S.CHECKING,
        S.CHECKED,
        S.VOID_REQUESTED,
    }
)

# Actions that leave the state as it is, allowed on every open state.
_RECORDING: dict[Action, tuple[Role, ...]] = {
    A.SUPERVISE: (R.SHIFT_LEADER, R.LEADER),
    A.COMMENT: (R.INTAKE, R.SHIFT_LEADER, R.DISPATCHER, R.HANDLER, R.INSPECTOR, R.LEADER),
}

# The clock of each state: which step is timed while a case is there (None: no clock).
STATE_STEP: dict[State, Step | None] = {
    S.REPORTED: Step.ACCEPT,
    S.ACCEPTED: Step.REGISTER,
    S.VERIFYING: Step.VERIFY,
    S.REGISTERED: Step.DISPATCH,
    S.VOID_REQUESTED: None,
    S.DISPATCHED: Step.HANDLE,
    S.HANDLING: Step.HANDLE,
    S.RETURN_REQUESTED: Step.HANDLE,
    S.EXTENSION_REQUESTED: Step.HANDLE,
    S.SUSPENSION_REQUESTED: Step.HANDLE,
    S.SUSPENDED: Step.HANDLE,  # kept but paused
    S.FEEDBACK: Step.CHECK,
    S.CHECKING: Step.CHECK,
    S.CHECKED: Step.CLOSE,
}

# Actions that may move the current step's deadline (besides a change of step). Approvals and the
# dispatcher's own decisions; nothing a handler does alone moves a deadline.
DEADLINE_ACTIONS = frozenset({A.APPROVE_EXTENSION, A.APPROVE_SUSPENSION, A.RESUME, A.REDISPATCH, A.CHECK_FAIL})

# Actions whose effect needs a refusal to be restorable (the state before the request).
REQUEST_ACTIONS = frozenset({A.REQUEST_RETURN, A.REQUEST_VOID})

LABELS: dict[str, str] = {
    S.REPORTED: N_("Reported"),
    S.REJECTED: N_("Not accepted"),
    S.ACCEPTED: N_("Accepted"),
    S.VERIFYING: N_("Being verified"),
    S.REGISTERED: N_("Registered"),
    S.DISPATCHED: N_("Dispatched"),
    S.HANDLING: N_("Being handled"),
    S.RETURN_REQUESTED: N_("Return requested"),
    S.EXTENSION_REQUESTED: N_("Extension requested"),
    S.SUSPENSION_REQUESTED: N_("Suspension requested"),
    S.SUSPENDED: N_("Suspended"),
    S.FEEDBACK: N_("Handled, awaiting check"),
    S.CHECKING: N_("Being checked"),
    S.CHECKED: N_("Checked"),
    S.CLOSED: N_("Closed"),
    S.EVALUATED: N_("Rated"),
    S.VOID_REQUESTED: N_("Void requested"),
    S.VOIDED: N_("Void"),
    S.MERGED: N_("Merged"),
}

ACTION_LABELS: dict[str, str] = {
    A.ACCEPT: N_("Accept"),
    A.REJECT: N_("Do not accept"),
    A.SELF_CLOSE: N_("Close as handled on the spot"),
    A.SEND_VERIFY: N_("Send for verification"),
    A.VERIFY: N_("Report verification"),
    A.REGISTER: N_("Register"),
    A.DISPATCH: N_("Dispatch"),
    A.REDISPATCH: N_("Reassign"),
    A.SIGN: N_("Sign for"),
    A.REQUEST_RETURN: N_("Request return"),
    A.APPROVE_RETURN: N_("Approve return"),
    A.REFUSE_RETURN: N_("Refuse return"),
    A.REQUEST_EXTENSION: N_("Request extension"),
    A.APPROVE_EXTENSION: N_("Approve extension"),
    A.REFUSE_EXTENSION: N_("Refuse extension"),
    A.REQUEST_SUSPENSION: N_("Request suspension"),
    A.APPROVE_SUSPENSION: N_("Approve suspension"),
    A.REFUSE_SUSPENSION: N_("Refuse suspension"),
    A.RESUME: N_("Resume"),
    A.FEEDBACK: N_("Report as handled"),
    A.SEND_CHECK: N_("Send for checking"),
    A.CHECK_PASS: N_("Check passed"),
    A.CHECK_FAIL: N_("Check failed (rework)"),
    A.CLOSE: N_("Close"),
    A.RATE: N_("Rate"),
    A.REQUEST_VOID: N_("Request void"),
    A.APPROVE_VOID: N_("Approve void"),
    A.REFUSE_VOID: N_("Refuse void"),
    A.MERGE: N_("Merge into another case"),
    A.RELOCATE: N_("Correct the position"),
    A.SUPERVISE: N_("Supervise"),
    A.COMMENT: N_("Comment"),
    "report": N_("Reported"),
    "merged_in": N_("Another report of the same problem merged in"),
    "keep_apart": N_("Kept apart from a suspected duplicate"),
}


@dataclass(frozen=True)
class Transition:
    state: State
    action: Action
    roles: tuple[Role, ...]
    target: State | str


def transitions() -> list[Transition]:
    """Every row of the table, the recording actions expanded over the open states."""
    rows = [Transition(s, a, roles, t) for (s, a), (roles, t) in _TABLE.items()]
    rows += [Transition(s, a, roles, s) for a, roles in _RECORDING.items() for s in sorted(OPEN_STATES)]
    return rows


def _row(state: State, action: Action) -> tuple[tuple[Role, ...], State | str] | None:
    row = _TABLE.get((state, action))
    if row is None and action in _RECORDING and state in OPEN_STATES:
        return _RECORDING[action], state
    return row


def allowed(state: State | str, roles: Iterable[Role]) -> list[Action]:
    """The actions these roles may take on a case in ``state``, in table order."""
    st, have = State(state), set(roles)
    out = [a for (s, a), (rs, _) in _TABLE.items() if s is st and have & set(rs)]
    if st in OPEN_STATES:
        out += [a for a, rs in _RECORDING.items() if have & set(rs)]
    return out


def roles_for(state: State | str, action: Action | str) -> tuple[Role, ...]:
    row = _row(State(state), Action(action))
    return row[0] if row else ()


def next_state(state: State | str, action: Action | str, role: Role, resume_state: str | None = None) -> State | None:
    """The state after ``role`` takes ``action`` in ``state``; None when the table does not allow it."""
    row = _row(State(state), Action(action))
    if row is None or role not in row[0]:
        return None
    target = row[1]
    if target == RESUME:
        return State(resume_state) if resume_state else None
    return State(target)


def roles_of(permissions: Iterable[str]) -> list[Role]:
    perms = set(permissions)
    return [r for r, p in ROLE_PERMISSION.items() if p in perms]


def is_open(state: State | str) -> bool:
    return State(state) in OPEN_STATES


SATISFACTION_LABELS: dict[str, str] = {
    "very_satisfied": N_("Very satisfied"),
    "satisfied": N_("Satisfied"),
    "fairly_satisfied": N_("Fairly satisfied"),
    "dissatisfied": N_("Dissatisfied"),
    "very_dissatisfied": N_("Very dissatisfied"),
}

SUPERVISION_LABELS: dict[str, str] = {
    "urge": N_("Urge (催办)"),
    "supervise": N_("Supervise (督办)"),
    "listed": N_("Listed supervision (挂牌督办)"),
}
