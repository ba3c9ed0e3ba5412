"""Organisations, projects and their spend.

- Organisations (``programme_org``): the local operating company, vendors, ecosystem partners, financiers and
  the county's state-capital platform, with the 统一社会信用代码 (GB 32100, checked) and a contact whose phone
  is personal: pages show it masked and every unmasked view is audited (:func:`reveal_phone`).
- Projects: phase, scope (modules of ``service.modules.SPECS``, sensing device classes, data catalogue
  identifiers), budget, funding and operating model (``service.projects_models``), lead department and
  operating organisation; a lifecycle on ONE transition table (:data:`TRANSITIONS`).
- Spend: what a project actually cost, one row per payment made or cost booked, optionally of a contract.

Every write is audited (``programme.projects.*``); nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.crypto import mask_phone
from countyos.core.errors import Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from countyos.core.i18n import N_
from countyos.data.models import Resource
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.programme.models.modules import Phase
from countyos.programme.models.projects import (
    Contract,
    Organisation,
    OrgKind,
    Project,
    ProjectKind,
    ProjectState,
    Spend,
)
from countyos.programme.schemas.projects import OrgIn, ProjectIn, SpendIn
from countyos.programme.service import modules as module_specs
from countyos.programme.service import projects_models
from countyos.sensing.models import Thing
from countyos.sensing.service.labels import DEVICE_CLASS_LABELS

MAX_LIST = 500

ORG_KIND_NAMES = {
    OrgKind.OPERATOR: N_("Local operating company"),
    OrgKind.VENDOR: N_("Vendor or builder"),
    OrgKind.PARTNER: N_("Ecosystem partner"),
    OrgKind.FINANCIER: N_("Financier or investor"),
    OrgKind.STATE_CAPITAL: N_("State-capital platform"),
}
PROJECT_KIND_NAMES = {
    ProjectKind.CONSTRUCTION: N_("Construction project"),
    ProjectKind.OPERATION: N_("Operation project"),
}
PROJECT_STATE_NAMES = {
    ProjectState.PLANNED: N_("Project being planned"),
    ProjectState.BUILDING: N_("Project being built"),
    ProjectState.OPERATING: N_("Project in operation"),
    ProjectState.CLOSED: N_("Project closed"),
}
PROJECT_ACTION_NAMES = {
    "build": N_("Start building the project"),
    "operate": N_("Put the project into operation"),
    "close": N_("Close the project"),
}
# (state, action) → new state: the ONE transition table of a project.
TRANSITIONS: dict[tuple[ProjectState, str], ProjectState] = {
    (ProjectState.PLANNED, "build"): ProjectState.BUILDING,
    (ProjectState.PLANNED, "operate"): ProjectState.OPERATING,  # an operation project of what exists
    (ProjectState.PLANNED, "close"): ProjectState.CLOSED,  # dropped
    (ProjectState.BUILDING, "operate"): ProjectState.OPERATING,
    (ProjectState.BUILDING, "close"): ProjectState.CLOSED,
    (ProjectState.OPERATING, "close"): ProjectState.CLOSED,
}


# --- organisations --------------------------------------------------------------------------------


def get_org(session: Session, *, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(N_("No organisation %(id)s"), id=org_id)
    return org


def list_orgs(
    session: Session, *, kind: OrgKind | None = None, q: str = "", limit: int = MAX_LIST, offset: int = 0
) -> tuple[list[Organisation], int]:
    stmt = select(Organisation)
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    if q:
        like = f"%{q[:60]}%"
        stmt = stmt.where(Organisation.name.like(like) | Organisation.uscc.like(like))
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(stmt.order_by(Organisation.kind, Organisation.name).limit(limit).offset(offset))
    return list(rows), total


def org_names(session: Session, ids: set[int] | None = None) -> dict[int, str]:
    stmt = select(Organisation.id, Organisation.name)
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(ids))
    return {r.id: r.name for r in session.execute(stmt)}


def masked_phone(org: Organisation) -> str:
    return mask_phone(org.contact_phone) if org.contact_phone else ""


def _org_checks(session: Session, data: OrgIn, *, other_than: int | None = None) -> None:
    same = select(Organisation.id).where(Organisation.name == data.name)
    if other_than is not None:
        same = same.where(Organisation.id != other_than)
    if session.scalar(same) is not None:
        raise ValidationFailed.on_field("name", N_("Another organisation has this name"))
    if data.uscc:
        dup = select(Organisation.id).where(Organisation.uscc == data.uscc)
        if other_than is not None:
            dup = dup.where(Organisation.id != other_than)
        if session.scalar(dup) is not None:
            raise ValidationFailed.on_field("uscc", N_("Another organisation has this credit code"))
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        raise ValidationFailed.on_field("department_id", N_("Not one of the choices"))


def _org_apply(org: Organisation, data: OrgIn, *, keep_phone: bool) -> None:
    org.name, org.kind, org.uscc = data.name, data.kind, data.uscc
    org.contact_name, org.address, org.description = data.contact_name, data.address, data.description
    org.department_id = data.department_id
    if data.contact_phone or not keep_phone:
        org.contact_phone = data.contact_phone


def create_org(session: Session, *, actor: Actor, data: OrgIn) -> Organisation:
    _org_checks(session, data)
    org = Organisation()
    _org_apply(org, data, keep_phone=False)
    session.add(org)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.org.create", target_type="programme_org",
        target_id=org.id, detail={"name": org.name, "kind": str(org.kind), "uscc": org.uscc},
    )  # fmt: skip
    return org


def update_org(session: Session, *, actor: Actor, org_id: int, data: OrgIn, keep_phone: bool = True) -> Organisation:
    """Change an organisation; an empty phone keeps the number on file unless ``keep_phone`` is False."""
    org = get_org(session, org_id=org_id)
    _org_checks(session, data, other_than=org_id)
    _org_apply(org, data, keep_phone=keep_phone)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.org.update", target_type="programme_org",
        target_id=org.id, detail={"name": org.name, "kind": str(org.kind), "uscc": org.uscc},
    )  # fmt: skip
    return org


def delete_org(session: Session, *, actor: Actor, org_id: int) -> None:
    org = get_org(session, org_id=org_id)
    if session.scalar(select(Contract.id).where(Contract.party_id == org_id).limit(1)) is not None:
        raise Conflict(N_("The organisation is a party to contracts and cannot be deleted"))
    name = org.name
    session.delete(org)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.org.delete", target_type="programme_org",
        target_id=org_id, detail={"name": name},
    )  # fmt: skip


def reveal_phone(session: Session, *, actor: Actor, org_id: int) -> str:
    """The contact's unmasked phone; every view is recorded in the audit log."""
    org = get_org(session, org_id=org_id)
    audit.record(
        session, actor=actor, action="programme.projects.org.phone_view", target_type="programme_org",
        target_id=org.id, detail={"field": "contact_phone"},
    )  # fmt: skip
    return org.contact_phone


