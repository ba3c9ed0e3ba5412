"""The payments part of the demonstration county: after the kpis demo's year of monthly assessments, the
finance officer (czj) locks the approved assessments of periods ended more than three months ago, and one
locked month is changed with a recorded reason. The rest stay as the kpis demo left them. A second run
changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today, utcnow
from countyos.programme import permissions as P
from countyos.programme.models.kpis import Amendment, Assessment, AssessmentState
from countyos.programme.service import payments, payments_lock, payments_table

REASON = "因设备数据接入延迟核减后补记"


def months_back(today: date, n: int) -> date:
    """The first day of the month ``n`` months before ``today``'s."""
    m = today.year * 12 + today.month - 1 - n
    return date(m // 12, m % 12 + 1, 1)


def load(session: Session, ctx: Any) -> None:
    finance_id = ctx.user_ids.get("czj")
    if finance_id is None:
        return
    czj = Actor(id=finance_id, name="czj", permissions=frozenset({P.READ, P.FINANCE}))
    cutoff = months_back(county_today(), 3)  # periods ended before the first day of the month three months ago
    rows = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.state == AssessmentState.APPROVED, Assessment.period_end <= cutoff)
            .order_by(Assessment.contract_id, Assessment.period_start)
        )
    )
    now = utcnow()
    for a in rows:
        payments_lock.lock(session, actor=czj, assessment=a)
        if a.approved_at is not None:  # the demo's history: locked a few days after the approval
            a.locked_at = min(now, a.approved_at + timedelta(days=4))
    amended = session.scalar(select(Amendment.id).where(Amendment.reason == REASON).limit(1))
    if amended is not None:
        return
    target = session.scalar(
        select(Assessment)
        .where(Assessment.state == AssessmentState.LOCKED, Assessment.deduction_fen > 0)
        .order_by(Assessment.period_start.desc(), Assessment.contract_id)
        .limit(1)
    )
    if target is None:
        return
    # half of the month's deduction paid back: the devices' data had arrived late
    back = target.deduction_fen // 2
    contract = payments_table.contract_of(session, target)
    payable = min(target.payable_fen + back, payments.ceiling_fen(payments.formula_of(contract), target.base_fen))
    payments_lock.amend(session, actor=czj, assessment=target, reason=REASON, payable_fen=payable)
    notes = getattr(ctx, "notes", None)
    if isinstance(notes, list):
        notes.append(
            f"Payments: {len(rows)} approved assessments locked by czj; one amended "
            f"({payments.yuan(target.payable_fen)} yuan, reason: {REASON})"
        )
