"""The kpis part of the demonstration county: each draft contract of the projects demo gets three to five
KPIs chosen by its project's modules (weights adding up to 100, mixed scoring rules, targets the county's
records partly miss), is put into force, and is assessed for every month of the past year that it ran —
the data's history is thin before the demo's last weeks, so early months lack data or score low, as the
formula's missing rule decides. All but the last two months are approved by the programme office (xmb).
A second run changes nothing."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today, utcnow
from countyos.programme import permissions as P
from countyos.programme.models.kpis import Assessment, AssessmentState, ContractKpi
from countyos.programme.models.projects import Contract, ContractState, Project
from countyos.programme.service import kpis_assess
from countyos.programme.service import kpis_catalogue as catalogue

# KPIs by module, in order of preference: (catalogue code, target, scoring rule)
BY_MODULE: dict[str, list[tuple[str, float, dict[str, Any]]]] = {
    "cases": [
        ("on_time_rate", 95, {"kind": "linear", "zero_at": 70}),
        ("satisfaction", 92, {"kind": "steps", "steps": [[95, 100], [90, 85], [80, 60]]}),
        ("closure_rate", 90, {"kind": "target"}),
    ],
    "sensing": [("devices_online", 98, {"kind": "linear", "zero_at": 85})],
    "data": [("data_fresh", 95, {"kind": "steps", "steps": [[95, 100], [85, 80], [70, 50]]})],
    "services": [
        ("applications_on_time", 99, {"kind": "linear", "zero_at": 90}),
        ("services_good_rate", 98, {"kind": "target"}),
    ],
    "safety": [("hazards_overdue", 0, {"kind": "steps", "steps": [[0, 100], [3, 70], [8, 40]]})],
    "eco": [("air_good_rate", 90, {"kind": "linear", "zero_at": 70})],
}
FALLBACK = ["on_time_rate", "devices_online", "data_fresh", "satisfaction"]
WEIGHTS = {3: [40, 35, 25], 4: [35, 25, 25, 15], 5: [30, 25, 20, 15, 10]}
MONTHS = 12
LEFT_COMPUTED = 2


def _months_back(today: date, n: int) -> date:
    m = today.year * 12 + today.month - 1 - n
    return date(m // 12, m % 12 + 1, 1)


def choose(modules: list[str], seed: int) -> list[tuple[str, float, dict[str, Any]]]:
    """Three to five KPIs for a project's modules (catalogued ones only), then the common ones."""
    out: list[tuple[str, float, dict[str, Any]]] = []
    for m in modules:
        out.extend(k for k in BY_MODULE.get(m, []) if k[0] in catalogue.BY_CODE)
    for code in FALLBACK:
        if len(out) >= 3:
            break
        if code in catalogue.BY_CODE and all(code != k[0] for k in out):
            entry = catalogue.BY_CODE[code]
            out.append((code, entry.target, entry.scoring))
    unique: list[tuple[str, float, dict[str, Any]]] = []
    for k in out:
        if all(k[0] != u[0] for u in unique):
            unique.append(k)
    n = min(5, max(3, 3 + seed % 3), len(unique))
    return unique[:n]


def _activate(session: Session, actor: Actor, c: Contract) -> None:
    try:
        contracts: Any = importlib.import_module("countyos.programme.service.projects_contracts")
        contracts.act(session, actor=actor, contract_id=c.id, action="activate")
    except (ImportError, AttributeError):  # pragma: no cover - without the projects service
        c.state = ContractState.ACTIVE
        session.flush()


def load(session: Session, ctx: Any) -> None:
    office_id = ctx.user_ids.get("xmb")
    office = Actor(id=office_id, name="xmb", permissions=frozenset({P.READ, P.MANAGE, P.ASSESS}))
    rows = session.execute(
        select(Contract, Project).join(Project, Project.id == Contract.project_id).order_by(Contract.id)
    ).all()
    for i, (c, project) in enumerate(rows):
        has = session.scalar(select(ContractKpi.id).where(ContractKpi.contract_id == c.id).limit(1))
        if c.state == ContractState.DRAFT and has is None:
            chosen = choose(list(project.modules or []), i)
            if len(chosen) < 3:
                continue
            for (code, target, rule), weight in zip(chosen, WEIGHTS[len(chosen)], strict=True):
                session.add(ContractKpi(contract_id=c.id, kpi=code, township_code=None, target=target,
                                        weight=weight, scoring=rule))  # fmt: skip
            session.flush()
            _activate(session, office, c)
        if c.state != ContractState.ACTIVE:
            continue
        _assess_year(session, office, c)


def _assess_year(session: Session, office: Actor, c: Contract) -> None:
    today = county_today()
    first = _months_back(today, MONTHS)
    now = utcnow()
    done = set(session.scalars(select(Assessment.period_start).where(Assessment.contract_id == c.id)))
    spans = [s for s, _e in kpis_assess.periods(c, today) if s >= first]
    to_approve = set(spans[:-LEFT_COMPUTED])
    for start in spans:
        if start in done:
            continue
        a = kpis_assess.assess(session, actor=office, contract=c, period_start=start, now=now)
        if start in to_approve and a.state == AssessmentState.COMPUTED:
            kpis_assess.approve(session, actor=office, assessment=a, now=now)
