"""Scheduled work of the kpis part: ``programme.assess`` every hour assesses each active contract's ended
periods — creates the assessment when it is missing and recomputes it while it is still computed; approved
and locked ones are left alone. Idempotent (one assessment per contract and period)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.ioc.service.scope import today
from countyos.programme.models.kpis import Assessment, AssessmentState
from countyos.programme.models.projects import Contract, ContractState
from countyos.programme.service import kpis_assess

MAX_PER_RUN = 500  # assessments written by one run; the next run goes on


def assess_due(session: Session, *, now: datetime | None = None) -> int:
    """Create or recompute the due assessments of active contracts; how many were written."""
    now = now or utcnow()
    done = 0
    contracts = list(
        session.scalars(select(Contract).where(Contract.state == ContractState.ACTIVE).order_by(Contract.id))
    )
    for c in contracts:
        stmt = select(Assessment.period_start, Assessment.state).where(Assessment.contract_id == c.id)
        states = {start: state for start, state in session.execute(stmt)}
        for start, _end in kpis_assess.periods(c, today(now)):
            if states.get(start, AssessmentState.COMPUTED) != AssessmentState.COMPUTED:
                continue
            kpis_assess.assess(session, actor=kpis_assess.ASSESSOR, contract=c, period_start=start, now=now)
            done += 1
            if done >= MAX_PER_RUN:
                return done
    return done


def run(db: Database) -> None:
    with db.unit_of_work() as session:
        assess_due(session)


JOBS: list[Job] = [Job("programme.assess", 3600, run)]
