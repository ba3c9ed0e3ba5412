"""电子监察 (GB/T 39046-2020 表11): warnings raised by the rules, the departments' feedback, 督办, and the
lapse of applications whose corrections never came.

``sweep`` runs ``supervision_rules.evaluate`` and brings the warnings in line with it: a (family,
subject) that fires and has no warning gets one (监察编号, 未处理) and its responsible department's
handlers and the supervisors a message; one whose level rose is upgraded (yellow → red, a message
again); one cleared before that fires again is raised again; a warning whose condition ended is
cleared (已解除). The unique key (family, subject) makes a second sweep, or a second worker, add nothing.

A warning's state moves only through ``TRANSITIONS`` (one table)::

    OPEN 未处理 ─feedback→ ANSWERED 已反馈 ─supervise→ SUPERVISED 已督办 ─feedback→ ANSWERED
    OPEN ─supervise→ SUPERVISED ─supervise→ SUPERVISED (督办 again)
    OPEN | ANSWERED | SUPERVISED ─clear (the sweep)→ CLEARED 已解除 ─raise (the sweep)→ OPEN

Feedback is the responsible department's (``services.application.handle`` in that department);
督办 is a supervisor's (``services.application.supervise``) and is also recorded on the application
(``applications.act`` with ``supervise``). Anything else is a 409 listing what is allowed. Every change
is a row of the warning's record and an audit record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import case, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_, gettext, use_locale
from countyos.org.service import audit
from countyos.services import codes, lifecycle
from countyos.services.lifecycle import Action, State
from countyos.services.models import (
    Application,
    MatterVersion,
    RuleKind,
    SupervisionEvent,
    SupervisionRule,
    SupervisionWarning,
    WarningLevel,
    WarningState,
)
from countyos.services.schemas import PlainActionIn, RulesIn, WarningActionIn
from countyos.services.service import applications
from countyos.services.service import supervision_rules as rules_mod
from countyos.services.service.supervision_rules import FAMILY, LEVEL_RANK, PARAMETERS, Finding

SUPERVISE = applications.SUPERVISE
HANDLE = applications.HANDLE
MAX_PAGE = 200
MAX_RULES = 30
MAX_EXPORT = 100_000
SWEEP_ACTOR = Actor(id=None, name=N_("Electronic supervision"), permissions=frozenset({SUPERVISE}))


class WarningAction(StrEnum):
    RAISE = "raise"  # 预警 (the sweep)
    UPGRADE = "upgrade"  # yellow → red (the sweep)
    FEEDBACK = "feedback"  # 反馈 (the responsible department)
    SUPERVISE = "supervise"  # 督办 (a supervisor)
    CLEAR = "clear"  # 解除 (the sweep: the condition ended)


class Party(StrEnum):
    SYSTEM = "system"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"


W, A = WarningState, WarningAction
# (state, action) → (who, target). The ONE table of a warning's states.
TRANSITIONS: dict[tuple[WarningState, WarningAction], tuple[Party, WarningState]] = {
    (W.OPEN, A.FEEDBACK): (Party.DEPARTMENT, W.ANSWERED),
    (W.SUPERVISED, A.FEEDBACK): (Party.DEPARTMENT, W.ANSWERED),
    (W.OPEN, A.SUPERVISE): (Party.SUPERVISOR, W.SUPERVISED),
    (W.ANSWERED, A.SUPERVISE): (Party.SUPERVISOR, W.SUPERVISED),
    (W.SUPERVISED, A.SUPERVISE): (Party.SUPERVISOR, W.SUPERVISED),
    (W.OPEN, A.UPGRADE): (Party.SYSTEM, W.OPEN),
    (W.ANSWERED, A.UPGRADE): (Party.SYSTEM, W.ANSWERED),
    (W.SUPERVISED, A.UPGRADE): (Party.SYSTEM, W.SUPERVISED),
    (W.OPEN, A.CLEAR): (Party.SYSTEM, W.CLEARED),
    (W.ANSWERED, A.CLEAR): (Party.SYSTEM, W.CLEARED),
    (W.SUPERVISED, A.CLEAR): (Party.SYSTEM, W.CLEARED),
    (W.CLEARED, A.RAISE): (Party.SYSTEM, W.OPEN),
}
PERSON_ACTIONS = (A.FEEDBACK, A.SUPERVISE)

STATE_LABELS: dict[str, str] = {
    W.OPEN: N_("Not handled"),
    W.ANSWERED: N_("Answered"),
    W.SUPERVISED: N_("Supervision ordered"),
    W.CLEARED: N_("Lifted"),
}
ACTION_LABELS: dict[str, str] = {
    A.RAISE: N_("Warning raised"),
    A.UPGRADE: N_("Raised to a red warning"),
    A.FEEDBACK: N_("Department's feedback"),
    A.SUPERVISE: N_("Supervision order"),
    A.CLEAR: N_("Warning cleared"),
}
# 表11 监察预警类型代码 (n1): the county's code set, 1 黄色预警 and 2 红色预警.
LEVEL_CODES: dict[WarningLevel, str] = {WarningLevel.YELLOW: "1", WarningLevel.RED: "2"}
STANDARD_LEVEL_NAMES: dict[WarningLevel, str] = {WarningLevel.YELLOW: "黄色预警", WarningLevel.RED: "红色预警"}


class WarningTransitionNotAllowed(errors.TransitionNotAllowed):
    code = "transition_not_allowed"
    title = N_("This action is not allowed in the warning's current state")


class StaleWarning(Conflict):
    code = "stale_version"
    title = N_("The warning was changed by someone else")


# ── reading ──────────────────────────────────────────────────────────────────────────────────────────


def is_supervisor(actor: Actor) -> bool:
    return actor.can(SUPERVISE)


def is_department(actor: Actor, w: SupervisionWarning) -> bool:
    return actor.can(HANDLE) and actor.department_id is not None and actor.department_id == w.department_id


def may_use(actor: Actor) -> bool:
    """Supervisors see every warning; a department's handlers those of their department; anyone else none."""
    return actor.can(SUPERVISE) or (actor.can(HANDLE) and actor.department_id is not None)


