"""Assessments: one per contract and period (a calendar month or quarter), computed from the contract's
KPIs and turned into a payment by the contract's formula (``service.payments``).

A period's KPI values are the operations view's indicators (``ioc.service.indicators.evaluate``) for the
local days of the period that fall within the contract's term (a contract starting mid-month is measured
from its first day; one ending mid-period up to its last), in the KPI's township or the whole county,
counted by a system actor that sees every case. Each score keeps the links to its records.

The total is the weighted mean of the scores; a KPI without data is left out with the other weights scaled
up (``reweight``), counts as 0 (``zero``) or as 100 (``full``), as the formula's ``missing`` says; no KPI
with data gives no total. A computed assessment is recomputed freely (the job does it every hour); an
approved or locked one only with a reason, written as an amendment.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.ioc.service import indicators
from countyos.ioc.service.scope import Scope
from countyos.ioc.service.scope import today as local_today
from countyos.org.service import audit
from countyos.programme.models.kpis import Amendment, Assessment, AssessmentState, ContractKpi, Score
from countyos.programme.models.projects import AssessmentPeriod, Contract
from countyos.programme.schemas.payments import Formula
from countyos.programme.service import kpis as kpis_svc
from countyos.programme.service import kpis_catalogue as catalogue
from countyos.programme.service import kpis_lifecycle as lifecycle
from countyos.programme.service import kpis_scoring as scoring

# Who counts the records of an assessment: no person; sees every case (as the scheduled ioc reports).
ASSESSOR = Actor(id=None, name="programme.assess", permissions=frozenset({"case.read_all"}))
MAX_PERIODS = 240


# --- periods ---------------------------------------------------------------------------------------


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def period_of(kind: AssessmentPeriod, day: date) -> tuple[date, date]:
    """The calendar month or quarter holding ``day``: (first day, first day after)."""
    if kind == AssessmentPeriod.QUARTER:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return start, _add_months(start, 3)
    start = day.replace(day=1)
    return start, _add_months(start, 1)


def measured_days(contract: Contract, start: date, end: date) -> tuple[date, date]:
    """The local days of the period ``start`` … ``end`` (exclusive) within the contract's term, inclusive."""
    return max(start, contract.starts_on), min(end - timedelta(days=1), contract.ends_on)


def periods(contract: Contract, today: date) -> list[tuple[date, date]]:
    """The contract's periods (start, exclusive end) from its start that have ended before ``today`` — a
    period cut short by the contract's end counts as ended the day after the contract's last day."""
    out: list[tuple[date, date]] = []
    start, end = period_of(contract.period, contract.starts_on)
    while start <= contract.ends_on and len(out) < MAX_PERIODS:
        last = measured_days(contract, start, end)[1]
        if last >= today:
            break
        out.append((start, end))
        start, end = end, _add_months(end, 3 if contract.period == AssessmentPeriod.QUARTER else 1)
    return out


