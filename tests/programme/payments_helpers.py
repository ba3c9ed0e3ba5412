"""Fixtures of the payment tests: a contract of the operating company with a KPI and three monthly
assessments (computed, approved, locked), the finance officer and the programme office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.org.models import AuditEvent
from countyos.programme import permissions as P
from countyos.programme.models.kpis import Amendment, Assessment, AssessmentState, ContractKpi, Score
from countyos.programme.models.projects import (
    AssessmentPeriod,
    Contract,
    ContractState,
    Organisation,
    OrgKind,
    Project,
    ProjectKind,
)
from tests import factories

FORMULA = {
    "base": "even",
    "full_at": 90,
    "per_point_pct": 1,
    "max_deduction_pct": 30,
    "zero_below": 60,
    "bonus": [{"at_least": 95, "pct": 2}],
    "max_bonus_pct": 2,
}
AMOUNT = 1_200_000_00  # 1,200,000.00 yuan over twelve months


@dataclass
class World:
    contract_id: int
    computed: int
    approved: int
    locked: int
    finance: factories.Person
    office: factories.Person

    def finance_actor(self) -> Actor:
        return Actor(id=self.finance.id, name="finance", permissions=frozenset({P.READ, P.FINANCE}))

    def office_actor(self) -> Actor:
        return Actor(id=self.office.id, name="office", permissions=frozenset({P.READ, P.MANAGE, P.ASSESS}))


def _assessment(contract: Contract, month: int, state: AssessmentState, total: float, who: int) -> Assessment:
    base = AMOUNT // 12
    deduction = base * max(0, 90 - int(total)) // 100
    at = datetime(2026, month + 1, 5, 2, 0, tzinfo=UTC)
    return Assessment(
        contract_id=contract.id,
        period_start=date(2026, month, 1),
        period_end=date(2026, month + 1, 1),
        state=state,
        total_score=total,
        base_fen=base,
        deduction_fen=deduction,
        bonus_fen=0,
        payable_fen=base - deduction,
        breakdown={
            "rule": "deduct",
            "total": total,
            "full_at": 90,
            "points_below": 90 - total,
            "deduction_pct": 90 - total,
        },
        approved_by_id=who if state != AssessmentState.COMPUTED else None,
        approved_at=at if state != AssessmentState.COMPUTED else None,
        locked_by_id=who if state == AssessmentState.LOCKED else None,
        locked_at=at if state == AssessmentState.LOCKED else None,
    )


@pytest.fixture
def pay_world(db) -> World:
    office = factories.person(db, ["programme_office"])
    finance = factories.person(db, ["finance_officer"])
    with db.unit_of_work() as s:
        org = Organisation(name="测试城市运营有限公司", kind=OrgKind.OPERATOR)
        s.add(org)
        s.flush()
        project = Project(code="T-OPS-1", name="城市运营服务", kind=ProjectKind.OPERATION, funding_model="gov_purchase")
        s.add(project)
        s.flush()
        c = Contract(
            project_id=project.id,
            code="HT-T-001",
            title="城市运营服务合同",
            party_id=org.id,
            state=ContractState.ACTIVE,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            amount_fen=AMOUNT,
            period=AssessmentPeriod.MONTH,
            formula=FORMULA,
        )
        s.add(c)
        s.flush()
        kpi = ContractKpi(contract_id=c.id, kpi="on_time_rate", target=90, weight=100, scoring={"kind": "linear"})
        s.add(kpi)
        rows = [
            _assessment(c, 1, AssessmentState.LOCKED, 88.0, office.id),
            _assessment(c, 2, AssessmentState.APPROVED, 85.0, office.id),
            _assessment(c, 3, AssessmentState.COMPUTED, 92.0, office.id),
        ]
        s.add_all(rows)
        s.flush()
        for a in rows:
            s.add(
                Score(
                    assessment_id=a.id, kpi_id=kpi.id, value=a.total_score, score=a.total_score, target=90, weight=100
                )
            )
        return World(c.id, rows[2].id, rows[1].id, rows[0].id, finance, office)


def counts(db, assessment_id: int) -> tuple[int, int]:
    """(amendments of the assessment, audit records of payment changes)."""
    with db.reading() as s:
        amendments = s.scalar(
            select(func.count()).select_from(Amendment).where(Amendment.assessment_id == assessment_id)
        )
        audits = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "programme.payments.amend")
        )
        return int(amendments or 0), int(audits or 0)


def payable(db, assessment_id: int) -> tuple[int, AssessmentState]:
    with db.reading() as s:
        a = s.get(Assessment, assessment_id)
        assert a is not None
        return a.payable_fen, a.state
