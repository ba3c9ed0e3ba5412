"""API of the projects part under /api/v1/programme: organisations, projects with their spend, contracts
with their payment schedules, and the funding and operating models. ``programme.read`` reads,
``programme.manage`` writes; money is in fen. Errors are problem+json; a refused state change lists the
actions the record's state allows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from countyos.programme.models.projects import (
    Contract,
    ContractState,
    Instalment,
    Organisation,
    OrgKind,
    Project,
    ProjectState,
    Spend,
)
from countyos.programme.permissions import MANAGE, READ
from countyos.programme.schemas.projects import (
    ActionIn,
    ContractIn,
    ContractOut,
    FundingModelOut,
    InstalmentIn,
    InstalmentOut,
    OrgIn,
    OrgOut,
    ProjectIn,
    ProjectOut,
    SpendIn,
    SpendOut,
)
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from countyos.programme.service import projects_models
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(READ))]
Keeper = Annotated[Auth, Depends(require(MANAGE))]
Limit = Annotated[int, Query(ge=1, le=svc.MAX_LIST)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Search = Annotated[str, Query(max_length=60)]


def org_out(o: Organisation) -> OrgOut:
    return OrgOut(
        id=o.id, name=o.name, kind=o.kind, uscc=o.uscc, contact_name=o.contact_name,
        contact_phone_masked=svc.masked_phone(o), address=o.address, description=o.description,
        department_id=o.department_id, url=f"/programme/orgs/{o.id}",
    )  # fmt: skip


def project_out(p: Project, spend_fen: int) -> ProjectOut:
    return ProjectOut(
        id=p.id, code=p.code, name=p.name, kind=p.kind, state=p.state, phase_id=p.phase_id,
        modules=list(p.modules or []), device_classes=list(p.device_classes or []),
        data_resources=list(p.data_resources or []), budget_fen=p.budget_fen, spend_fen=spend_fen,
        funding_model=p.funding_model, funding_model_name=projects_models.label(p.funding_model),
        department_id=p.department_id, operator_id=p.operator_id, starts_on=p.starts_on, ends_on=p.ends_on,
        description=p.description, allowed_actions=svc.allowed_actions(p.state), url=f"/programme/projects/{p.id}",
    )  # fmt: skip


def _project(session: Session, p: Project) -> ProjectOut:
    return project_out(p, svc.spend_totals(session, [p.id]).get(p.id, 0))


def spend_out(s: Spend) -> SpendOut:
    return SpendOut(id=s.id, project_id=s.project_id, contract_id=s.contract_id, spent_on=s.spent_on,
                    amount_fen=s.amount_fen, note=s.note, created_at=s.created_at)  # fmt: skip


def contract_out(c: Contract, scheduled_fen: int) -> ContractOut:
    return ContractOut(
        id=c.id, code=c.code, title=c.title, project_id=c.project_id, party_id=c.party_id, state=c.state,
        starts_on=c.starts_on, ends_on=c.ends_on, amount_fen=c.amount_fen, scheduled_fen=scheduled_fen,
        period=c.period, formula=dict(c.formula or {}), allowed_actions=contracts.allowed_actions(c.state),
        url=f"/programme/contracts/{c.id}",
    )  # fmt: skip


def _contract(session: Session, c: Contract) -> ContractOut:
    return contract_out(c, contracts.scheduled_totals(session, [c.id]).get(c.id, 0))


def instalment_out(i: Instalment) -> InstalmentOut:
    return InstalmentOut(id=i.id, contract_id=i.contract_id, due_on=i.due_on, amount_fen=i.amount_fen, label=i.label)


# --- funding models -------------------------------------------------------------------------------


@router.get("/funding-models")
def funding_models(a: Reader) -> list[FundingModelOut]:
    """The funding and operating models a project may follow (``data/projects_funding_models.json``), named
    in the caller's language."""
    cat = projects_models.catalogue()
    return [
        FundingModelOut(
            code=m.code,
            group=m.group,
            group_name=cat.groups[m.group].name(),
            name=m.name(),
            description=m.description(),
        )
        for m in cat.models.values()
    ]


# --- organisations --------------------------------------------------------------------------------


@router.get("/orgs")
def list_orgs(
    session: ReadSession, a: Reader, kind: OrgKind | None = None, q: Search = "", limit: Limit = 100,
    offset: Offset = 0,
) -> list[OrgOut]:  # fmt: skip
    """Organisations by kind and name; the contact's phone masked."""
    rows, _ = svc.list_orgs(session, kind=kind, q=q, limit=limit, offset=offset)
    return [org_out(o) for o in rows]


@router.get("/orgs/{org_id}")
def get_org(org_id: int, session: ReadSession, a: Reader) -> OrgOut:
    return org_out(svc.get_org(session, org_id=org_id))


@router.get("/orgs/{org_id}/phone")
def reveal_org_phone(org_id: int, session: WriteSession, a: Keeper) -> dict[str, str]:
    """The contact's unmasked phone; every call is recorded in the audit log."""
    return {"phone": svc.reveal_phone(session, actor=a.actor, org_id=org_id)}


@router.post("/orgs", status_code=201)
def create_org(body: OrgIn, session: WriteSession, a: Keeper) -> OrgOut:
    return org_out(svc.create_org(session, actor=a.actor, data=body))


@router.put("/orgs/{org_id}")
def update_org(org_id: int, body: OrgIn, session: WriteSession, a: Keeper) -> OrgOut:
    """Replace an organisation's fields (the phone as given: empty clears it)."""
    return org_out(svc.update_org(session, actor=a.actor, org_id=org_id, data=body, keep_phone=False))