# --- projects -------------------------------------------------------------------------------------


def get_project(session: Session, *, project_id: int) -> Project:
    p = session.get(Project, project_id)
    if p is None:
        raise NotFound(N_("No project %(id)s"), id=project_id)
    return p


@dataclass(frozen=True)
class ProjectFilter:
    state: ProjectState | None = None
    phase_id: int | None = None
    funding_model: str | None = None
    operator_id: int | None = None
    q: str = ""


def _project_stmt(f: ProjectFilter) -> Select[Project]:
    stmt = select(Project)
    if f.state is not None:
        stmt = stmt.where(Project.state == f.state)
    if f.phase_id is not None:
        stmt = stmt.where(Project.phase_id == f.phase_id)
    if f.funding_model:
        stmt = stmt.where(Project.funding_model == f.funding_model)
    if f.operator_id is not None:
        stmt = stmt.where(Project.operator_id == f.operator_id)
    if f.q:
        like = f"%{f.q[:60]}%"
        stmt = stmt.where(Project.name.like(like) | Project.code.like(like))
    return stmt


def list_projects(
    session: Session, *, filters: ProjectFilter | None = None, limit: int = MAX_LIST, offset: int = 0
) -> tuple[list[Project], int]:
    stmt = _project_stmt(filters or ProjectFilter())
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(stmt.order_by(Project.code).limit(limit).offset(offset))
    return list(rows), total


def spend_totals(session: Session, project_ids: list[int] | None = None) -> dict[int, int]:
    stmt = select(Spend.project_id, func.coalesce(func.sum(Spend.amount_fen), 0)).group_by(Spend.project_id)
    if project_ids is not None:
        stmt = stmt.where(Spend.project_id.in_(project_ids))
    return {pid: int(total) for pid, total in session.execute(stmt)}


def device_classes(session: Session) -> list[str]:
    """The sensing device classes a project may name: those with a name and those present."""
    present = {c for c in session.scalars(select(Thing.device_class).distinct()) if c}
    return sorted(set(DEVICE_CLASS_LABELS) | present)


def data_resources(session: Session, limit: int = 2000) -> list[tuple[str, str]]:
    """(identifier, title) of the data catalogue's resources, for the project's scope."""
    return [
        (r.code, r.title)
        for r in session.execute(select(Resource.code, Resource.title).order_by(Resource.code).limit(limit))
    ]


def _project_checks(session: Session, data: ProjectIn, *, other_than: int | None = None) -> None:
    same = select(Project.id).where(Project.code == data.code)
    if other_than is not None:
        same = same.where(Project.id != other_than)
    if session.scalar(same) is not None:
        raise ValidationFailed.on_field("code", N_("Another project has this code"))
    projects_models.check(data.funding_model)
    unknown = [m for m in data.modules if m not in module_specs.BY_CODE]
    if unknown:
        raise ValidationFailed.on_field("modules", N_("Not one of the choices"))
    if data.device_classes:
        known = set(device_classes(session))
        if any(c not in known for c in data.device_classes):
            raise ValidationFailed.on_field("device_classes", N_("Not one of the choices"))
    if data.data_resources:
        found = set(session.scalars(select(Resource.code).where(Resource.code.in_(data.data_resources))))
        if any(c not in found for c in data.data_resources):
            raise ValidationFailed.on_field("data_resources", N_("No data resource has this identifier"))
    if data.phase_id is not None and session.get(Phase, data.phase_id) is None:
        raise ValidationFailed.on_field("phase_id", N_("Not one of the choices"))
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        raise ValidationFailed.on_field("department_id", N_("Not one of the choices"))
    if data.operator_id is not None and session.get(Organisation, data.operator_id) is None:
        raise ValidationFailed.on_field("operator_id", N_("Not one of the choices"))
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise ValidationFailed.on_field("ends_on", N_("The end date is before the start date"))


