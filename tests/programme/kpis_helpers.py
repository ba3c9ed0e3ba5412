"""Fixtures of the kpis tests: an operating company (an organisation with its department), a project and an
active monthly contract of it, people of the programme roles, and records of the data catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.data.codes import OpenType, ShareType, UpdateCycle
from countyos.data.lifecycle import State as DataState
from countyos.data.models import Load, LoadState, Resource
from countyos.org.models import DepartmentKind
from countyos.programme import permissions as P
from countyos.programme.models.kpis import ContractKpi
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

OFFICE = Actor(id=None, name="office", permissions=frozenset({P.READ, P.MANAGE, P.ASSESS}))
FINANCE = Actor(id=None, name="finance", permissions=frozenset({P.READ, P.FINANCE}))


DEFAULT_FORMULA = {"full_at": 90, "per_point_pct": 1, "zero_below": 60}


@dataclass
class Programme:
    operator_dept: int
    org_id: int
    project_id: int
    contract_id: int
    other_contract_id: int


def programme(
    db: Database,
    *,
    starts_on: date = date(2026, 2, 10),
    ends_on: date = date(2026, 12, 31),
    period: AssessmentPeriod = AssessmentPeriod.MONTH,
    formula: dict[str, Any] | None = None,
) -> Programme:
    dept = factories.department(db, "测试城市运营有限公司", kind=DepartmentKind.OPERATOR)
    with db.unit_of_work() as s:
        org = Organisation(name="测试城市运营有限公司", kind=OrgKind.OPERATOR, department_id=dept)
        other = Organisation(name="测试建设公司", kind=OrgKind.VENDOR)
        s.add_all([org, other])
        s.flush()
        proj = Project(code="KPI-T-1", name="测试运营项目", kind=ProjectKind.OPERATION, funding_model="gov_purchase")
        s.add(proj)
        s.flush()
        c = Contract(project_id=proj.id, code="KPI-T-C1", title="测试运营服务合同", party_id=org.id,
                     state=ContractState.ACTIVE, starts_on=starts_on, ends_on=ends_on, amount_fen=12_000_000,
                     period=period, formula=formula or DEFAULT_FORMULA)  # fmt: skip
        c2 = Contract(project_id=proj.id, code="KPI-T-C2", title="测试建设合同", party_id=other.id,
                      state=ContractState.ACTIVE, starts_on=starts_on, ends_on=ends_on, amount_fen=1_000_000,
                      period=AssessmentPeriod.QUARTER)  # fmt: skip
        s.add_all([c, c2])
        s.flush()
        return Programme(dept, org.id, proj.id, c.id, c2.id)


def add_kpi(db: Database, contract_id: int, kpi: str, *, target: float, weight: float,
            township_code: str | None = None, scoring: dict[str, Any] | None = None) -> int:  # fmt: skip
    with db.unit_of_work() as s:
        k = ContractKpi(contract_id=contract_id, kpi=kpi, township_code=township_code, target=target, weight=weight,
                        scoring=scoring or {"kind": "linear"})  # fmt: skip
        s.add(k)
        s.flush()
        return k.id


def data_resources(db: Database, provider_id: int, *, now: datetime | None = None) -> None:
    """Five published resources — fresh daily and monthly ones, a stale daily one, one never loaded, an
    irregular one — and one draft."""
    now = now or datetime.now(UTC)
    plan = [
        ("fresh-daily", UpdateCycle.DAILY, 1, DataState.PUBLISHED),
        ("fresh-monthly", UpdateCycle.MONTHLY, 20, DataState.PUBLISHED),
        ("stale-daily", UpdateCycle.DAILY, 5, DataState.PUBLISHED),
        ("never", UpdateCycle.WEEKLY, None, DataState.PUBLISHED),
        ("irregular", UpdateCycle.IRREGULAR, None, DataState.PUBLISHED),
        ("draft", UpdateCycle.DAILY, 1, DataState.DRAFT),
    ]
    with db.unit_of_work() as s:
        for n, (name, cycle, age, state) in enumerate(plan):
            r = Resource(name=f"kpi-{name}", code=f"331123-KPI-{n:04d}", title=f"测试资源{n}", provider_id=provider_id,
                         share_type=ShareType.UNCONDITIONAL, open_type=OpenType.UNCONDITIONAL, update_cycle=cycle,
                         state=state)  # fmt: skip
            s.add(r)
            s.flush()
            if age is not None:
                load = Load(resource_id=r.id, number=1, state=LoadState.LOADED, source="t.csv",
                            started_at=now - timedelta(days=age), finished_at=now - timedelta(days=age))  # fmt: skip
                s.add(load)
                s.flush()
                r.current_load_id = load.id
