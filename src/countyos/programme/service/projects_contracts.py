"""Contracts of projects and their payment schedules.

A contract binds a project to a party (an organisation) for a period and an amount; it is assessed every
month or quarter and paid by its formula (``schemas.payments.Formula``: the defaults unless the contract
says otherwise). Its lifecycle is ONE transition table (:data:`TRANSITIONS`): draft → active → ended. A
contract is activated only when it has KPIs whose weights add up to 100 (``ContractKpi``). Its schedule
(instalments: due date, amount, label) never adds up to more than the contract's amount, and every
instalment falls due within the contract's period.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme.models.kpis import ContractKpi
from countyos.programme.models.projects import (
    AssessmentPeriod,
    Contract,
    ContractState,
    Instalment,
    Organisation,
    Project,
    ProjectState,
)
from countyos.programme.schemas.payments import Formula
from countyos.programme.schemas.projects import ContractIn, InstalmentIn
from countyos.programme.service.projects import get_project

MAX_LIST = 500
MAX_INSTALMENTS = 240
WEIGHT_TOLERANCE = 0.01

CONTRACT_STATE_NAMES = {
    ContractState.DRAFT: N_("Contract draft"),
    ContractState.ACTIVE: N_("Contract in force"),
    ContractState.ENDED: N_("Contract ended"),
}
CONTRACT_ACTION_NAMES = {
    "activate": N_("Put the contract into force"),
    "end": N_("End the contract"),
}
PERIOD_NAMES = {
    AssessmentPeriod.MONTH: N_("Assessed monthly"),
    AssessmentPeriod.QUARTER: N_("Assessed quarterly"),
}
TRANSITIONS: dict[tuple[ContractState, str], ContractState] = {
    (ContractState.DRAFT, "activate"): ContractState.ACTIVE,
    (ContractState.ACTIVE, "end"): ContractState.ENDED,
}


def default_formula() -> dict[str, object]:
    return Formula().model_dump()


def get(session: Session, *, contract_id: int) -> Contract:
    c = session.get(Contract, contract_id)
    if c is None:
        raise NotFound(N_("No contract %(id)s"), id=contract_id)
    return c


def _stmt(project_id: int | None, party_id: int | None, state: ContractState | None) -> Select[Contract]:
    stmt = select(Contract)
    if project_id is not None:
        stmt = stmt.where(Contract.project_id == project_id)
    if party_id is not None:
        stmt = stmt.where(Contract.party_id == party_id)
    if state is not None:
        stmt = stmt.where(Contract.state == state)
    return stmt


def list_contracts(
    session: Session,
    *,
    project_id: int | None = None,
    party_id: int | None = None,
    state: ContractState | None = None,
    limit: int = MAX_LIST,
    offset: int = 0,
) -> tuple[list[Contract], int]:
    stmt = _stmt(project_id, party_id, state)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(stmt.order_by(Contract.starts_on.desc(), Contract.code).limit(limit).offset(offset))
    return list(rows), total


def scheduled_totals(session: Session, contract_ids: list[int]) -> dict[int, int]:
    if not contract_ids:
        return {}
    stmt = (
        select(Instalment.contract_id, func.coalesce(func.sum(Instalment.amount_fen), 0))
        .where(Instalment.contract_id.in_(contract_ids))
        .group_by(Instalment.contract_id)
    )
    return {cid: int(total) for cid, total in session.execute(stmt)}


def _checks(session: Session, data: ContractIn, *, other_than: int | None = None) -> None:
    same = select(Contract.id).where(Contract.code == data.code)
    if other_than is not None:
        same = same.where(Contract.id != other_than)
    if session.scalar(same) is not None:
        raise ValidationFailed.on_field("code", N_("Another contract has this code"))
    project = session.get(Project, data.project_id)
    if project is None:
        raise ValidationFailed.on_field("project_id", N_("Not one of the choices"))
    if project.state == ProjectState.CLOSED and other_than is None:
        raise ValidationFailed.on_field("project_id", N_("A closed project cannot take new contracts"))
    if session.get(Organisation, data.party_id) is None:
        raise ValidationFailed.on_field("party_id", N_("Not one of the choices"))
    if data.ends_on <= data.starts_on:
        raise ValidationFailed.on_field("ends_on", N_("The end date must be after the start date"))
    if other_than is not None:
        scheduled = scheduled_totals(session, [other_than]).get(other_than, 0)
        if scheduled > data.amount_fen:
            raise ValidationFailed.on_field(
                "amount_fen", N_("The payment schedule already adds up to more than this amount")
            )
        outside = session.scalar(
            select(func.count()).where(
                Instalment.contract_id == other_than,
                (Instalment.due_on < data.starts_on) | (Instalment.due_on > data.ends_on),
            )
        )
        if outside:
            raise ValidationFailed.on_field("ends_on", N_("Instalments of the schedule fall outside these dates"))


def _apply(c: Contract, data: ContractIn) -> None:
    c.code, c.title, c.project_id, c.party_id = data.code, data.title, data.project_id, data.party_id
    c.starts_on, c.ends_on, c.amount_fen, c.period = data.starts_on, data.ends_on, data.amount_fen, data.period
    c.formula = data.formula.model_dump()


def create(session: Session, *, actor: Actor, data: ContractIn) -> Contract:
    _checks(session, data)
    c = Contract(state=ContractState.DRAFT)
    _apply(c, data)
    session.add(c)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.contract.create", target_type="programme_contract",
        target_id=c.id, detail={"code": c.code, "project_id": c.project_id, "party_id": c.party_id,
                                "amount_fen": c.amount_fen, "formula": c.formula},
    )  # fmt: skip
    return c


def update(session: Session, *, actor: Actor, contract_id: int, data: ContractIn) -> Contract:
    c = get(session, contract_id=contract_id)
    if c.state == ContractState.ENDED:
        raise Conflict(N_("An ended contract cannot be changed"))
    if c.state == ContractState.ACTIVE and data.project_id != c.project_id:
        raise ValidationFailed.on_field("project_id", N_("A contract in force stays with its project"))
    _checks(session, data, other_than=contract_id)
    before = {"amount_fen": c.amount_fen, "formula": c.formula, "ends_on": c.ends_on.isoformat()}
    _apply(c, data)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.contract.update", target_type="programme_contract",
        target_id=c.id, detail={"code": c.code, "before": before,
                                "after": {"amount_fen": c.amount_fen, "formula": c.formula,
                                          "ends_on": c.ends_on.isoformat()}},
    )  # fmt: skip
    return c


def delete(session: Session, *, actor: Actor, contract_id: int) -> int:
    """Delete a draft contract (with its schedule); returns its project's id."""
    c = get(session, contract_id=contract_id)
    if c.state != ContractState.DRAFT:
        raise Conflict(N_("Only a draft contract can be deleted"))
    project_id, code = c.project_id, c.code
    session.delete(c)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.contract.delete", target_type="programme_contract",
        target_id=contract_id, detail={"code": code, "project_id": project_id},
    )  # fmt: skip
    return project_id