def _project_apply(p: Project, data: ProjectIn) -> None:
    for name in (
        "code", "name", "kind", "phase_id", "modules", "device_classes", "data_resources", "budget_fen",
        "funding_model", "department_id", "operator_id", "starts_on", "ends_on", "description",
    ):  # fmt: skip
        setattr(p, name, getattr(data, name))


def create_project(session: Session, *, actor: Actor, data: ProjectIn) -> Project:
    _project_checks(session, data)
    p = Project(state=ProjectState.PLANNED)
    _project_apply(p, data)
    session.add(p)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.project.create", target_type="programme_project",
        target_id=p.id, detail={"code": p.code, "budget_fen": p.budget_fen, "funding_model": p.funding_model},
    )  # fmt: skip
    return p


def update_project(session: Session, *, actor: Actor, project_id: int, data: ProjectIn) -> Project:
    p = get_project(session, project_id=project_id)
    if p.state == ProjectState.CLOSED:
        raise Conflict(N_("A closed project cannot be changed"))
    before = {"budget_fen": p.budget_fen, "funding_model": p.funding_model, "phase_id": p.phase_id}
    _project_checks(session, data, other_than=project_id)
    _project_apply(p, data)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.project.update", target_type="programme_project",
        target_id=p.id, detail={"code": p.code, "before": before,
                                "after": {"budget_fen": p.budget_fen, "funding_model": p.funding_model,
                                          "phase_id": p.phase_id}},
    )  # fmt: skip
    return p


def allowed_actions(state: ProjectState) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == state]


def act(session: Session, *, actor: Actor, project_id: int, action: str) -> Project:
    """Move a project along :data:`TRANSITIONS`; a refusal lists the actions its state allows."""
    p = get_project(session, project_id=project_id)
    new = TRANSITIONS.get((p.state, action))
    if new is None:
        raise TransitionNotAllowed(
            N_("%(action)s is not possible while the project is %(state)s."),
            allowed=allowed_actions(p.state),
            current_state=p.state.value,
            action=PROJECT_ACTION_NAMES.get(action, N_("This action")),
            state=PROJECT_STATE_NAMES[p.state],
        )
    was = p.state
    p.state = new
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.project.transition", target_type="programme_project",
        target_id=p.id, detail={"action": action, "from": was.value, "to": new.value},
    )  # fmt: skip
    return p


# --- spend ----------------------------------------------------------------------------------------


def list_spend(session: Session, *, project_id: int, limit: int = MAX_LIST) -> list[Spend]:
    stmt = select(Spend).where(Spend.project_id == project_id).order_by(Spend.spent_on.desc(), Spend.id.desc())
    return list(session.scalars(stmt.limit(limit)))


def add_spend(session: Session, *, actor: Actor, project_id: int, data: SpendIn) -> Spend:
    p = get_project(session, project_id=project_id)
    if data.contract_id is not None:
        c = session.get(Contract, data.contract_id)
        if c is None or c.project_id != p.id:
            raise ValidationFailed.on_field("contract_id", N_("Choose a contract of this project"))
    row = Spend(project_id=p.id, contract_id=data.contract_id, spent_on=data.spent_on,
                amount_fen=data.amount_fen, note=data.note)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.spend.add", target_type="programme_project",
        target_id=p.id, detail={"spend_id": row.id, "amount_fen": row.amount_fen, "on": row.spent_on.isoformat()},
    )  # fmt: skip
    return row


def delete_spend(session: Session, *, actor: Actor, project_id: int, spend_id: int) -> None:
    row = session.get(Spend, spend_id)
    if row is None or row.project_id != project_id:
        raise NotFound(N_("No spend entry %(id)s"), id=spend_id)
    detail = {"spend_id": row.id, "amount_fen": row.amount_fen, "on": row.spent_on.isoformat(), "note": row.note}
    session.delete(row)
    session.flush()
    audit.record(
        session, actor=actor, action="programme.projects.spend.delete", target_type="programme_project",
        target_id=project_id, detail=detail,
    )  # fmt: skip


def phases(session: Session) -> list[Phase]:
    return list(session.scalars(select(Phase).order_by(Phase.number)))


def resource_titles(session: Session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {
        r.code: r.title for r in session.execute(select(Resource.code, Resource.title).where(Resource.code.in_(codes)))
    }
