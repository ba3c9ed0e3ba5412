"""差评整改: the record a 差评 (不满意 or 非常不满意) opens, on ONE transition table::

    VERIFYING 待核实 ─核实属实→ RECTIFYING 整改中 ─整改完成→ REVISITING 待回访 ─回访办结→ CLOSED 已办结
    VERIFYING ─核实不属实 (解释说明)→ REVISITING
    REVISITING ─回访不满意, 重新整改→ RECTIFYING

The rated department (its staff with a services permission) verifies and rectifies; 回访 is for the
supervisor (``services.application.supervise``: 政务服务中心 / 好差评 office), who also may do every step
when a department cannot. Each step is due a number of working days after it starts
(``RectificationLimit`` rows, defaults 核实 1, 整改 15, 回访 1 working day; counted like every
services limit in ``deadlines.base_due``: the starting day is not counted, due at office close).
A step done after its due time is marked late; an open record past its due time is overdue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.org.service import audit
from countyos.services import deadlines
from countyos.services.codes import TimeLimitUnit
from countyos.services.models import (
    Rating,
    Rectification,
    RectificationAction,
    RectificationEvent,
    RectificationLimit,
    RectificationRole,
    RectificationState,
)

HANDLE = "services.application.handle"
WINDOW = "services.application.window"
SUPERVISE = "services.application.supervise"
MAX_LIMIT_DAYS = 60


State = RectificationState
Action = RectificationAction
Role = RectificationRole

_BOTH = (Role.DEPARTMENT, Role.SUPERVISOR)

# (state, action) → (roles allowed, target). ONE table; nothing else decides.
TABLE: dict[tuple[State, Action], tuple[tuple[Role, ...], State]] = {
    (State.VERIFYING, Action.VERIFY): (_BOTH, State.RECTIFYING),
    (State.VERIFYING, Action.DISMISS): (_BOTH, State.REVISITING),
    (State.RECTIFYING, Action.RECTIFY): (_BOTH, State.REVISITING),
    (State.REVISITING, Action.REVISIT): ((Role.SUPERVISOR,), State.CLOSED),
    (State.REVISITING, Action.REOPEN): ((Role.SUPERVISOR,), State.RECTIFYING),
}

# Working days allowed for each open step (data: ``RectificationLimit`` rows override these).
DEFAULT_LIMITS: dict[State, int] = {State.VERIFYING: 1, State.RECTIFYING: 15, State.REVISITING: 1}

LABELS: dict[str, str] = {
    State.VERIFYING: N_("To verify"),
    State.RECTIFYING: N_("Being rectified"),
    State.REVISITING: N_("To revisit"),
    State.CLOSED: N_("Rectification closed"),
}
ACTION_LABELS: dict[str, str] = {
    Action.VERIFY: N_("Verified: the complaint is founded"),
    Action.DISMISS: N_("Verified: unfounded, explained to the rater"),
    Action.RECTIFY: N_("Rectification done"),
    Action.REVISIT: N_("Revisited the rater: close"),
    Action.REOPEN: N_("Revisited the rater: not resolved, rectify again"),
}
ROLE_LABELS: dict[str, str] = {Role.DEPARTMENT: N_("Rated department"), Role.SUPERVISOR: N_("Supervisor")}
STEP_LABELS: dict[str, str] = {
    State.VERIFYING: N_("Verification"),
    State.RECTIFYING: N_("Rectification"),
    State.REVISITING: N_("Revisit"),
}


class TransitionNotAllowed(errors.TransitionNotAllowed):
    """409: the action is not in the table for the record's state; the answer lists what is allowed."""

    code = "transition_not_allowed"
    title = N_("This action is not allowed in the rectification's current state")


class ActionForbidden(errors.ActionForbidden):
    """403: the state allows the action, but not to the caller; the answer lists what they may do."""


class StaleRectification(Conflict):
    code = "stale_version"
    title = N_("The rectification was changed by someone else")


# ── the table ────────────────────────────────────────────────────────────────────────────────────────


def allowed(state: State | str, roles: Role | list[Role] | set[Role]) -> list[Action]:
    """The actions these roles may take in ``state``, in table order."""
    have = {roles} if isinstance(roles, Role) else set(roles)
    return [a for (s, a), (rs, _) in TABLE.items() if s == State(state) and have & set(rs)]


def target(state: State | str, action: Action | str, role: Role) -> State | None:
    row = TABLE.get((State(state), Action(action)))
    return row[1] if row is not None and role in row[0] else None


def is_open(state: State | str) -> bool:
    return State(state) is not State.CLOSED


# ── limits (data) ────────────────────────────────────────────────────────────────────────────────────


def limits(session: Session) -> dict[State, int]:
    """Working days allowed per open step: the stored rows over the defaults."""
    out = dict(DEFAULT_LIMITS)
    for row in session.scalars(select(RectificationLimit)):
        if row.state in out:
            out[State(row.state)] = row.working_days
    return out