def parties(actor: Actor, w: SupervisionWarning) -> list[Party]:
    out = []
    if is_department(actor, w):
        out.append(Party.DEPARTMENT)
    if is_supervisor(actor):
        out.append(Party.SUPERVISOR)
    return out


def allowed_actions(actor: Actor, w: SupervisionWarning) -> list[str]:
    mine = set(parties(actor, w))
    return [str(a) for (s, a), (p, _) in TRANSITIONS.items() if s is w.state and p in mine]


def get(session: Session, *, actor: Actor, warning_id: int) -> SupervisionWarning:
    w = session.get(SupervisionWarning, warning_id)
    if w is None or not (is_supervisor(actor) or is_department(actor, w)):
        raise NotFound(N_("No such warning"))
    return w


def history(session: Session, *, warning_id: int) -> list[SupervisionEvent]:
    return list(
        session.scalars(
            select(SupervisionEvent).where(SupervisionEvent.warning_id == warning_id).order_by(SupervisionEvent.id)
        )
    )


def reason_text(w: SupervisionWarning) -> str:
    """监察结果描述 in the current language."""
    values = {k: gettext(v) if isinstance(v, str) else v for k, v in (w.reason_values or {}).items()}
    try:
        return gettext(w.reason, **values)
    except (KeyError, ValueError, TypeError):
        return gettext(w.reason)


@dataclass(frozen=True)
class WarningFilter:
    state: WarningState | None = None
    active: bool = False  # every state but cleared
    level: WarningLevel | None = None
    department_id: int | None = None
    kind: RuleKind | None = None
    application_id: int | None = None
    since: datetime | None = None  # raised at or after
    until: datetime | None = None  # raised before


