"""A person's case work: the queues they act on, counted in one grouped query, and which new urgent
cases enter one of them (for the live notice).

A queue is a set of states in which one of the person's lifecycle roles has something to do
(``QUEUE_SPECS``): 受理员 accept reports and send handled cases for checking, 值班长 register, close and
decide suspension and void requests, 派遣员 dispatch and decide returns and extensions, 专业部门 sign
for and handle their department's cases, 监督员/网格员 verify and check the tasks given to them (or
open on their grids), 领导 supervise the overdue cases. Each queue links to the list that shows the
same cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, func, literal, or_, select
from sqlalchemy import case as sa_case
from sqlalchemy.orm import Session

from countyos.cases.lifecycle import Role, State, roles_of
from countyos.cases.models import Case, Notification, Priority
from countyos.cases.service import location
from countyos.cases.service.cases import visibility
from countyos.core.actor import Actor
from countyos.core.i18n import N_

S = State
URGENT_PRIORITIES = (Priority.URGENT.value, Priority.CRITICAL.value)


@dataclass(frozen=True)
class QueueSpec:
    key: str
    label: str
    role: Role
    states: tuple[State, ...]
    url: str
    scope: str = "all"  # all: every visible case; department: the person's department; mine: their tasks


QUEUE_SPECS: tuple[QueueSpec, ...] = (
    QueueSpec("accept", N_("Reports to accept"), Role.INTAKE, (S.REPORTED,), "/cases?queue=reported"),
    QueueSpec("register", N_("Cases to register"), Role.SHIFT_LEADER, (S.ACCEPTED,), "/cases?queue=accepted"),
    QueueSpec("dispatch", N_("Cases to dispatch"), Role.DISPATCHER, (S.REGISTERED,), "/cases?queue=registered"),
    QueueSpec(
        "decide_dispatcher",
        N_("Return and extension requests to decide"),
        Role.DISPATCHER,
        (S.RETURN_REQUESTED, S.EXTENSION_REQUESTED),
        "/cases?queue=approvals",
    ),
    QueueSpec(
        "decide_shift",
        N_("Suspension and void requests to decide"),
        Role.SHIFT_LEADER,
        (S.SUSPENSION_REQUESTED, S.VOID_REQUESTED),
        "/cases?queue=approvals",
    ),
    QueueSpec(
        "send_check", N_("Handled cases to send for checking"), Role.INTAKE, (S.FEEDBACK,), "/cases?queue=feedback"
    ),
    QueueSpec("close", N_("Checked cases to close"), Role.SHIFT_LEADER, (S.CHECKED,), "/cases?queue=checked"),
    QueueSpec("sign", N_("Cases to sign for"), Role.HANDLER, (S.DISPATCHED,), "/cases/inbox", "department"),
    QueueSpec(
        "handle",
        N_("Cases your department is handling"),
        Role.HANDLER,
        (S.HANDLING, S.EXTENSION_REQUESTED, S.SUSPENSION_REQUESTED, S.RETURN_REQUESTED, S.SUSPENDED),
        "/cases/inbox",
        "department",
    ),
    QueueSpec("verify", N_("Reports to verify on the ground"), Role.INSPECTOR, (S.VERIFYING,), "/m/tasks", "mine"),
    QueueSpec("check", N_("Handled cases to check on the ground"), Role.INSPECTOR, (S.CHECKING,), "/m/tasks", "mine"),
)
OVERDUE_KEY = "overdue"


@dataclass
class Tally:
    count: int = 0
    overdue: int = 0
    due_soon: int = 0
    urgent: int = 0

    def add(self, other: Tally) -> None:
        self.count += other.count
        self.overdue += other.overdue
        self.due_soon += other.due_soon
        self.urgent += other.urgent


def _mine(session: Session, actor: Actor) -> object:
    """The inspector's tasks: given to them, or open on their grids with nobody assigned (``/m/tasks``)."""
    if actor.id is None:
        return false()
    conds = [Case.assignee_id == actor.id]
    grids = location.grids_of_worker(session, user_id=actor.id) if actor.can("case.inspect") else []
    if grids:
        conds.append(and_(Case.grid_code.in_(grids), Case.assignee_id.is_(None)))
    return or_(*conds)


