"""综合评价: indicators per department, township, grid and person over a period, composite scores, grades.

The population is the cases *reported* in the period [start, end) that were not merged into another
case. The formulas are in ``cases/README.md`` (with a worked example that the tests reproduce);
weights and grade thresholds are data (``EvaluationScheme`` rows, defaults below).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.models import Case, CaseEvent, DispatchRecord, EvaluationScheme
from countyos.core.actor import Actor
from countyos.core.errors import ValidationFailed
from countyos.org.models import Department, User
from countyos.org.service import audit

SUBJECTS = ("department", "township", "grid", "person", "registrar", "dispatcher")
# the staff subjects: the person who did the case's first step of that kind (timeline actor)
STAFF_ACTIONS = {"registrar": "register", "dispatcher": "dispatch"}
SATISFIED = ("very_satisfied", "satisfied", "fairly_satisfied")

# indicator → (numerator, denominator) names of ``Counts`` fields
RATES: dict[str, tuple[str, str]] = {
    "closure_rate": ("closed", "to_close"),  # 结案率
    "closed_on_time_rate": ("closed_on_time", "to_close"),  # 按期结案率
    "registered_on_time_rate": ("registered_on_time", "registered"),  # 按时立案率
    "accurate_registration_rate": ("registered_not_voided", "registered"),  # 准确立案率
    "dispatched_on_time_rate": ("dispatched_on_time", "dispatched"),  # 按时派遣率
    "accurate_dispatch_rate": ("dispatched_once", "dispatched"),  # 准确派遣率
    "handled_on_time_rate": ("handled_on_time", "dispatched"),  # 按期处置率
    "rework_rate": ("reworked", "to_close"),  # 返工率
    "valid_report_rate": ("valid_reports", "reported"),  # 有效上报率
    "missed_report_rate": ("public_registered", "registered"),  # 漏报率
    "satisfaction_rate": ("satisfied", "rated"),  # 满意率
}
NEGATIVE = frozenset({"rework_rate", "missed_report_rate"})

DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "department": {"closure_rate": 0.3, "handled_on_time_rate": 0.3, "rework_rate": 0.2, "satisfaction_rate": 0.2},
    "township": {"closure_rate": 0.3, "closed_on_time_rate": 0.4, "missed_report_rate": 0.1, "satisfaction_rate": 0.2},
    "grid": {"closure_rate": 0.3, "closed_on_time_rate": 0.4, "missed_report_rate": 0.1, "satisfaction_rate": 0.2},
    "person": {"valid_report_rate": 0.7, "closed_on_time_rate": 0.3},
    "registrar": {"registered_on_time_rate": 0.6, "accurate_registration_rate": 0.4},
    "dispatcher": {"dispatched_on_time_rate": 0.5, "accurate_dispatch_rate": 0.5},
}
DEFAULT_GRADES: list[list[Any]] = [["A", 90], ["B", 75], ["C", 60], ["D", 40], ["E", 0]]


@dataclass
class Counts:
    reported: int = 0
    valid_reports: int = 0
    registered: int = 0
    registered_on_time: int = 0
    registered_not_voided: int = 0
    dispatched: int = 0
    dispatched_on_time: int = 0
    dispatched_once: int = 0
    handled_on_time: int = 0
    to_close: int = 0
    closed: int = 0
    closed_on_time: int = 0
    reworked: int = 0
    public_registered: int = 0
    rated: int = 0
    satisfied: int = 0

    def add(self, c: Case, dispatch_count: int) -> None:
        self.reported += 1
        registered_at = c.registered_at
        registered = registered_at is not None
        voided = c.voided_at is not None
        if registered or (c.self_handled and c.closed_at is not None):
            self.valid_reports += 1
        if registered:
            self.registered += 1
            if c.register_deadline is None or (registered_at is not None and registered_at <= c.register_deadline):
                self.registered_on_time += 1
            if not voided:
                self.registered_not_voided += 1
                self.to_close += 1
                if c.closed_at is not None:
                    self.closed += 1
                    if c.closed_in_time:
                        self.closed_on_time += 1
                if c.rework_count > 0:
                    self.reworked += 1
            if c.public_report:
                self.public_registered += 1
        if c.dispatched_at is not None:
            self.dispatched += 1
            if c.dispatch_deadline is None or c.dispatched_at <= c.dispatch_deadline:
                self.dispatched_on_time += 1
            if dispatch_count <= 1:
                self.dispatched_once += 1
            if c.handled_in_time:
                self.handled_on_time += 1
        if c.satisfaction is not None:
            self.rated += 1
            if c.satisfaction in SATISFIED:
                self.satisfied += 1


@dataclass
class Row:
    key: str
    name: str
    counts: Counts
    rates: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    grade: str | None = None


def rates_of(c: Counts) -> dict[str, float | None]:
    """Each indicator in percent, rounded to 2 decimals; None when its denominator is 0."""
    out: dict[str, float | None] = {}
    for name, (num, den) in RATES.items():
        d = getattr(c, den)
        out[name] = round(100.0 * getattr(c, num) / d, 2) if d else None
    return out


def composite(rates: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Σ wᵢ·vᵢ / Σ wᵢ over the indicators that have a value; vᵢ = 100 − rate for negative indicators."""
    total_w, total = 0.0, 0.0
    for name, w in weights.items():
        v = rates.get(name)
        if v is None or w <= 0:
            continue
        total += w * (100.0 - v if name in NEGATIVE else v)
        total_w += w
    return round(total / total_w, 2) if total_w else None