def kpi_weights(session: Session, *, contract_id: int) -> tuple[int, float]:
    """(number of KPIs, sum of their weights) of a contract."""
    row = session.execute(
        select(func.count(ContractKpi.id), func.coalesce(func.sum(ContractKpi.weight), 0.0)).where(
            ContractKpi.contract_id == contract_id
        )
    ).one()
    return int(row[0]), float(row[1])


def allowed_actions(state: ContractState) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == state]


def act(session: Session, *, actor: Actor, contract_id: int, action: str) -> Contract:
    """Move a contract along :data:`TRANSITIONS`. Activation needs KPIs whose weights add up to 100."""
    c = get(session, contract_id=contract_id)
    new = TRANSITIONS.get((c.state, action))
    if new is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not possible while the contract is %(state)s."),
            allowed=allowed_actions(c.state),
            current_state=c.state.value,
            action=CONTRACT_ACTION_NAMES.get(action, N_("This action")),
            state=CONTRACT_STATE_NAMES[c.state],
        )
    if action == "activate":
        n, total = kpi_weights(session, contract_id=c.id)
        if n == 0:
            raise Conflict(N_("Add the contract's KPIs before putting it into force"))
        if abs(total - 100.0) > WEIGHT_TOLERANCE:
            raise Conflict(N_("The weights of the contract's KPIs add up to %(total)s, not 100"), total=f"{total:g}")
    was = c.state
    c.state = new
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.contract.transition", target_type="programme_contract",
        target_id=c.id, detail={"action": action, "from": was.value, "to": new.value},
    )  # fmt: skip
    return c