def tallies(session: Session, *, actor: Actor, now: datetime) -> dict[str, Tally]:
    """The person's queues (``QUEUE_SPECS`` keys, and ``overdue`` for a supervisor) with their counts:
    ONE grouped query over the open cases they may see."""
    roles = set(roles_of(actor.permissions))
    specs = [q for q in QUEUE_SPECS if q.role in roles]
    supervises = Role.LEADER in roles
    if not specs and not supervises:
        return {}
    dep = Case.department_id == actor.department_id if actor.department_id is not None else false()
    running = Case.paused_at.is_(None)
    inner = select(
        Case.state.label("state"),
        sa_case((_mine(session, actor), 1), else_=0).label("mine"),  # type: ignore[arg-type]
        sa_case((dep, 1), else_=0).label("dep"),
        sa_case((and_(running, Case.step_deadline <= now), 1), else_=0).label("red"),
        sa_case((and_(running, Case.step_warn_at <= now, Case.step_deadline > now), 1), else_=0).label("yellow"),
        sa_case((Case.priority.in_(URGENT_PRIORITIES), 1), else_=0).label("urgent"),
    ).where(Case.is_open.is_(True))
    vis = visibility(session, actor)
    if vis is not None:
        inner = inner.where(vis)
    sub = inner.subquery()
    rows = session.execute(
        select(
            sub.c.state,
            sub.c.mine,
            sub.c.dep,
            func.count(),
            func.coalesce(func.sum(sub.c.red), literal(0)),
            func.coalesce(func.sum(sub.c.yellow), literal(0)),
            func.coalesce(func.sum(sub.c.urgent), literal(0)),
        ).group_by(sub.c.state, sub.c.mine, sub.c.dep)
    ).all()
    out: dict[str, Tally] = {q.key: Tally() for q in specs}
    if supervises:
        out[OVERDUE_KEY] = Tally()
    for state, mine, in_dep, n, red, yellow, urgent in rows:
        t = Tally(int(n), int(red), int(yellow), int(urgent))
        for q in specs:
            if state not in q.states:
                continue
            if q.scope == "department" and not in_dep:
                continue
            if q.scope == "mine" and not mine:
                continue
            out[q.key].add(t)
        if supervises and red:
            out[OVERDUE_KEY].add(Tally(int(red), int(red), 0, 0))
    return out


def unread_messages(session: Session, *, user_id: int | None) -> int:
    if user_id is None:
        return 0
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.channel == "inapp", Notification.read_at.is_(None)
    )
    return int(session.scalar(stmt) or 0)


# -- new urgent items for the live notice ------------------------------------------------------------

# The feed's case actions that put a case into someone's queue, and whose queue.
ENTERS: dict[str, tuple[Role, ...]] = {
    "report": (Role.INTAKE, Role.SHIFT_LEADER, Role.DISPATCHER),
    "dispatch": (Role.HANDLER,),
    "redispatch": (Role.HANDLER,),
    "check_fail": (Role.HANDLER,),
}


def urgent_for(session: Session, *, actor: Actor, events: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Of the (case id, action) pairs of the live feed, those whose case is urgent or critical AND whose
    action puts it into one of this person's queues (a new report for the operations centre, a dispatch
    or a rework for the department's handlers); only cases the person may see."""
    roles = set(roles_of(actor.permissions))
    pairs = [(cid, action) for cid, action in events if roles & set(ENTERS.get(action, ()))]
    if not pairs:
        return set()
    stmt = select(Case.id, Case.department_id).where(
        Case.id.in_({cid for cid, _ in pairs}), Case.priority.in_(URGENT_PRIORITIES)
    )
    vis = visibility(session, actor)
    if vis is not None:
        stmt = stmt.where(vis)
    found: dict[int, int | None] = {cid: dep for cid, dep in session.execute(stmt).all()}
    out = set()
    for cid, action in pairs:
        if cid not in found:
            continue
        need = set(ENTERS[action]) & roles
        if need == {Role.HANDLER} and (actor.department_id is None or found[cid] != actor.department_id):
            continue
        out.add((cid, action))
    return out
