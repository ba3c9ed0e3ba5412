"""按效付费: a contract's payment for a period, computed from its total KPI score by the contract's formula
(``schemas.payments.Formula``), and the base that formula applies to.

Money is integer fen. Percentages and scores are floats in the data; they are read as the decimals they
print as (``Decimal(str(x))``), every product is exact, and each amount is rounded once, half up to the
fen (0.5 fen → 1 fen):

    deduction = round(base × deduction_pct / 100)      deduction_pct = min(points below full_at × per_point_pct,
                                                                           max_deduction_pct)
    bonus     = round(base × bonus_pct / 100)          bonus_pct = min(largest pct of the steps reached,
                                                                       max_bonus_pct)
    payable   = base − deduction + bonus, kept within 0 … base + round(base × max_bonus_pct / 100)

Below ``zero_below`` nothing is paid (no bonus either). A period without data (total ``None``) is held
(nothing payable) or paid in full, as ``no_data`` says. The steps are kept in ``breakdown`` so that a page
can say in words what was applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.programme.models.projects import AssessmentPeriod, Contract, Instalment
from countyos.programme.schemas.payments import Formula

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PaymentResult:
    base_fen: int
    deduction_fen: int
    bonus_fen: int
    payable_fen: int
    breakdown: dict[str, Any] = field(default_factory=dict)


def _d(x: float) -> Decimal:
    return Decimal(str(x))


def fen_of(base_fen: int, pct: Decimal) -> int:
    """``pct`` percent of ``base_fen``, rounded half up to the fen."""
    return int((Decimal(base_fen) * pct / HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def formula_of(contract: Contract) -> Formula:
    """The contract's formula (the defaults for an empty one)."""
    return Formula.model_validate(contract.formula or {})


def ceiling_fen(formula: Formula, base_fen: int) -> int:
    """The most a period can pay: the base and the largest bonus."""
    return base_fen + fen_of(base_fen, _d(formula.max_bonus_pct))


def compute(formula: Formula, *, base_fen: int, total: float | None) -> PaymentResult:
    """The payment of a period with ``base_fen`` whose total score is ``total`` (``None``: no KPI had data)."""
    if base_fen < 0:
        raise ValueError("base_fen must not be negative")
    steps: dict[str, Any] = {
        "total": total,
        "full_at": formula.full_at,
        "per_point_pct": formula.per_point_pct,
        "max_deduction_pct": formula.max_deduction_pct,
        "zero_below": formula.zero_below,
        "max_bonus_pct": formula.max_bonus_pct,
        "points_below": 0.0,
        "deduction_pct": 0.0,
        "capped": False,
        "bonus_step": None,
        "bonus_pct": 0.0,
        "bonus_capped": False,
        "held": False,
        "limited": False,
    }
    if total is None:
        if formula.no_data == "hold":
            steps.update(rule="held", held=True)
            return PaymentResult(base_fen, 0, 0, 0, steps)
        steps.update(rule="no_data_paid")
        return PaymentResult(base_fen, 0, 0, base_fen, steps)
    score = _d(total)
    if formula.zero_below is not None and score < _d(formula.zero_below):
        steps.update(rule="zero", deduction_pct=100.0)
        return PaymentResult(base_fen, base_fen, 0, 0, steps)
    below = max(Decimal(0), _d(formula.full_at) - score)
    pct = below * _d(formula.per_point_pct)
    capped = pct > _d(formula.max_deduction_pct)
    pct = min(pct, _d(formula.max_deduction_pct))
    deduction = fen_of(base_fen, pct)
    reached = [s for s in formula.bonus if score >= _d(s.at_least)]
    step = max(reached, key=lambda s: (s.pct, s.at_least), default=None)
    bonus_pct = _d(step.pct) if step else Decimal(0)
    bonus_capped = bonus_pct > _d(formula.max_bonus_pct)
    bonus_pct = min(bonus_pct, _d(formula.max_bonus_pct))
    bonus = fen_of(base_fen, bonus_pct)
    raw = base_fen - deduction + bonus
    payable = min(max(raw, 0), ceiling_fen(formula, base_fen))
    steps.update(
        rule="full" if below == 0 else "deduct",
        points_below=float(below),
        deduction_pct=float(pct),
        capped=capped,
        bonus_step={"at_least": step.at_least, "pct": step.pct} if step else None,
        bonus_pct=float(bonus_pct),
        bonus_capped=bonus_capped,
        limited=payable != raw,
    )
    return PaymentResult(base_fen, deduction, bonus, payable, steps)


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators (1234567 → "12,345.67")."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d}"


# -- the base of a period -------------------------------------------------------------------------


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def period_start_of(kind: AssessmentPeriod, day: date) -> date:
    """The first day of the month or quarter holding ``day``."""
    if kind == AssessmentPeriod.QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return _month_start(day)


def period_months(kind: AssessmentPeriod) -> int:
    return 3 if kind == AssessmentPeriod.QUARTER else 1


def periods(contract: Contract) -> list[tuple[date, date]]:
    """The contract's assessment periods: calendar months or quarters (start, exclusive end) that overlap its
    term (``starts_on`` … ``ends_on``, both days included)."""
    step = period_months(contract.period)
    out: list[tuple[date, date]] = []
    start = period_start_of(contract.period, contract.starts_on)
    while start <= contract.ends_on and len(out) < 1200:
        end = _add_months(start, step)
        out.append((start, end))
        start = end
    return out


def base_for(session: Session, contract: Contract, period_start: date, period_end: date) -> int:
    """The base of the period ``period_start`` … ``period_end`` (exclusive) in fen.

    ``even``: the contract amount divided equally over its periods (``periods``), rounded down; the last
    period takes the remainder, so the periods add up to the amount exactly. ``instalment``: the sum of the
    schedule's instalments due in the period."""
    formula = formula_of(contract)
    if formula.base == "instalment":
        total = session.execute(
            select(func.coalesce(func.sum(Instalment.amount_fen), 0)).where(
                Instalment.contract_id == contract.id,
                Instalment.due_on >= period_start,
                Instalment.due_on < period_end,
            )
        ).scalar_one()
        return int(total)
    spans = periods(contract)
    starts = [s for s, _ in spans]
    if period_start not in starts:
        return 0
    share = contract.amount_fen // len(spans)
    if period_start == starts[-1]:
        return contract.amount_fen - share * (len(spans) - 1)
    return share
