"""The programme office's front page (``/programme``): one row per project with its model, phase, state,
budget, spend, contracts' amounts, the latest assessment's total score and what has been found payable
(approved or locked assessments) — each figure with the page listing its records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.programme.models.kpis import Assessment, AssessmentState
from countyos.programme.models.modules import Phase
from countyos.programme.models.projects import Contract, Project
from countyos.programme.service import projects as svc

PAID_STATES = (AssessmentState.APPROVED, AssessmentState.LOCKED)


@dataclass(frozen=True)
class Row:
    project: Project
    phase: Phase | None
    operator: str
    spend_fen: int
    contracts: int
    contracts_fen: int
    contract_id: int | None  # the only contract, when there is one (its pages are linked directly)
    latest_score: float | None
    latest_period: date | None
    latest_contract_id: int | None
    payable_fen: int

    @property
    def spend_pct(self) -> float | None:
        b = self.project.budget_fen
        return round(100.0 * self.spend_fen / b, 1) if b else None


@dataclass(frozen=True)
class Totals:
    budget_fen: int
    spend_fen: int
    contracts_fen: int
    payable_fen: int


def rows(session: Session, *, limit: int = 500) -> tuple[list[Row], Totals]:
    projects = list(session.scalars(select(Project).order_by(Project.code).limit(limit)))
    ids = [p.id for p in projects]
    spend = svc.spend_totals(session, ids)
    phases = {ph.id: ph for ph in session.scalars(select(Phase))}
    orgs = svc.org_names(session, {p.operator_id for p in projects if p.operator_id})
    by_project: dict[int, list[Contract]] = {}
    for c in session.scalars(select(Contract).where(Contract.project_id.in_(ids)).order_by(Contract.id)):
        by_project.setdefault(c.project_id, []).append(c)
    contract_project = {c.id: pid for pid, cs in by_project.items() for c in cs}
    payable: dict[int, int] = {}
    for cid, total in session.execute(
        select(Assessment.contract_id, func.coalesce(func.sum(Assessment.payable_fen), 0))
        .where(Assessment.contract_id.in_(list(contract_project)), Assessment.state.in_(PAID_STATES))
        .group_by(Assessment.contract_id)
    ):
        pid = contract_project[cid]
        payable[pid] = payable.get(pid, 0) + int(total)
    latest: dict[int, Assessment] = {}
    newest = (
        select(Assessment.contract_id, func.max(Assessment.period_start).label("start"))
        .where(Assessment.contract_id.in_(list(contract_project)))
        .group_by(Assessment.contract_id)
        .subquery()
    )
    for a in session.scalars(
        select(Assessment).join(
            newest, (Assessment.contract_id == newest.c.contract_id) & (Assessment.period_start == newest.c.start)
        )
    ):
        pid = contract_project[a.contract_id]
        if pid not in latest or a.period_start > latest[pid].period_start:
            latest[pid] = a
    out = []
    for p in projects:
        cs = by_project.get(p.id, [])
        la = latest.get(p.id)
        out.append(
            Row(
                project=p,
                phase=phases.get(p.phase_id) if p.phase_id else None,
                operator=orgs.get(p.operator_id, "") if p.operator_id else "",
                spend_fen=spend.get(p.id, 0),
                contracts=len(cs),
                contracts_fen=sum(c.amount_fen for c in cs),
                contract_id=cs[0].id if len(cs) == 1 else None,
                latest_score=la.total_score if la else None,
                latest_period=la.period_start if la else None,
                latest_contract_id=la.contract_id if la else None,
                payable_fen=payable.get(p.id, 0),
            )
        )
    totals = Totals(
        budget_fen=sum(p.budget_fen for p in projects),
        spend_fen=sum(r.spend_fen for r in out),
        contracts_fen=sum(r.contracts_fen for r in out),
        payable_fen=sum(r.payable_fen for r in out),
    )
    return out, totals
