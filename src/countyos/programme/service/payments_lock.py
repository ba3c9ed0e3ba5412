"""The payment table's lock (by the finance role) and changes after it.

An approved assessment is locked by the finance role (``lock``; approved → locked, who and when kept).
A locked assessment is never recomputed by the assessment job; it changes only by ``amend`` with a
recorded reason: a manual payable amount (``adjust``) or the period assessed again from the records, with
new scores and the formula applied again (``reassess``, by ``kpis_assess.assess``). Each change is an
``Amendment`` (who, when, why, before → after) and an audit record, and the assessment stays locked. A
change without a reason is refused on the field ``reason``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import ActionForbidden, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme.models.kpis import Amendment, Assessment, AssessmentState
from countyos.programme.models.projects import Contract
from countyos.programme.permissions import FINANCE
from countyos.programme.service import kpis_assess, payments
from countyos.programme.service import kpis_lifecycle as lifecycle

REASON_MAX = 500
WHAT_LABELS = {
    "adjust": N_("Payable adjusted"),
    "reassess": N_("Reassessed"),
    "return": N_("Returned for recomputing"),
}


def money(a: Assessment) -> dict[str, Any]:
    """What an amendment records before and after."""
    return {
        "total_score": a.total_score,
        "base_fen": a.base_fen,
        "deduction_fen": a.deduction_fen,
        "bonus_fen": a.bonus_fen,
        "payable_fen": a.payable_fen,
    }


def lock(session: Session, *, actor: Actor, assessment: Assessment) -> Assessment:
    """Lock an approved assessment's payment (approved → locked)."""
    assessment.state = lifecycle.target(assessment.state, lifecycle.LOCK, actor)
    assessment.locked_by_id = actor.id
    assessment.locked_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.payments.lock",
        target_type="programme_assessment",
        target_id=assessment.id,
        detail={
            "contract_id": assessment.contract_id,
            "period_start": assessment.period_start.isoformat(),
            "payable_fen": assessment.payable_fen,
        },
    )
    return assessment


def give_back(session: Session, *, actor: Actor, assessment: Assessment, reason: str) -> Amendment:
    """Return an approved assessment for recomputing (approved → computed, finance role) with a recorded
    reason: the approval is cleared, the assessment job computes it again, and the reason is kept as an
    amendment (``return``) beside the audit record."""
    to = lifecycle.target(assessment.state, lifecycle.RETURN, actor)
    reason = _reason(reason, N_("Returning an approved assessment needs a recorded reason"))
    before = {**money(assessment), "approved_by_id": assessment.approved_by_id}
    assessment.state = to
    assessment.approved_by_id, assessment.approved_at = None, None
    row = Amendment(assessment_id=assessment.id, by_id=actor.id, what="return", reason=reason, before=before,
                    after=money(assessment))  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.payments.return",
        target_type="programme_assessment",
        target_id=assessment.id,
        detail={"reason": reason, "amendment_id": row.id, "contract_id": assessment.contract_id},
    )
    return row


def _reason(reason: str | None, missing: str = N_("A change to a locked payment needs a recorded reason")) -> str:
    """The reason of a change, refused on the field ``reason`` when empty or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on_field("reason", missing)
    if len(reason) > REASON_MAX:
        raise ValidationFailed.on_field("reason", N_("The reason is too long"))
    return reason


def lock_all(session: Session, *, actor: Actor, contract: Contract) -> int:
    """Lock every approved assessment of the contract; how many were locked."""
    if not actor.can(FINANCE):
        raise ActionForbidden(
            N_("You may not take this step: %(action)s"),
            allowed=[],
            current_state="",
            action=lifecycle.ACTION_LABELS[lifecycle.LOCK],
        )
    rows = session.scalars(
        select(Assessment)
        .where(Assessment.contract_id == contract.id, Assessment.state == AssessmentState.APPROVED)
        .order_by(Assessment.period_start)
    ).all()
    for a in rows:
        lock(session, actor=actor, assessment=a)
    return len(rows)


def amend(
    session: Session,
    *,
    actor: Actor,
    assessment: Assessment,
    reason: str,
    payable_fen: int | None = None,
    recompute: bool = False,
) -> Amendment:
    """Change a locked assessment, with a recorded reason: set its payable (``payable_fen``, ``adjust``) or
    assess the period again from the records (``recompute``, ``reassess``). It stays locked."""
    assessment.state = lifecycle.target(assessment.state, lifecycle.AMEND, actor)
    reason = _reason(reason)
    if recompute == (payable_fen is not None):
        raise ValidationFailed.on_field(
            "payable_fen", N_("Give either the new payable amount or a reassessment, one of them")
        )
    contract = session.get(Contract, assessment.contract_id)
    assert contract is not None
    if recompute:
        return _reassess(session, actor=actor, assessment=assessment, contract=contract, reason=reason)
    assert payable_fen is not None
    before = money(assessment)
    ceiling = payments.ceiling_fen(payments.formula_of(contract), assessment.base_fen)
    if payable_fen < 0 or payable_fen > ceiling:
        raise ValidationFailed.on_field(
            "payable_fen", N_("The payable amount must be between 0 and %(most)s yuan"), most=payments.yuan(ceiling)
        )
    assessment.payable_fen = payable_fen
    assessment.breakdown = {**(assessment.breakdown or {}), "adjusted_payable_fen": payable_fen}
    row = Amendment(
        assessment_id=assessment.id,
        by_id=actor.id,
        what="adjust",
        reason=reason,
        before=before,
        after=money(assessment),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.payments.amend",
        target_type="programme_assessment",
        target_id=assessment.id,
        detail={"what": "adjust", "reason": reason, "amendment_id": row.id, "before": before, "after": row.after},
    )
    return row


def _reassess(session: Session, *, actor: Actor, assessment: Assessment, contract: Contract, reason: str) -> Amendment:
    """The period assessed again from the records (``kpis_assess.assess`` with the reason: new scores, total
    and payment; it writes the ``reassess`` amendment and its audit record) — late data counted."""
    done = kpis_assess.assess(
        session, actor=actor, contract=contract, period_start=assessment.period_start, now=utcnow(), reason=reason
    )
    row = session.scalar(
        select(Amendment)
        .where(Amendment.assessment_id == done.id, Amendment.what == "reassess")
        .order_by(Amendment.id.desc())
        .limit(1)
    )
    assert row is not None  # written by assess for an assessment past approval
    return row


def amendments(session: Session, *, assessment_ids: list[int]) -> dict[int, list[Amendment]]:
    """The amendments of these assessments, oldest first, by assessment."""
    out: dict[int, list[Amendment]] = {i: [] for i in assessment_ids}
    if not assessment_ids:
        return out
    for r in session.scalars(
        select(Amendment).where(Amendment.assessment_id.in_(assessment_ids)).order_by(Amendment.at, Amendment.id)
    ):
        out[r.assessment_id].append(r)
    return out
