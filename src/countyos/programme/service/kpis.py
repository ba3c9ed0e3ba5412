"""A contract's KPIs (``models.kpis.ContractKpi``): chosen from the catalogue (``kpis_catalogue``), scoped to a
township or the whole county, with a target, a weight and a scoring rule as data.

They are kept while the contract is a draft and while it is active (audited; a change affects only the
periods not yet approved: approved and locked assessments keep their scores until assessed again with a
reason). An ended contract's KPIs are kept as they were.

Who sees what: the programme office, finance and the leader see every contract; the staff of an
organisation's department (the local operating company) only the contracts whose party is theirs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.geo.models import Division, DivisionLevel
from countyos.org.models import Department, DepartmentKind
from countyos.org.service import audit
from countyos.programme import permissions as P
from countyos.programme.models.kpis import Assessment, AssessmentState, ContractKpi, Score
from countyos.programme.models.projects import Contract, ContractState, Organisation
from countyos.programme.schemas.kpis import KpiIn
from countyos.programme.service import kpis_catalogue as catalogue

EDITABLE = (ContractState.DRAFT, ContractState.ACTIVE)
MAX_KPIS = 20


# --- who sees which contracts ----------------------------------------------------------------------


def party_department(session: Session, actor: Actor) -> int | None:
    """The department whose contracts alone the actor sees (an operating company's or a partner's staff),
    or None when the actor sees every contract."""
    if any(actor.can(p) for p in (P.MANAGE, P.ASSESS, P.FINANCE)) or actor.department_id is None:
        return None
    dep = session.get(Department, actor.department_id)
    party = session.scalar(select(Organisation.id).where(Organisation.department_id == actor.department_id).limit(1))
    if (dep is not None and dep.kind == DepartmentKind.OPERATOR) or party is not None:
        return actor.department_id
    return None


def visible_contracts(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The condition on ``Contract`` of the contracts the actor sees."""
    dep = party_department(session, actor)
    if dep is None:
        return true()
    return Contract.party_id.in_(select(Organisation.id).where(Organisation.department_id == dep))


def contract(session: Session, *, actor: Actor, contract_id: int) -> Contract:
    c = session.scalar(select(Contract).where(Contract.id == contract_id, visible_contracts(session, actor)))
    if c is None:
        raise NotFound(N_("No such contract"))
    return c


# --- the contract's KPIs ---------------------------------------------------------------------------


def of_contract(session: Session, *, contract_id: int) -> list[ContractKpi]:
    stmt = select(ContractKpi).where(ContractKpi.contract_id == contract_id).order_by(ContractKpi.id)
    return list(session.scalars(stmt))


def weight_sum(kpis: list[ContractKpi]) -> float:
    return round(sum(k.weight for k in kpis), 2)


def _editable(c: Contract) -> None:
    if c.state not in EDITABLE:
        raise Conflict(N_("The KPIs of an ended contract cannot be changed"))


def _check(session: Session, data: KpiIn) -> None:
    catalogue.get(data.kpi)
    if data.township_code is not None:
        div = session.scalar(select(Division.id).where(Division.code == data.township_code,
                                                       Division.level == DivisionLevel.TOWNSHIP))  # fmt: skip
        if div is None:
            raise ValidationFailed.on_field("township_code", N_("No such township"))


def _snapshot(k: ContractKpi) -> dict[str, Any]:
    return {"kpi": k.kpi, "township_code": k.township_code, "target": k.target, "weight": k.weight,
            "scoring": k.scoring}  # fmt: skip


def add(session: Session, *, actor: Actor, contract: Contract, data: KpiIn) -> ContractKpi:
    _editable(contract)
    _check(session, data)
    if len(of_contract(session, contract_id=contract.id)) >= MAX_KPIS:
        raise ValidationFailed.on_field("kpi", N_("A contract has at most %(n)s KPIs"), n=MAX_KPIS)
    k = ContractKpi(
        contract_id=contract.id,
        kpi=data.kpi,
        township_code=data.township_code,
        target=data.target,
        weight=data.weight,
        scoring=data.scoring.model_dump(mode="json"),
    )
    session.add(k)
    session.flush()
    audit.record(session, actor=actor, action="programme.kpis.add", target_type="programme_kpi", target_id=k.id,
                 detail={"contract_id": contract.id, "state": str(contract.state), **_snapshot(k)})  # fmt: skip
    return k


def get(session: Session, *, contract: Contract, kpi_id: int) -> ContractKpi:
    k = session.get(ContractKpi, kpi_id)
    if k is None or k.contract_id != contract.id:
        raise NotFound(N_("No such KPI"))
    return k


def update(session: Session, *, actor: Actor, contract: Contract, kpi: ContractKpi, data: KpiIn) -> ContractKpi:
    _editable(contract)
    _check(session, data)
    before = _snapshot(kpi)
    kpi.kpi, kpi.township_code, kpi.target, kpi.weight = data.kpi, data.township_code, data.target, data.weight
    kpi.scoring = data.scoring.model_dump(mode="json")
    session.flush()
    audit.record(session, actor=actor, action="programme.kpis.update", target_type="programme_kpi",
                 target_id=kpi.id, detail={"contract_id": contract.id, "state": str(contract.state),
                                           "before": before, "after": _snapshot(kpi)})  # fmt: skip
    return kpi


def delete(session: Session, *, actor: Actor, contract: Contract, kpi: ContractKpi) -> None:
    """Remove a KPI with its scores in computed assessments; refused once an approved or locked assessment
    scored it (set its weight instead: approved periods keep the scores they were approved with)."""
    _editable(contract)
    kept = session.scalar(
        select(Score.id)
        .join(Assessment, Assessment.id == Score.assessment_id)
        .where(Score.kpi_id == kpi.id, Assessment.state != AssessmentState.COMPUTED)
        .limit(1)
    )
    if kept is not None:
        raise Conflict(N_("This KPI was scored in an approved assessment and cannot be removed"))
    before = _snapshot(kpi)
    session.delete(kpi)
    session.flush()
    detail = {"contract_id": contract.id, "state": str(contract.state), **before}
    audit.record(session, actor=actor, action="programme.kpis.delete", target_type="programme_kpi",
                 target_id=kpi.id, detail=detail)  # fmt: skip


def townships(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the county's townships, for choosing a KPI's scope."""
    stmt = select(Division.code, Division.name).where(Division.level == DivisionLevel.TOWNSHIP).order_by(Division.code)
    return [(code, name) for code, name in session.execute(stmt)]