def set_limits(
    session: Session, *, actor: Actor, days: dict[State, int], now: datetime | None = None
) -> dict[State, int]:
    """Change the time limits (supervisors only); records already open keep their due times."""
    if not actor.can(SUPERVISE):
        raise PermissionDenied(N_("Only supervisors may change the rectification time limits"))
    before = limits(session)
    for state, n in days.items():
        if state not in DEFAULT_LIMITS or not 1 <= n <= MAX_LIMIT_DAYS:
            msg = N_("A time limit is 1 to %(max)s working days")
            raise ValidationFailed(
                msg, max=MAX_LIMIT_DAYS, errors=[{"field": str(state), "message": gettext(msg, max=MAX_LIMIT_DAYS)}]
            )
        row = session.get(RectificationLimit, str(state))
        if row is None:
            row = RectificationLimit(state=str(state))
            session.add(row)
        row.working_days, row.updated_at, row.updated_by_id = n, now or utcnow(), actor.id
    session.flush()
    after = limits(session)
    audit.record(
        session,
        actor=actor,
        action="services.rating.limits",
        target_type="services_rectification_limit",
        target_id="limits",
        detail={"before": {str(k): v for k, v in before.items()}, "after": {str(k): v for k, v in after.items()}},
    )
    return after


def due_for(session: Session, state: State, start: datetime) -> datetime | None:
    if state not in DEFAULT_LIMITS:
        return None
    return deadlines.base_due(start, deadlines.Limit(limits(session)[state], TimeLimitUnit.WORKING_DAYS))


def overdue(rec: Rectification, now: datetime | None = None) -> bool:
    return is_open(rec.state) and rec.due_at is not None and (now or utcnow()) > rec.due_at


# ── records ──────────────────────────────────────────────────────────────────────────────────────────


def open_for(session: Session, *, rating: Rating, now: datetime) -> Rectification:
    """The record a new 差评 opens (the caller audits the rating; this writes the first event)."""
    rec = Rectification(
        rating_id=rating.id,
        department_id=rating.department_id,
        state=str(State.VERIFYING),
        version=1,
        opened_at=now,
        step_started_at=now,
        due_at=due_for(session, State.VERIFYING, now),
        rounds=0,
    )
    session.add(rec)
    session.flush()
    return rec


def of_rating(session: Session, rating_id: int) -> Rectification | None:
    return session.scalar(select(Rectification).where(Rectification.rating_id == rating_id))


def events(session: Session, rec: Rectification) -> list[RectificationEvent]:
    return list(
        session.scalars(
            select(RectificationEvent)
            .where(RectificationEvent.rectification_id == rec.id)
            .order_by(RectificationEvent.id)
        )
    )


def actor_names(session: Session, rows: list[RectificationEvent]) -> dict[int, str]:
    """Event id → who took the step, by their name as colleagues read it (the stored name otherwise)."""
    from countyos.org.service import users

    people = users.colleagues(session, user_ids=[e.actor_id for e in rows])
    return {e.id: people[e.actor_id].display_name if e.actor_id in people else e.actor_name for e in rows}


def roles_on(actor: Actor, rec: Rectification) -> list[Role]:
    out: list[Role] = []
    if (
        actor.department_id is not None
        and actor.department_id == rec.department_id
        and (actor.can(HANDLE) or actor.can(WINDOW) or actor.can(SUPERVISE))
    ):
        out.append(Role.DEPARTMENT)
    if actor.can(SUPERVISE):
        out.append(Role.SUPERVISOR)
    return out


def allowed_actions(actor: Actor, rec: Rectification) -> list[str]:
    return [str(a) for a in allowed(rec.state, roles_on(actor, rec))]


def act(
    session: Session,
    *,
    actor: Actor,
    rating_id: int,
    action: Action,
    version: int,
    note: str,
    now: datetime | None = None,
) -> Rectification:
    """Take one step of the rectification of rating ``rating_id`` (see the module docstring)."""
    now = now or utcnow()
    rec = of_rating(session, rating_id)
    roles = roles_on(actor, rec) if rec is not None else []
    if rec is None or not roles:
        raise NotFound(N_("No such rectification"))
    if version != rec.version:
        raise StaleRectification(
            N_("The rectification was changed by someone else (version %(theirs)s, you saw %(yours)s); reload it"),
            theirs=rec.version,
            yours=version,
        )
    note = note.strip()
    if not note:
        msg = N_("Write what was done")
        raise ValidationFailed(msg, errors=[{"field": "note", "message": gettext(msg)}])
    allowed_now = [str(a) for a in allowed(rec.state, roles)]
    row = TABLE.get((State(rec.state), action))
    if row is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not allowed on a rectification that is %(state)s"),
            action=ACTION_LABELS[action],
            state=LABELS[rec.state],
            allowed=allowed_now,
            current_state=rec.state,
        )
    role = next((r for r in roles if r in row[0]), None)
    if role is None:
        raise ActionForbidden(
            N_("You may not take the step %(action)s on this rectification"),
            action=ACTION_LABELS[action],
            allowed=allowed_now,
            current_state=rec.state,
        )
    before, after = State(rec.state), row[1]
    late = rec.due_at is not None and now > rec.due_at
    step_due = rec.due_at
    if action is Action.VERIFY:
        rec.substantiated = True
    elif action is Action.DISMISS:
        rec.substantiated = False
    if after is State.RECTIFYING:
        rec.rounds += 1
    rec.state, rec.step_started_at = str(after), now
    rec.due_at = due_for(session, after, now)
    rec.closed_at = now if after is State.CLOSED else None
    rec.version += 1
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleRectification(N_("The rectification was changed by someone else; reload it")) from exc
    session.add(
        RectificationEvent(
            rectification_id=rec.id,
            at=now,
            actor_id=actor.id,
            actor_name=actor.name[:100],
            role=str(role),
            action=str(action),
            from_state=str(before),
            to_state=str(after),
            note=note,
            due_at=step_due,
            late=late,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=f"services.rectification.{action}",
        target_type="services_rating",
        target_id=str(rating_id),
        detail={"from": str(before), "to": str(after), "role": str(role), "late": late},
    )
    return rec