@router.delete("/orgs/{org_id}", status_code=204)
def delete_org(org_id: int, session: WriteSession, a: Keeper) -> None:
    svc.delete_org(session, actor=a.actor, org_id=org_id)


# --- projects -------------------------------------------------------------------------------------


@router.get("/projects")
def list_projects(
    session: ReadSession,
    a: Reader,
    state: ProjectState | None = None,
    phase_id: Annotated[int | None, Query(ge=1)] = None,
    funding_model: Annotated[str | None, Query(max_length=40)] = None,
    operator_id: Annotated[int | None, Query(ge=1)] = None,
    q: Search = "",
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ProjectOut]:
    f = svc.ProjectFilter(state=state, phase_id=phase_id, funding_model=funding_model or None,
                          operator_id=operator_id, q=q)  # fmt: skip
    rows, _ = svc.list_projects(session, filters=f, limit=limit, offset=offset)
    spend = svc.spend_totals(session, [p.id for p in rows])
    return [project_out(p, spend.get(p.id, 0)) for p in rows]


@router.get("/projects/{project_id}")
def get_project(project_id: int, session: ReadSession, a: Reader) -> ProjectOut:
    return _project(session, svc.get_project(session, project_id=project_id))


@router.post("/projects", status_code=201)
def create_project(body: ProjectIn, session: WriteSession, a: Keeper) -> ProjectOut:
    return _project(session, svc.create_project(session, actor=a.actor, data=body))


@router.put("/projects/{project_id}")
def update_project(project_id: int, body: ProjectIn, session: WriteSession, a: Keeper) -> ProjectOut:
    return _project(session, svc.update_project(session, actor=a.actor, project_id=project_id, data=body))


@router.post("/projects/{project_id}/actions")
def project_action(project_id: int, body: ActionIn, session: WriteSession, a: Keeper) -> ProjectOut:
    """``build``, ``operate`` or ``close``; a refusal lists ``allowed_actions``."""
    return _project(session, svc.act(session, actor=a.actor, project_id=project_id, action=body.action))


@router.get("/projects/{project_id}/spend")
def list_spend(project_id: int, session: ReadSession, a: Reader, limit: Limit = 500) -> list[SpendOut]:
    svc.get_project(session, project_id=project_id)
    return [spend_out(s) for s in svc.list_spend(session, project_id=project_id, limit=limit)]


@router.post("/projects/{project_id}/spend", status_code=201)
def add_spend(project_id: int, body: SpendIn, session: WriteSession, a: Keeper) -> SpendOut:
    return spend_out(svc.add_spend(session, actor=a.actor, project_id=project_id, data=body))


@router.delete("/projects/{project_id}/spend/{spend_id}", status_code=204)
def delete_spend(project_id: int, spend_id: int, session: WriteSession, a: Keeper) -> None:
    svc.delete_spend(session, actor=a.actor, project_id=project_id, spend_id=spend_id)


# --- contracts ------------------------------------------------------------------------------------


@router.get("/contracts")
def list_contracts(
    session: ReadSession,
    a: Reader,
    project_id: Annotated[int | None, Query(ge=1)] = None,
    party_id: Annotated[int | None, Query(ge=1)] = None,
    state: ContractState | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ContractOut]:
    rows, _ = contracts.list_contracts(session, project_id=project_id, party_id=party_id, state=state,
                                       limit=limit, offset=offset)  # fmt: skip
    scheduled = contracts.scheduled_totals(session, [c.id for c in rows])
    return [contract_out(c, scheduled.get(c.id, 0)) for c in rows]


@router.get("/contracts/{contract_id}")
def get_contract(contract_id: int, session: ReadSession, a: Reader) -> ContractOut:
    return _contract(session, contracts.get(session, contract_id=contract_id))


@router.post("/contracts", status_code=201)
def create_contract(body: ContractIn, session: WriteSession, a: Keeper) -> ContractOut:
    return _contract(session, contracts.create(session, actor=a.actor, data=body))


@router.put("/contracts/{contract_id}")
def update_contract(contract_id: int, body: ContractIn, session: WriteSession, a: Keeper) -> ContractOut:
    return _contract(session, contracts.update(session, actor=a.actor, contract_id=contract_id, data=body))


@router.delete("/contracts/{contract_id}", status_code=204)
def delete_contract(contract_id: int, session: WriteSession, a: Keeper) -> None:
    contracts.delete(session, actor=a.actor, contract_id=contract_id)


@router.post("/contracts/{contract_id}/actions")
def contract_action(contract_id: int, body: ActionIn, session: WriteSession, a: Keeper) -> ContractOut:
    """``activate`` (needs KPIs whose weights add up to 100) or ``end``; a refusal lists ``allowed_actions``."""
    return _contract(session, contracts.act(session, actor=a.actor, contract_id=contract_id, action=body.action))


@router.get("/contracts/{contract_id}/instalments")
def list_instalments(contract_id: int, session: ReadSession, a: Reader) -> list[InstalmentOut]:
    contracts.get(session, contract_id=contract_id)
    return [instalment_out(i) for i in contracts.instalments(session, contract_id=contract_id)]


@router.post("/contracts/{contract_id}/instalments", status_code=201)
def add_instalment(contract_id: int, body: InstalmentIn, session: WriteSession, a: Keeper) -> InstalmentOut:
    return instalment_out(contracts.add_instalment(session, actor=a.actor, contract_id=contract_id, data=body))


@router.delete("/contracts/{contract_id}/instalments/{instalment_id}", status_code=204)
def delete_instalment(contract_id: int, instalment_id: int, session: WriteSession, a: Keeper) -> None:
    contracts.delete_instalment(session, actor=a.actor, contract_id=contract_id, instalment_id=instalment_id)
