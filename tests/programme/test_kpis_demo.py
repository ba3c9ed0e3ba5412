"""The kpis demo: a draft contract gets three to five KPIs whose weights add up to 100, is put into force and
assessed for each month of the past year, all but the last two approved; a second run changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from countyos.core.clock import county_today
from countyos.core.demo import DemoContext
from countyos.programme import demo_kpis
from countyos.programme.models.kpis import Assessment, AssessmentState, ContractKpi
from countyos.programme.models.projects import Contract, ContractState, Organisation, OrgKind, Project, ProjectKind
from tests.factories import person


def test_demo_loads_and_is_idempotent(db) -> None:
    today = county_today()
    office = person(db, ["programme_office"], username="xmb_t")
    with db.unit_of_work() as s:
        org = Organisation(name="演示运营公司", kind=OrgKind.OPERATOR)
        s.add(org)
        s.flush()
        proj = Project(code="DEMO-K", name="演示项目", kind=ProjectKind.OPERATION, funding_model="gov_purchase",
                       modules=["cases", "sensing", "data"])  # fmt: skip
        s.add(proj)
        s.flush()
        c = Contract(project_id=proj.id, code="DEMO-K-1", title="演示合同", party_id=org.id,
                     starts_on=today - timedelta(days=600), ends_on=today + timedelta(days=300),
                     amount_fen=36_000_000)  # fmt: skip
        s.add(c)
        s.flush()
        cid = c.id
    ctx = DemoContext()
    ctx.user_ids["xmb"] = office.id
    for _ in range(2):
        with db.unit_of_work() as s:
            demo_kpis.load(s, ctx)
    with db.reading() as s:
        assert s.get_one(Contract, cid).state == ContractState.ACTIVE
        kpis = list(s.scalars(select(ContractKpi).where(ContractKpi.contract_id == cid)))
        assert 3 <= len(kpis) <= 5 and sum(k.weight for k in kpis) == 100
        assert len({k.scoring["kind"] for k in kpis}) >= 2
        states = [a.state for a in s.scalars(select(Assessment).where(Assessment.contract_id == cid)
                                             .order_by(Assessment.period_start))]  # fmt: skip
        assert len(states) == 12
        assert states[:-2] == [AssessmentState.APPROVED] * 10 and states[-2:] == [AssessmentState.COMPUTED] * 2
        first = s.scalar(select(func.min(Assessment.period_start)).where(Assessment.contract_id == cid))
        m = today.year * 12 + today.month - 1 - 12
        assert first == date(m // 12, m % 12 + 1, 1)
