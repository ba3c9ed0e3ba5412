"""电子监察 rules as data: what each kind of rule measures, which parameters it takes, its defaults, and
the ONE function that evaluates every enabled rule over the open applications.

A rule row (``SupervisionRule``) is a kind with its parameters (``PARAMETERS``), a level (yellow/red)
and an enabled flag; supervisors change them on the settings page. Kinds whose warnings replace each
other are one *family* (``FAMILY``): 承诺时限 80 % (yellow) and overdue (red) are the family
``deadline``, so an application has one deadline warning that is upgraded from yellow to red. Two
rules of the same kind (idle 3 days yellow, idle 5 days red) are one family too.

``evaluate`` reads the open applications in batches (one query for the applications with their
version's limit, one each for their 特别程序, pending steps, step handlers' last actions and 补正
returns) and the departments' 不予受理 rates (two grouped counts), then says which (family, subject)
fires with which rule: bounded queries, no query per application.

The sensing domain's JSON condition engine is not used here: it evaluates a condition over one stream
of observations with state kept between them (hysteresis, durations, rates of change); these rules are
fixed measures over sets of applications and departments, each compared with one parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.clock import as_utc
from countyos.core.i18n import N_
from countyos.core.workcal import WorkCalendar, calendar
from countyos.services import deadlines, lifecycle
from countyos.services.codes import TimeLimitUnit
from countyos.services.lifecycle import Role, State, StepStatus
from countyos.services.models import (
    Application,
    ApplicationEvent,
    ApplicationSpecial,
    ApplicationStep,
    MatterVersion,
    RuleKind,
    SupervisionRule,
    WarningLevel,
)

BATCH = 500

# Which parameters each kind takes (the others stay empty); bounds are in ``schemas.RuleIn``.
PARAMETERS: dict[RuleKind, tuple[str, ...]] = {
    RuleKind.TIME_USED: ("threshold",),  # percent of the promised limit used
    RuleKind.OVERDUE: (),
    RuleKind.IDLE: ("days",),  # working days without a step handler's action
    RuleKind.CORRECTIONS: ("threshold",),  # more than this many 补正
    RuleKind.REJECTION_RATE: ("threshold", "days", "min_count"),  # percent, window of days, least decisions
    RuleKind.LAPSE: ("days",),  # working days to bring the corrections
}
FAMILY: dict[RuleKind, str] = {
    RuleKind.TIME_USED: "deadline",
    RuleKind.OVERDUE: "deadline",
    RuleKind.IDLE: "idle",
    RuleKind.CORRECTIONS: "corrections",
    RuleKind.REJECTION_RATE: "rejection_rate",
}
WARNING_KINDS = frozenset(FAMILY)  # LAPSE acts (``jobs.lapse``) instead of warning

KIND_LABELS: dict[str, str] = {
    RuleKind.TIME_USED: N_("Share of the promised time limit used"),
    RuleKind.OVERDUE: N_("Past the promised completion time"),
    RuleKind.IDLE: N_("Accepted, current step untouched"),
    RuleKind.CORRECTIONS: N_("Sent back for correction repeatedly"),
    RuleKind.REJECTION_RATE: N_("Department's rate of applications not accepted"),
    RuleKind.LAPSE: N_("Corrections not made in time: treated as withdrawn"),
}
KIND_HELP: dict[str, str] = {
    RuleKind.TIME_USED: N_("Warns when this percentage of the promised time limit is used."),
    RuleKind.OVERDUE: N_("Warns when the promised completion time has passed."),
    RuleKind.IDLE: N_("Warns when no step handler has acted on the current step for this many working days."),
    RuleKind.CORRECTIONS: N_("Warns when materials were sent back for correction more than this many times."),
    RuleKind.REJECTION_RATE: N_(
        "Warns when a department did not accept more than this percentage of the applications it decided on "
        "in the window of days, counting only with at least the least number of decisions."
    ),
    RuleKind.LAPSE: N_("An application whose corrections are not brought within this many working days is withdrawn."),
}
LEVEL_LABELS: dict[str, str] = {WarningLevel.YELLOW: N_("Yellow warning"), WarningLevel.RED: N_("Red warning")}
LEVEL_RANK = {WarningLevel.YELLOW: 1, WarningLevel.RED: 2}


@dataclass(frozen=True)
class Default:
    code: str
    kind: RuleKind
    level: WarningLevel
    threshold: float | None = None
    days: int | None = None
    min_count: int | None = None


# The county's starting rules (the migration seeds them; ``ensure_defaults`` adds any that are missing).
LAPSE_DAYS = 15  # 补正 within 15 working days by default, then 视为撤回
DEFAULTS: tuple[Default, ...] = (
    Default("JC01", RuleKind.TIME_USED, WarningLevel.YELLOW, threshold=80),
    Default("JC02", RuleKind.OVERDUE, WarningLevel.RED),
    Default("JC03", RuleKind.IDLE, WarningLevel.YELLOW, days=3),
    Default("JC04", RuleKind.CORRECTIONS, WarningLevel.YELLOW, threshold=1),
    Default("JC05", RuleKind.REJECTION_RATE, WarningLevel.YELLOW, threshold=20, days=30, min_count=10),
    Default("JC06", RuleKind.LAPSE, WarningLevel.YELLOW, days=LAPSE_DAYS),
)

# 监察结果描述: message ids, their values kept beside them and filled in the reader's language.
REASONS: dict[RuleKind, str] = {
    RuleKind.TIME_USED: N_("%(percent)s%% of the promised time limit is used"),
    RuleKind.OVERDUE: N_("The promised completion time has passed"),
    RuleKind.IDLE: N_("The step %(step)s has not been handled for %(days)s working days"),
    RuleKind.CORRECTIONS: N_("Materials were sent back for correction %(count)s times"),
    RuleKind.REJECTION_RATE: N_(
        "%(rejected)s of %(total)s applications were not accepted in the last %(days)s days (%(percent)s%%)"
    ),
}


@dataclass(frozen=True)
class Finding:
    """One rule firing for one subject: an application or a department."""

    rule: SupervisionRule
    subject: str
    application_id: int | None
    department_id: int | None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return FAMILY[self.rule.kind]

    @property
    def key(self) -> tuple[str, str]:
        return self.family, self.subject


def _from_default(d: Default, position: int) -> SupervisionRule:
    return SupervisionRule(
        code=d.code,
        kind=d.kind,
        level=d.level,
        threshold=d.threshold,
        days=d.days,
        min_count=d.min_count,
        enabled=True,
        position=position,
    )


def ensure_defaults(session: Session) -> None:
    """Add the default rules a database lacks (by code); never changes a rule a county edited."""
    have = set(session.scalars(select(SupervisionRule.code)))
    for i, d in enumerate(DEFAULTS):
        if d.code not in have:
            session.add(_from_default(d, i))
    session.flush()


def stored_rules(session: Session) -> list[SupervisionRule]:
    return list(session.scalars(select(SupervisionRule).order_by(SupervisionRule.position, SupervisionRule.id)))


def all_rules(session: Session) -> list[SupervisionRule]:
    """The rules as they are, or the defaults (not stored, no ``id``) in a database that has none yet."""
    return stored_rules(session) or [_from_default(d, i) for i, d in enumerate(DEFAULTS)]


def correction_days(session: Session) -> int:
    """The working days an applicant has to bring corrections: the lapse rule's (视为撤回 after them), also
    the deadline the 一次性告知书 prints."""
    rule = next((r for r in all_rules(session) if r.kind == RuleKind.LAPSE and r.days), None)
    return int(rule.days) if rule is not None and rule.days else LAPSE_DAYS


def working_days(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """Working days between two instants (office time over the length of a working day)."""
    if end <= start:
        return 0.0
    return cal.working_time_between(start, end) / cal.day_length


# ── evaluation ───────────────────────────────────────────────────────────────────────────────────────

_WATCHED = tuple(str(s) for s in lifecycle.OPEN_STATES - {State.DRAFT})


@dataclass
class _Batch:
    apps: list[tuple[Application, int, str]]  # application, promised limit, unit
    specials: dict[int, list[deadlines.Interval]]
    pending: dict[int, ApplicationStep]
    handled_at: dict[int, datetime]
    returns: dict[int, int]


def _batches(session: Session) -> Iterator[_Batch]:
    last = 0
    while True:
        rows = session.execute(
            select(Application, MatterVersion.promised_limit, MatterVersion.promised_limit_unit)
            .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
            .where(Application.state.in_(_WATCHED), Application.id > last)
            .order_by(Application.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        apps = [(r[0], int(r[1] or 0), str(r[2])) for r in rows]
        ids = [a.id for a, _, _ in apps]
        last = ids[-1]
        specials: dict[int, list[deadlines.Interval]] = {}
        for s in session.scalars(
            select(ApplicationSpecial).where(ApplicationSpecial.application_id.in_(ids)).order_by(ApplicationSpecial.id)
        ):
            specials.setdefault(s.application_id, []).append(deadlines.Interval(s.started_at, s.ended_at))
        pending: dict[int, ApplicationStep] = {}
        for st in session.scalars(
            select(ApplicationStep)
            .where(ApplicationStep.application_id.in_(ids), ApplicationStep.status == str(StepStatus.PENDING))
            .order_by(ApplicationStep.id)
        ):
            pending[st.application_id] = st  # the newest pending visit
        handled_at = dict(
            session.execute(
                select(ApplicationEvent.application_id, func.max(ApplicationEvent.at))
                .where(ApplicationEvent.application_id.in_(ids), ApplicationEvent.role == str(Role.STEP_HANDLER))
                .group_by(ApplicationEvent.application_id)
            ).all()
        )
        returns = dict(
            session.execute(
                select(ApplicationEvent.application_id, func.count())
                .where(
                    ApplicationEvent.application_id.in_(ids),
                    ApplicationEvent.to_state == str(State.SUPPLEMENT_REQUESTED),
                )
                .group_by(ApplicationEvent.application_id)
            ).all()
        )
        yield _Batch(apps, specials, pending, handled_at, returns)


def correction_count(app: Application, returns: int) -> int:
    """补正 so far: the 一次性告知 before acceptance and every return to the applicant after it."""
    return int(app.corrections or 0) + returns


def _deadline(app: Application, limit: int, unit: str, specials: Sequence[deadlines.Interval], now: datetime):  # type: ignore[no-untyped-def]
    """``applications.deadline`` on prefetched rows (the same limit and the same 特别程序 intervals)."""
    if app.clock_started_at is None or lifecycle.clock(app.state) not in (
        lifecycle.Clock.RUNNING,
        lifecycle.Clock.STOPPED,
    ):
        return None
    started = as_utc(app.clock_started_at)
    intervals = [i for i in specials if as_utc(i.start) >= started]
    return deadlines.deadline(
        deadlines.Limit(limit, TimeLimitUnit(unit)), accepted_at=started, now=now, special=intervals
    )


def _application_findings(
    rules: Sequence[SupervisionRule], batch: _Batch, now: datetime, cal: WorkCalendar
) -> Iterator[Finding]:
    for app, limit, unit in batch.apps:
        step = batch.pending.get(app.id)
        responsible = step.department_id if step is not None and step.department_id else app.department_id
        subject = f"a:{app.id}"
        d = None
        if any(r.kind in (RuleKind.TIME_USED, RuleKind.OVERDUE) for r in rules):
            d = _deadline(app, limit, unit, batch.specials.get(app.id, ()), now)
        for rule in rules:
            values: dict[str, Any] | None = None
            if rule.kind is RuleKind.TIME_USED and d is not None and rule.threshold is not None:
                if d.fraction * 100 >= rule.threshold:
                    values = {"percent": min(int(d.fraction * 100), 999)}
            elif rule.kind is RuleKind.OVERDUE and d is not None and d.overdue:
                values = {}
            elif (
                rule.kind is RuleKind.IDLE
                and rule.days
                and app.state == State.IN_PROGRESS
                and step is not None
                and step.position == app.step
            ):
                since = as_utc(step.started_at)
                touched = batch.handled_at.get(app.id)
                if touched is not None and as_utc(touched) > since:
                    since = as_utc(touched)
                days = working_days(cal, since, now)
                if days >= rule.days:
                    values = {"step": step.name, "days": int(days)}
            elif rule.kind is RuleKind.CORRECTIONS and rule.threshold is not None:
                count = correction_count(app, batch.returns.get(app.id, 0))
                if count > rule.threshold:
                    values = {"count": count}
            if values is not None:
                yield Finding(rule, subject, app.id, responsible, values)


def _rate_findings(session: Session, rule: SupervisionRule, now: datetime) -> Iterator[Finding]:
    if not (rule.threshold is not None and rule.days and rule.min_count):
        return
    since = now - timedelta(days=rule.days)
    rejected = dict(
        session.execute(
            select(Application.department_id, func.count())
            .where(
                Application.state == str(State.REJECTED), Application.closed_at >= since, Application.closed_at <= now
            )
            .group_by(Application.department_id)
        ).all()
    )
    accepted = dict(
        session.execute(
            select(Application.department_id, func.count())
            .where(Application.accepted_at >= since, Application.accepted_at <= now)
            .group_by(Application.department_id)
        ).all()
    )
    for dep in sorted(set(rejected) | set(accepted), key=lambda x: x or 0):
        if dep is None:
            continue
        r, total = int(rejected.get(dep, 0)), int(rejected.get(dep, 0)) + int(accepted.get(dep, 0))
        if total >= rule.min_count and r * 100 > rule.threshold * total:
            values = {"rejected": r, "total": total, "days": rule.days, "percent": round(r * 100 / total, 1)}
            yield Finding(rule, f"d:{dep}", None, dep, values)


def evaluate(
    session: Session, *, now: datetime, rules: Sequence[SupervisionRule] | None = None
) -> dict[tuple[str, str], Finding]:
    """Every (family, subject) that fires now, with the strongest rule of its family (red before yellow,
    then the rule's position)."""
    rules = [
        r for r in (rules if rules is not None else stored_rules(session)) if r.enabled and r.kind in WARNING_KINDS
    ]
    cal = calendar()
    found: dict[tuple[str, str], Finding] = {}

    def keep(f: Finding) -> None:
        have = found.get(f.key)
        if have is None or LEVEL_RANK[f.rule.level] > LEVEL_RANK[have.rule.level]:
            found[f.key] = f

    per_app = [r for r in rules if r.kind is not RuleKind.REJECTION_RATE]
    if per_app:
        for batch in _batches(session):
            for f in _application_findings(per_app, batch, now, cal):
                keep(f)
    for rule in rules:
        if rule.kind is RuleKind.REJECTION_RATE:
            for f in _rate_findings(session, rule, now):
                keep(f)
    return found