def grade(score: float | None, grades: list[list[Any]]) -> str | None:
    if score is None:
        return None
    for letter, threshold in sorted(grades, key=lambda g: -float(g[1])):
        if score >= float(threshold):
            return str(letter)
    return str(grades[-1][0]) if grades else None


def scheme(session: Session, *, subject: str) -> tuple[dict[str, float], list[list[Any]]]:
    row = session.scalar(select(EvaluationScheme).where(EvaluationScheme.subject == subject))
    if row is None:
        return DEFAULT_WEIGHTS[subject], DEFAULT_GRADES
    return dict(row.weights), list(row.grades)


def set_scheme(
    session: Session, *, actor: Actor, subject: str, weights: dict[str, float], grades: list[list[Any]] | None = None
) -> EvaluationScheme:
    if subject not in SUBJECTS:
        raise ValidationFailed("Unknown subject %(s)s", s=subject)
    unknown = set(weights) - set(RATES)
    if unknown:
        raise ValidationFailed("Unknown indicators: %(names)s", names=", ".join(sorted(unknown)))
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValidationFailed("Weights must be positive and not all zero")
    row = session.scalar(select(EvaluationScheme).where(EvaluationScheme.subject == subject))
    if row is None:
        row = EvaluationScheme(subject=subject)
        session.add(row)
    before = None if row.weights is None else dict(row.weights or {})
    row.weights = dict(weights)
    row.grades = grades or DEFAULT_GRADES
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.evaluation.scheme",
        target_type="case_eval_scheme",
        target_id=subject,
        detail={"before": before, "after": row.weights, "grades": row.grades},
    )
    return row


def _key(c: Case, subject: str, staff: dict[int, int]) -> str | None:
    if subject in STAFF_ACTIONS:
        return str(staff[c.id]) if c.id in staff else None
    if subject == "department":
        return str(c.department_id) if c.department_id is not None else None
    if subject == "township":
        return c.township_code
    if subject == "grid":
        return c.grid_code
    return str(c.reporter_user_id) if c.reporter_user_id is not None else None


def _names(session: Session, subject: str, keys: Iterable[str], sample: dict[str, Case]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    if subject == "department":
        return {
            str(i): n
            for i, n in session.execute(select(Department.id, Department.name).where(Department.id.in_(ids))).all()
        }
    if subject == "person" or subject in STAFF_ACTIONS:
        return {str(i): n for i, n in session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()}
    if subject == "township":
        return {k: (sample[k].township_name or k) for k in keys}
    return {k: f"{sample[k].village_name or ''} {k}".strip() for k in keys}


def _first_actors(session: Session, ids: list[int], action: str) -> dict[int, int]:
    """Case id → the person who did its first ``action`` (the timeline keeps every step's actor)."""
    out: dict[int, int] = {}
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        rows = session.execute(
            select(CaseEvent.case_id, CaseEvent.actor_id)
            .where(CaseEvent.case_id.in_(chunk), CaseEvent.action == action, CaseEvent.actor_id.is_not(None))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        ).all()
        for case_id, actor_id in rows:
            if actor_id is not None:
                out.setdefault(case_id, actor_id)
    return out


def evaluate(session: Session, *, subject: str, start: datetime, end: datetime) -> list[Row]:
    if subject not in SUBJECTS:
        raise ValidationFailed("Unknown subject %(s)s; use one of %(all)s", s=subject, all=", ".join(SUBJECTS))
    if end <= start:
        raise ValidationFailed("The period must end after it starts")
    found = list(
        session.scalars(
            select(Case).where(Case.reported_at >= start, Case.reported_at < end, Case.merged_into_id.is_(None))
        )
    )
    ids = [c.id for c in found]
    dispatches: dict[int, int] = defaultdict(int)
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        for case_id, n in session.execute(
            select(DispatchRecord.case_id, func.count())
            .where(DispatchRecord.case_id.in_(chunk))
            .group_by(DispatchRecord.case_id)
        ).all():
            dispatches[case_id] = int(n)
    staff = _first_actors(session, ids, STAFF_ACTIONS[subject]) if subject in STAFF_ACTIONS else {}
    groups: dict[str, Counts] = defaultdict(Counts)
    sample: dict[str, Case] = {}
    for c in found:
        k = _key(c, subject, staff)
        if k is None:
            continue
        groups[k].add(c, dispatches.get(c.id, 0))
        sample.setdefault(k, c)
    weights, grades = scheme(session, subject=subject)
    names = _names(session, subject, groups.keys(), sample)
    rows = []
    for k, counts in groups.items():
        r = rates_of(counts)
        score = composite(r, weights)
        rows.append(Row(k, names.get(k, k), counts, r, score, grade(score, grades)))
    return sorted(rows, key=lambda row: (-(row.score or -1), row.name))


def totals(rows: list[Row]) -> Counts:
    out = Counts()
    for r in rows:
        for f in out.__dataclass_fields__:
            setattr(out, f, getattr(out, f) + getattr(r.counts, f))
    return out