def period_label(kind: AssessmentPeriod | str, start: date) -> str:
    """「2026年11月」 / 「2026年第3季度」 in the reader's language."""
    if kind == AssessmentPeriod.QUARTER:
        return gettext("Quarter %(quarter)s of %(year)s", quarter=(start.month - 1) // 3 + 1, year=start.year)
    return gettext("Month %(month)s of %(year)s", month=start.month, year=start.year)


# --- the total and the payment ---------------------------------------------------------------------


def total_of(scores: list[tuple[float | None, float]], missing: str) -> float | None:
    """The weighted total of (score, weight) pairs by the ``missing`` rule; None when no score has data."""
    if not scores or all(s is None for s, _ in scores):
        return None
    if missing == "reweight":
        pairs = [(s, w) for s, w in scores if s is not None]
    else:
        fill = 0.0 if missing == "zero" else 100.0
        pairs = [(fill if s is None else s, w) for s, w in scores]
    weights = sum(w for _, w in pairs)
    if weights <= 0:
        return None
    return round(sum(s * w for s, w in pairs) / weights, 2)


@dataclass(frozen=True)
class Payment:
    base_fen: int = 0
    deduction_fen: int = 0
    bonus_fen: int = 0
    payable_fen: int = 0
    breakdown: dict[str, Any] = field(default_factory=dict)


def payment(session: Session, contract: Contract, start: date, end: date, formula: Formula,
            total: float | None) -> Payment:  # fmt: skip
    """The period's payment by ``service.payments`` (base and formula); nothing while that is not there."""
    try:
        payments: Any = importlib.import_module("countyos.programme.service.payments")
    except ImportError:  # pragma: no cover - the payments part not installed
        return Payment()
    base = int(payments.base_for(session, contract, start, end))
    r = payments.compute(formula, base_fen=base, total=total)
    return Payment(r.base_fen, r.deduction_fen, r.bonus_fen, r.payable_fen, dict(r.breakdown))


# --- assessing -------------------------------------------------------------------------------------


def evaluate_kpi(session: Session, *, kpi: ContractKpi, since: date, until: date, now: datetime) -> Score:
    """One KPI's score for the local days ``since`` … ``until`` (a Score row not yet added)."""
    sc = Score(kpi_id=kpi.id, target=kpi.target, weight=kpi.weight)
    entry = catalogue.BY_CODE.get(kpi.kpi)
    if entry is None:  # no longer catalogued (an indicator switched off or removed): no data
        return sc
    scope = Scope(period="custom", since=since, until=until, township_code=kpi.township_code)
    v = indicators.evaluate(session, actor=ASSESSOR, ind=entry.ind, scope=scope, now=now)
    sc.value, sc.count, sc.whole = v.value, v.count, v.whole
    sc.records_url, sc.whole_url = v.url, v.whole_url
    sc.score = scoring.score(scoring.rule_of(kpi.scoring), v.value, kpi.target, entry.negative)
    return sc


def _figures(a: Assessment) -> dict[str, Any]:
    return {"total_score": a.total_score, "base_fen": a.base_fen, "deduction_fen": a.deduction_fen,
            "bonus_fen": a.bonus_fen, "payable_fen": a.payable_fen}  # fmt: skip


def find(session: Session, *, contract_id: int, period_start: date) -> Assessment | None:
    stmt = select(Assessment).where(Assessment.contract_id == contract_id, Assessment.period_start == period_start)
    return session.scalar(stmt)


def assess(
    session: Session,
    *,
    actor: Actor,
    contract: Contract,
    period_start: date,
    now: datetime,
    reason: str | None = None,
) -> Assessment:
    """Compute (or recompute) the contract's assessment of the period starting ``period_start``."""
    spans = dict(periods(contract, local_today(now)))
    if period_start not in spans:
        raise ValidationFailed.on_field("period_start", N_("Not an ended assessment period of this contract"))
    end = spans[period_start]
    reason = (reason or "").strip() or None
    a = find(session, contract_id=contract.id, period_start=period_start)
    if a is not None and a.state != AssessmentState.COMPUTED and reason is None:
        raise Conflict(N_("An approved or locked assessment is assessed again only with a reason"))
    before = _figures(a) if a is not None else None
    if a is None:
        a = Assessment(contract_id=contract.id, period_start=period_start, period_end=end)
        session.add(a)
        session.flush()
    else:
        session.execute(delete(Score).where(Score.assessment_id == a.id))
    since, until = measured_days(contract, period_start, end)
    formula = Formula.model_validate(contract.formula or {})
    scores = [evaluate_kpi(session, kpi=k, since=since, until=until, now=now)
              for k in kpis_svc.of_contract(session, contract_id=contract.id)]  # fmt: skip
    for sc in scores:
        sc.assessment_id = a.id
        session.add(sc)
    a.total_score = total_of([(sc.score, sc.weight or 0.0) for sc in scores], formula.missing)
    pay = payment(session, contract, period_start, end, formula, a.total_score)
    a.base_fen, a.deduction_fen, a.bonus_fen, a.payable_fen = (
        pay.base_fen,
        pay.deduction_fen,
        pay.bonus_fen,
        pay.payable_fen,
    )
    a.breakdown = pay.breakdown
    a.computed_at = now
    session.flush()
    detail: dict[str, Any] = {"contract_id": contract.id, "period_start": period_start.isoformat(),
                              "state": str(a.state), **_figures(a)}  # fmt: skip
    if before is not None and a.state != AssessmentState.COMPUTED:
        session.add(Amendment(assessment_id=a.id, at=now, by_id=actor.id, what="reassess", reason=reason or "",
                              before=before, after=_figures(a)))  # fmt: skip
        detail.update(reason=reason, before=before)
    action = "programme.kpis.assess" if before is None else "programme.kpis.reassess"
    audit.record(session, actor=actor, action=action, target_type="programme_assessment", target_id=a.id,
                 detail=detail)  # fmt: skip
    return a


def approve(session: Session, *, actor: Actor, assessment: Assessment, now: datetime) -> Assessment:
    """Computed → approved (``programme.assess``)."""
    assessment.state = lifecycle.target(assessment.state, lifecycle.APPROVE, actor)
    assessment.approved_by_id, assessment.approved_at = actor.id, now
    session.flush()
    audit.record(session, actor=actor, action="programme.kpis.approve", target_type="programme_assessment",
                 target_id=assessment.id, detail={"contract_id": assessment.contract_id,
                                                  "period_start": assessment.period_start.isoformat(),
                                                  **_figures(assessment)})  # fmt: skip
    return assessment


# --- reading ---------------------------------------------------------------------------------------


def get(session: Session, *, actor: Actor, assessment_id: int) -> Assessment:
    stmt = (
        select(Assessment)
        .join(Contract, Contract.id == Assessment.contract_id)
        .where(Assessment.id == assessment_id, kpis_svc.visible_contracts(session, actor))
    )
    a = session.scalar(stmt)
    if a is None:
        raise NotFound(N_("No such assessment"))
    return a


def listing(
    session: Session,
    *,
    actor: Actor,
    contract_id: int | None = None,
    state: AssessmentState | None = None,
    period_start: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Assessment, Contract]], int]:
    """Assessments the actor sees, newest period first, with their contracts, and how many there are."""
    cond = [kpis_svc.visible_contracts(session, actor)]
    if contract_id is not None:
        cond.append(Assessment.contract_id == contract_id)
    if state is not None:
        cond.append(Assessment.state == state)
    if period_start is not None:
        cond.append(Assessment.period_start == period_start)
    base = select(Assessment, Contract).join(Contract, Contract.id == Assessment.contract_id).where(*cond)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = session.execute(
        base.order_by(Assessment.period_start.desc(), Contract.code, Assessment.id).limit(limit).offset(offset)
    )
    return [(a, c) for a, c in rows], total


def scores_of(session: Session, *, assessment_id: int) -> list[tuple[Score, ContractKpi]]:
    stmt = (
        select(Score, ContractKpi)
        .join(ContractKpi, ContractKpi.id == Score.kpi_id)
        .where(Score.assessment_id == assessment_id)
        .order_by(ContractKpi.id)
    )
    return [(s, k) for s, k in session.execute(stmt)]


def amendments_of(session: Session, *, assessment_id: int) -> list[Amendment]:
    stmt = select(Amendment).where(Amendment.assessment_id == assessment_id).order_by(Amendment.at, Amendment.id)
    return list(session.scalars(stmt))