def _scoped(actor: Actor, f: WarningFilter, *, ignore: Iterable[str] = ()) -> Any:
    stmt = select(SupervisionWarning)
    if not may_use(actor):  # like the applications: nothing to show, rather than a refusal
        return stmt.where(false())
    if not is_supervisor(actor):
        stmt = stmt.where(SupervisionWarning.department_id == actor.department_id)
    skip = set(ignore)
    if f.state is not None:
        stmt = stmt.where(SupervisionWarning.state == f.state)
    if f.active:
        stmt = stmt.where(SupervisionWarning.state != WarningState.CLEARED)
    if f.level is not None and "level" not in skip:
        stmt = stmt.where(SupervisionWarning.level == f.level)
    if f.department_id is not None and "department_id" not in skip:
        stmt = stmt.where(SupervisionWarning.department_id == f.department_id)
    if f.kind is not None:
        stmt = stmt.where(
            SupervisionWarning.rule_id.in_(select(SupervisionRule.id).where(SupervisionRule.kind == f.kind))
        )
    if f.application_id is not None:
        stmt = stmt.where(SupervisionWarning.application_id == f.application_id)
    if f.since is not None:
        stmt = stmt.where(SupervisionWarning.raised_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(SupervisionWarning.raised_at < f.until)
    return stmt


def listing(
    session: Session, *, actor: Actor, f: WarningFilter, limit: int = 50, offset: int = 0
) -> tuple[list[SupervisionWarning], int]:
    """Warnings the actor may see, red first, then the newest."""
    stmt = _scoped(actor, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    red_first = case((SupervisionWarning.level == WarningLevel.RED, 0), else_=1)
    order = (red_first, SupervisionWarning.raised_at.desc(), SupervisionWarning.id.desc())
    rows = session.scalars(stmt.order_by(*order).limit(min(limit, MAX_PAGE)).offset(offset))
    return list(rows), total


@dataclass(frozen=True)
class StatRow:
    department_id: int | None
    yellow: int
    red: int

    @property
    def total(self) -> int:
        return self.yellow + self.red


def statistics(session: Session, *, actor: Actor, f: WarningFilter) -> list[StatRow]:
    """Warnings by responsible department and level under the same filter (the department and level
    filters aside, so each number leads to the list filtered by its department and level)."""
    sub = _scoped(actor, f, ignore=("level", "department_id")).subquery()
    counts: dict[int | None, dict[str, int]] = {}
    for dep, level, n in session.execute(
        select(sub.c.department_id, sub.c.level, func.count()).group_by(sub.c.department_id, sub.c.level)
    ):
        counts.setdefault(dep, {})[str(level)] = int(n)
    rows = [StatRow(dep, c.get("yellow", 0), c.get("red", 0)) for dep, c in counts.items()]
    return sorted(rows, key=lambda r: (-r.red, -r.total, r.department_id or 0))


# ── the sweep ────────────────────────────────────────────────────────────────────────────────────────


def _number(session: Session, now: datetime) -> str:
    day = now.strftime("%Y%m%d")
    return f"JC{day}{applications.next_seq(session, scope=f'supervision:{day}'):05d}"


def _record(
    session: Session,
    w: SupervisionWarning,
    actor: Actor,
    action: WarningAction,
    before: WarningState | None,
    now: datetime,
    note: str | None = None,
) -> SupervisionEvent:
    ev = SupervisionEvent(
        warning_id=w.id,
        at=now,
        action=str(action),
        actor_id=actor.id,
        actor_name=actor.name[:100],
        from_state=str(before) if before is not None else None,
        to_state=str(w.state),
        level=str(w.level),
        note=note,
    )
    session.add(ev)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"services.supervision.{action}",
        target_type="services_supervision_warning",
        target_id=w.number,
        detail={"from": str(before) if before else None, "to": str(w.state), "level": str(w.level)},
    )
    return ev


def _notify(
    session: Session,
    w: SupervisionWarning,
    ev: SupervisionEvent,
    *,
    supervisors: bool = True,
    known: dict[int | None, list[int]] | None = None,
) -> int:
    """In-app messages (and the external ones the settings ask for) to the responsible department's
    handlers and the supervisors, through the cases domain's notification outbox. ``known``: the people
    already looked up in this sweep, by department (``None``: the supervisors)."""
    from countyos.cases.service import notify, people

    known = {} if known is None else known
    if w.department_id is not None and w.department_id not in known:
        known[w.department_id] = [
            u.id for u in people.holders(session, permission=HANDLE, department_id=w.department_id)
        ]
    users = list(known.get(w.department_id, [])) if w.department_id is not None else []
    if supervisors:
        if None not in known:
            known[None] = [u.id for u in people.holders(session, permission=SUPERVISE)]
        users += known[None]
    return notify.queue(
        session,
        key=f"svcwarn:{w.id}:{ev.id}",
        kind="supervision",
        title=_title(session, w),
        body=rules_mod.LEVEL_LABELS[w.level] if ev.action != A.SUPERVISE else ACTION_LABELS[A.SUPERVISE],
        user_ids=users,
    )


def _title(session: Session, w: SupervisionWarning) -> str:
    """The message title: the warning's number, the application's number and matter, or the department."""
    if w.application_id is not None:
        row = session.execute(
            select(Application.number, MatterVersion.name)
            .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
            .where(Application.id == w.application_id)
        ).first()
        if row is not None:
            return f"{w.number} {row[0]} {row[1]}"
    from countyos.org.models import Department

    dep = session.get(Department, w.department_id) if w.department_id else None
    return f"{w.number} {dep.name if dep else ''}".strip()


def _move(w: SupervisionWarning, action: WarningAction, party: Party) -> WarningState:
    row = TRANSITIONS.get((w.state, action))
    if row is None or row[0] is not party:
        raise WarningTransitionNotAllowed(
            N_("%(action)s is not allowed on a warning that is %(state)s"),
            action=ACTION_LABELS[action],
            state=STATE_LABELS[w.state],
            allowed=[],
            current_state=str(w.state),
        )
    return row[1]


def sweep(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """One pass in the caller's transaction; how many warnings were raised, upgraded and cleared."""
    now = now or utcnow()
    rules_mod.ensure_defaults(session)
    found = rules_mod.evaluate(session, now=now)
    counts = {"raised": 0, "upgraded": 0, "cleared": 0, "messages": 0}
    known: dict[int | None, list[int]] = {}  # the people to tell, looked up once per department
    subjects = {s for _, s in found}
    existing = {
        (w.family, w.subject): w
        for w in session.scalars(
            select(SupervisionWarning).where(
                or_(SupervisionWarning.state != WarningState.CLEARED, SupervisionWarning.subject.in_(subjects))
                if subjects
                else SupervisionWarning.state != WarningState.CLEARED
            )
        )
    }
    for key, f in sorted(found.items()):
        w = existing.get(key)
        if w is None:
            w = _raise(session, f, now)
            ev = _record(session, w, SWEEP_ACTOR, A.RAISE, None, now)
            counts["raised"] += 1
        elif w.state == WarningState.CLEARED:
            before: WarningState = w.state
            w.state = _move(w, A.RAISE, Party.SYSTEM)
            _refresh(w, f, now, level_changed=True)
            w.raised_at, w.cleared_at = now, None
            ev = _record(session, w, SWEEP_ACTOR, A.RAISE, before, now)
            counts["raised"] += 1
        elif LEVEL_RANK[f.rule.level] > LEVEL_RANK[w.level]:
            before = w.state
            w.state = _move(w, A.UPGRADE, Party.SYSTEM)
            _refresh(w, f, now, level_changed=True)
            ev = _record(session, w, SWEEP_ACTOR, A.UPGRADE, before, now)
            counts["upgraded"] += 1
        else:
            if w.reason_values != f.values or w.department_id != f.department_id:
                _refresh(w, f, now, level_changed=False)  # the same warning, its figures brought up to date
            continue
        counts["messages"] += _notify(session, w, ev, known=known)
    for key, w in existing.items():
        if key not in found and w.state != WarningState.CLEARED:
            before = w.state
            w.state = _move(w, A.CLEAR, Party.SYSTEM)
            w.cleared_at = now
            _record(session, w, SWEEP_ACTOR, A.CLEAR, before, now)
            counts["cleared"] += 1
    session.flush()
    return counts


def _raise(session: Session, f: Finding, now: datetime) -> SupervisionWarning:
    w = SupervisionWarning(
        number=_number(session, now),
        family=f.family,
        subject=f.subject,
        rule_id=f.rule.id,
        application_id=f.application_id,
        department_id=f.department_id,
        level=f.rule.level,
        state=WarningState.OPEN,
        reason=rules_mod.REASONS[f.rule.kind],
        reason_values=f.values,
        raised_at=now,
        level_at=now,
    )
    session.add(w)
    session.flush()
    return w


def _refresh(w: SupervisionWarning, f: Finding, now: datetime, *, level_changed: bool) -> None:
    w.rule_id, w.department_id = f.rule.id, f.department_id
    w.reason, w.reason_values = rules_mod.REASONS[f.rule.kind], dict(f.values)
    if level_changed:
        w.level, w.level_at = f.rule.level, now


# ── people's actions ─────────────────────────────────────────────────────────────────────────────────


def act(
    session: Session,
    *,
    actor: Actor,
    warning_id: int,
    action: WarningAction,
    data: WarningActionIn,
    now: datetime | None = None,
) -> SupervisionWarning:
    """Feedback by the responsible department or 督办 by a supervisor (see the module docstring)."""
    now = now or utcnow()
    w = get(session, actor=actor, warning_id=warning_id)
    if data.version != w.version:
        raise StaleWarning(N_("Warning %(number)s was changed by someone else; reload it"), number=w.number)
    if action not in PERSON_ACTIONS:
        raise WarningTransitionNotAllowed(
            N_("%(action)s is not allowed on a warning that is %(state)s"),
            action=ACTION_LABELS[action],
            state=STATE_LABELS[w.state],
            allowed=allowed_actions(actor, w),
            current_state=str(w.state),
        )
    row = TRANSITIONS.get((w.state, action))
    if row is None:
        raise WarningTransitionNotAllowed(
            N_("%(action)s is not allowed on a warning that is %(state)s"),
            action=ACTION_LABELS[action],
            state=STATE_LABELS[w.state],
            allowed=allowed_actions(actor, w),
            current_state=str(w.state),
        )
    if row[0] not in parties(actor, w):
        raise PermissionDenied(
            N_("Only the responsible department answers a warning")
            if action is A.FEEDBACK
            else N_("Only a supervisor issues a supervision order")
        )
    before = w.state
    number = w.number
    w.state = row[1]
    if action is A.FEEDBACK:
        w.feedback, w.feedback_at, w.feedback_by_id = data.note, now, actor.id
    else:
        w.supervision, w.supervised_at, w.supervised_by_id = data.note, now, actor.id
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleWarning(N_("Warning %(number)s was changed by someone else; reload it"), number=number) from exc
    ev = _record(session, w, actor, action, before, now, note=data.note)
    if action is A.SUPERVISE:
        _supervise_application(session, actor, w, data.note, now)
        _notify(session, w, ev, supervisors=False)
    return w


def _supervise_application(session: Session, actor: Actor, w: SupervisionWarning, note: str, now: datetime) -> None:
    """督办 is recorded on the application too (its timeline and audit), while it is open."""
    if w.application_id is None:
        return
    app = session.get(Application, w.application_id)
    if app is None or not lifecycle.is_open(app.state) or app.state == State.DRAFT:
        return
    applications.act(
        session,
        actor=actor,
        application_id=app.id,
        action=Action.SUPERVISE,
        data=PlainActionIn(version=app.version, note=f"{w.number} {note}"[:2000]),
        now=now,
    )


# ── rules ────────────────────────────────────────────────────────────────────────────────────────────


def update_rules(
    session: Session, *, actor: Actor, data: RulesIn, now: datetime | None = None
) -> list[SupervisionRule]:
    """Change the rules (and add new ones, without an ``id``); each kind's parameters are required and
    the others cleared. Field errors name ``rules.<i>.<field>``."""
    now = now or utcnow()
    rules_mod.ensure_defaults(session)
    rules = {r.code: r for r in rules_mod.stored_rules(session)}
    errors: list[dict[str, str]] = []
    for i, r in enumerate(data.rules):
        if r.code is not None and r.code not in rules:
            errors.append({"field": f"rules.{i}.code", "message": gettext(N_("No such rule"))})
            continue
        kind = rules[r.code].kind if r.code is not None else r.kind
        if kind is None:
            errors.append({"field": f"rules.{i}.kind", "message": gettext(N_("Choose what the rule watches"))})
            continue
        for name in PARAMETERS[kind]:
            if getattr(r, name) is None:
                errors.append({"field": f"rules.{i}.{name}", "message": gettext(N_("Required for this kind of rule"))})
        if kind is RuleKind.TIME_USED and r.threshold is not None and not 0 < r.threshold <= 100:
            errors.append({"field": f"rules.{i}.threshold", "message": gettext(N_("A percentage between 1 and 100"))})
        if kind is RuleKind.REJECTION_RATE and r.threshold is not None and not 0 <= r.threshold < 100:
            errors.append({"field": f"rules.{i}.threshold", "message": gettext(N_("A percentage between 0 and 99"))})
    if len(rules) + sum(r.code is None for r in data.rules) > MAX_RULES:
        errors.append({"field": "rules", "message": gettext(N_("At most %(n)s rules"), n=MAX_RULES)})
    if errors:
        raise ValidationFailed(N_("Some rules are not valid"), errors=errors)
    changed: list[dict[str, Any]] = []
    for r in data.rules:
        row = rules.get(r.code) if r.code is not None else None
        if row is None:
            assert r.kind is not None
            row = SupervisionRule(code=_next_code(session), kind=r.kind, position=len(rules) + len(changed))
            session.add(row)
        params = PARAMETERS[row.kind]
        new = {
            "threshold": r.threshold if "threshold" in params else None,
            "days": r.days if "days" in params else None,
            "min_count": r.min_count if "min_count" in params else None,
            "level": r.level,
            "enabled": r.enabled,
        }
        old = {k: getattr(row, k) for k in new}
        if row.id is not None and old == new:
            continue
        for k, v in new.items():
            setattr(row, k, v)
        row.updated_at, row.updated_by_id = now, actor.id
        session.flush()
        changed.append({"code": row.code, "kind": str(row.kind), **{k: str(v) for k, v in new.items()}})
    if changed:
        audit.record(
            session,
            actor=actor,
            action="services.supervision.rules",
            target_type="services_supervision_rule",
            detail={"rules": changed},
        )
    return rules_mod.stored_rules(session)


def _next_code(session: Session) -> str:
    n = session.scalar(select(func.count()).select_from(SupervisionRule)) or 0
    taken = set(session.scalars(select(SupervisionRule.code)))
    while f"JC{n + 1:02d}" in taken:
        n += 1
    return f"JC{n + 1:02d}"


# ── the lapse of corrections never made ──────────────────────────────────────────────────────────────

LAPSE_ACTOR = Actor(
    id=None, name=N_("Time limit for corrections"), permissions=frozenset({SUPERVISE})
)  # a supervisor of the table: lapse is a window's or a supervisor's action


def lapse(session: Session, *, now: datetime | None = None) -> list[str]:
    """Withdraw (视为撤回) every application waiting for corrections longer than the enabled lapse rule's
    working days, through ``applications.act`` (timeline row and audit). Returns their numbers."""
    from countyos.core.workcal import calendar
    from countyos.services.models import ApplicationEvent

    now = now or utcnow()
    rules_mod.ensure_defaults(session)
    rule = session.scalars(
        select(SupervisionRule)
        .where(SupervisionRule.kind == RuleKind.LAPSE, SupervisionRule.enabled.is_(True))
        .order_by(SupervisionRule.days)
    ).first()
    if rule is None or not rule.days:
        return []
    waiting = (str(State.CORRECTION_REQUESTED), str(State.SUPPLEMENT_REQUESTED))
    rows = session.execute(
        select(Application.id, func.max(ApplicationEvent.at))
        .join(ApplicationEvent, ApplicationEvent.application_id == Application.id)
        .where(Application.state.in_(waiting), ApplicationEvent.to_state.in_(waiting))
        .group_by(Application.id)
        .order_by(Application.id)
        .limit(rules_mod.BATCH)
    ).all()
    cal = calendar()
    out = []
    for app_id, since in rows:
        if rules_mod.working_days(cal, since, now) < rule.days:
            continue
        app = session.get(Application, app_id)
        assert app is not None
        applications.act(
            session,
            actor=LAPSE_ACTOR,
            application_id=app.id,
            action=Action.LAPSE,
            data=PlainActionIn(version=app.version, note=None),
            now=now,
        )
        out.append(app.number)
    return out


# ── exchange (表11) ──────────────────────────────────────────────────────────────────────────────────


def _stamp(t: datetime | None) -> str:
    """日期时间 as the standard writes it: YYYYMMDDhhmmss in the county's time."""
    from countyos.core.workcal import calendar

    return t.astimezone(calendar().tz).strftime("%Y%m%d%H%M%S") if t is not None else ""


def exchange_rows(session: Session, *, start: datetime, end: datetime) -> list[dict[str, str]]:
    """Warnings raised in [start, end) with GB/T 39046-2020 表11 field names and codes, for the exchange
    export: 办件编号, 督办内容, 机构名称, 事项类型代码, 督办发出时间, 监察编号, 监察规则编号,
    监察预警类型代码, 状态产生时间, 监察结果描述, 责任部门. Descriptions in Chinese."""
    from countyos.org.models import Department

    rows = session.execute(
        select(
            SupervisionWarning,
            SupervisionRule.code,
            Application.number,
            MatterVersion.body_name,
            MatterVersion.matter_type,
        )
        .join(SupervisionRule, SupervisionRule.id == SupervisionWarning.rule_id)
        .outerjoin(Application, Application.id == SupervisionWarning.application_id)
        .outerjoin(MatterVersion, MatterVersion.id == Application.matter_version_id)
        .where(SupervisionWarning.raised_at >= start, SupervisionWarning.raised_at < end)
        .order_by(SupervisionWarning.raised_at, SupervisionWarning.id)
        .limit(MAX_EXPORT)
    ).all()
    dep_ids = {r[0].department_id for r in rows} - {None}
    deps = (
        dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(dep_ids))).all())
        if dep_ids
        else {}
    )
    out = []
    with use_locale("zh_CN"):
        for w, rule_code, app_number, body_name, matter_type in rows:
            dep = deps.get(w.department_id, "") if w.department_id is not None else ""
            out.append(
                {
                    "办件编号": app_number or "",
                    "督办内容": w.supervision or "",
                    "机构名称": body_name or dep,
                    "事项类型代码": codes.NATIONAL[codes.MatterType][matter_type] if matter_type else "",
                    "督办发出时间": _stamp(w.supervised_at),
                    "监察编号": w.number,
                    "监察规则编号": rule_code,
                    "监察预警类型代码": LEVEL_CODES[w.level],
                    "状态产生时间": _stamp(w.cleared_at if w.state is WarningState.CLEARED else w.level_at),
                    "监察结果描述": f"{STANDARD_LEVEL_NAMES[w.level]}：{reason_text(w)}",
                    "责任部门": dep,
                }
            )
    return out


def application_warnings(session: Session, *, application_id: int) -> list[SupervisionWarning]:
    return list(
        session.scalars(
            select(SupervisionWarning)
            .where(SupervisionWarning.application_id == application_id)
            .order_by(SupervisionWarning.id)
        )
    )


__all__ = ["FAMILY", "TRANSITIONS", "WarningAction", "exchange_rows", "lapse", "sweep"]


def application_warnings_of(session: Session, application_ids: list[int]) -> list[SupervisionWarning]:
    """The warnings of several applications (one query)."""
    if not application_ids:
        return []
    stmt = select(SupervisionWarning).where(SupervisionWarning.application_id.in_(application_ids))
    return list(session.scalars(stmt.order_by(SupervisionWarning.id)))