# --- the payment schedule -------------------------------------------------------------------------


def instalments(session: Session, *, contract_id: int) -> list[Instalment]:
    stmt = select(Instalment).where(Instalment.contract_id == contract_id).order_by(Instalment.due_on, Instalment.id)
    return list(session.scalars(stmt.limit(MAX_INSTALMENTS)))


def add_instalment(session: Session, *, actor: Actor, contract_id: int, data: InstalmentIn) -> Instalment:
    c = get(session, contract_id=contract_id)
    if c.state == ContractState.ENDED:
        raise Conflict(N_("An ended contract cannot be changed"))
    if not (c.starts_on <= data.due_on <= c.ends_on):
        raise ValidationFailed.on_field("due_on", N_("The instalment must fall due within the contract's dates"))
    n, scheduled = session.execute(
        select(func.count(Instalment.id), func.coalesce(func.sum(Instalment.amount_fen), 0)).where(
            Instalment.contract_id == c.id
        )
    ).one()
    if int(n) >= MAX_INSTALMENTS:
        raise ValidationFailed.on_field("due_on", N_("The schedule has as many instalments as it may"))
    if int(scheduled) + data.amount_fen > c.amount_fen:
        raise ValidationFailed.on_field(
            "amount_fen", N_("The schedule would add up to more than the contract's amount")
        )
    row = Instalment(contract_id=c.id, due_on=data.due_on, amount_fen=data.amount_fen, label=data.label)
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.instalment.add", target_type="programme_contract",
        target_id=c.id, detail={"instalment_id": row.id, "due_on": row.due_on.isoformat(),
                                "amount_fen": row.amount_fen},
    )  # fmt: skip
    return row


def delete_instalment(session: Session, *, actor: Actor, contract_id: int, instalment_id: int) -> None:
    c = get(session, contract_id=contract_id)
    row = session.get(Instalment, instalment_id)
    if row is None or row.contract_id != c.id:
        raise NotFound(N_("No instalment %(id)s"), id=instalment_id)
    if c.state == ContractState.ENDED:
        raise Conflict(N_("An ended contract cannot be changed"))
    detail = {"instalment_id": row.id, "due_on": row.due_on.isoformat(), "amount_fen": row.amount_fen}
    session.delete(row)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.instalment.delete", target_type="programme_contract",
        target_id=c.id, detail=detail,
    )  # fmt: skip


def project_of(session: Session, c: Contract) -> Project:
    return get_project(session, project_id=c.project_id)


def even_schedule(starts_on: date, ends_on: date, amount_fen: int, *, every_months: int = 3) -> list[tuple[date, int]]:
    """An even schedule of instalments every ``every_months`` months from the start (the last takes the rest)."""
    dues: list[date] = []
    y, m = starts_on.year, starts_on.month
    while True:
        m += every_months
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        d = date(y, m, 1)
        if d > ends_on:
            break
        dues.append(d)
    if not dues:
        return [(ends_on, amount_fen)]
    each = amount_fen // len(dues)
    out = [(d, each) for d in dues]
    out[-1] = (dues[-1], amount_fen - each * (len(dues) - 1))
    return out
