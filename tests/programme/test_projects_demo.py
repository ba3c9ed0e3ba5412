"""The projects demo loads on the small world: eight organisations, five projects with different models on
the three phases, a year of monthly spend each, one draft monthly contract per project with a schedule
within its amount and a formula that validates; the front page shows them."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.programme import demo_projects
from countyos.programme.models.modules import Phase
from countyos.programme.models.projects import Contract, ContractState, Instalment, Organisation, Project, Spend
from countyos.programme.schemas.payments import Formula
from countyos.programme.service import projects_models
from tests.programme.projects_helpers import office_login


def test_the_demo_projects_and_contracts(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        for n in (1, 2, 3):
            s.add(Phase(number=n, name=f"{n}期"))
        s.flush()
        demo_projects.load(s, DemoContext())
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 8
        projects = list(s.scalars(select(Project)))
        assert len(projects) == 5 and len({p.funding_model for p in projects}) == 5
        assert all(projects_models.get(p.funding_model) for p in projects)
        numbers = {s.get(Phase, p.phase_id).number for p in projects if p.phase_id}  # type: ignore[union-attr]
        assert numbers == {1, 2, 3}
        for p in projects:
            months = s.scalar(select(func.count()).select_from(Spend).where(Spend.project_id == p.id))
            spent = s.scalar(select(func.sum(Spend.amount_fen)).where(Spend.project_id == p.id))
            assert months == 12 and 0 < spent < p.budget_fen
        cs = list(s.scalars(select(Contract)))
        assert len(cs) == 5 and all(c.state == ContractState.DRAFT for c in cs)
        assert all(c.starts_on <= date(2025, 12, 1) and c.ends_on.year == 2027 for c in cs)
        formulas = [Formula.model_validate(c.formula) for c in cs]
        assert {f.base for f in formulas} == {"even", "instalment"} and any(f.bonus for f in formulas)
        for c in cs:
            scheduled = s.scalar(select(func.sum(Instalment.amount_fen)).where(Instalment.contract_id == c.id))
            assert scheduled == c.amount_fen
    office_login(client, db)
    page = client.get("/programme")
    assert page.status_code == 200 and "物联感知网络" in page.text and "特许经营" in page.text
