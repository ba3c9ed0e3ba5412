"""Pages of the projects part.

- ``/programme``: the programme office's front page — one row per project with its model, phase, state,
  budget, spend, contracts, the latest assessment's score and what has been found payable, every figure a
  link to its records.
- ``/programme/projects`` (filters; ``/programme/projects.xlsx``), ``/programme/projects/new``,
  ``/programme/projects/{id}`` (everything about a project: model, scope, budget against spend with the
  spend list, contracts with their schedules and the links to their KPIs, assessments and payments),
  ``/programme/projects/{id}/edit``.
- organisations in ``projects_orgs.py``, contracts in ``projects_contracts.py``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from countyos.core import tabular
from countyos.core.clock import county_today
from countyos.core.errors import CountyError
from countyos.core.i18n import N_, use_locale
from countyos.org.service import audit
from countyos.programme.api.index import segments_of_app
from countyos.programme.models.projects import Project, ProjectKind, ProjectState
from countyos.programme.pages import projects_contracts, projects_orgs
from countyos.programme.pages.projects_common import department_choices, department_names, fen_of, labels
from countyos.programme.permissions import MANAGE, READ
from countyos.programme.schemas.projects import ProjectIn, SpendIn
from countyos.programme.service import index, projects_models, projects_overview
from countyos.programme.service import modules as module_specs
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
router.include_router(projects_orgs.router)
router.include_router(projects_contracts.router)
SECTION = N_("Programme")
NAV = [
    NavItem(SECTION, N_("Programme overview"), "/programme", READ, order=1000),
    NavItem(SECTION, N_("Programme projects"), "/programme/projects", READ, order=1010),
    NavItem(SECTION, N_("Programme contracts"), "/programme/contracts", READ, order=1011),
    NavItem(SECTION, N_("Programme organisations"), "/programme/orgs", READ, order=1012),
]
Reader = Annotated[Auth, Depends(require(READ))]
Keeper = Annotated[Auth, Depends(require(MANAGE))]
Short = Annotated[str, Query(max_length=40)]
FIELDS = (
    "code", "name", "kind", "phase_id", "budget_yuan", "funding_model", "department_id", "operator_id",
    "starts_on", "ends_on", "description",
)  # fmt: skip
LISTS = ("modules", "device_classes", "data_resources")
SPEND_FIELDS = ("spent_on", "amount_yuan", "note", "contract_id")
EXPORT_MAX = 5000

audit.name_codes(
    actions={
        "programme.projects.org.create": N_("Programme organisation added"),
        "programme.projects.org.update": N_("Programme organisation changed"),
        "programme.projects.org.delete": N_("Programme organisation deleted"),
        "programme.projects.org.phone_view": N_("Programme organisation's phone number viewed"),
        "programme.projects.project.create": N_("Programme project added"),
        "programme.projects.project.update": N_("Programme project changed"),
        "programme.projects.project.transition": N_("Programme project's state changed"),
        "programme.projects.spend.add": N_("Project spend entered"),
        "programme.projects.spend.delete": N_("Project spend deleted"),
        "programme.projects.contract.create": N_("Programme contract added"),
        "programme.projects.contract.update": N_("Programme contract changed"),
        "programme.projects.contract.delete": N_("Programme contract deleted"),
        "programme.projects.contract.transition": N_("Programme contract's state changed"),
        "programme.projects.instalment.add": N_("Instalment added to a payment schedule"),
        "programme.projects.instalment.delete": N_("Instalment removed from a payment schedule"),
    },
    targets={
        "programme_org": N_("Programme organisation"),
        "programme_project": N_("Programme project"),
        "programme_contract": N_("Programme contract"),
    },
)


# --- the front page -------------------------------------------------------------------------------


@router.get("/programme")
def front(request: Request, session: ReadSession, a: Reader) -> Response:
    rows, totals = projects_overview.rows(session)
    # real use beside the money: the 盆景 index of the last twelve whole months, per project
    use = {r.project_id: r for r in index.report(session, segments=segments_of_app(request)).projects}
    return templates(request).render(
        request, "programme/projects/front.html", {"rows": rows, "totals": totals, "use": use, **labels()}
    )


# --- the list ---------------------------------------------------------------------------------------


def _filter(state: str, phase: str, model: str, q: str) -> svc.ProjectFilter:
    return svc.ProjectFilter(
        state=ProjectState(state) if state in {s.value for s in ProjectState} else None,
        phase_id=int(phase) if phase.isdigit() else None,
        funding_model=model if projects_models.get(model) else None,
        q=q.strip()[:60],
    )


@router.get("/programme/projects")
def projects_page(
    request: Request, session: ReadSession, a: Reader, state: Short = "", phase: Short = "", model: Short = "",
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:  # fmt: skip
    rows, total = svc.list_projects(session, filters=_filter(state, phase, model, q))
    qs = urlencode({k: v for k, v in {"state": state, "phase": phase, "model": model, "q": q}.items() if v})
    return templates(request).render(
        request,
        "programme/projects/projects.html",
        {
            "rows": rows, "total": total, "spend": svc.spend_totals(session, [p.id for p in rows]),
            "phases": svc.phases(session), "phase_names": {ph.id: ph.name for ph in svc.phases(session)},
            "models": projects_models.all_models(), "states": list(ProjectState),
            "filters": {"state": state, "phase": phase, "model": model, "q": q}, "qs": qs, **labels(),
        },
    )  # fmt: skip


@router.get("/programme/projects.xlsx", response_class=Response)
def projects_export(
    request: Request, session: ReadSession, a: Reader, state: Short = "", phase: Short = "", model: Short = "",
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:  # fmt: skip
    """The projects as filtered, as Excel (every text cell neutralised against formulas; money in yuan)."""
    rows, _ = svc.list_projects(session, filters=_filter(state, phase, model, q), limit=EXPORT_MAX)
    spend = svc.spend_totals(session, [p.id for p in rows])
    phases = {ph.id: ph.name for ph in svc.phases(session)}
    with use_locale(request.state.locale):
        headers = [
            translate(request, h)
            for h in (N_("Project code"), N_("Project name"), N_("Kind of project"), N_("Programme phase"),
                      N_("Funding and operating model"), N_("Project state"), N_("Budget (yuan)"),
                      N_("Spend (yuan)"), N_("Spend as a share of the budget (％)"))
        ]  # fmt: skip
        data = [
            [
                p.code,
                p.name,
                translate(request, svc.PROJECT_KIND_NAMES[p.kind]),
                phases.get(p.phase_id, "") if p.phase_id else "",
                projects_models.label(p.funding_model),
                translate(request, svc.PROJECT_STATE_NAMES[p.state]),
                p.budget_fen / 100,
                spend.get(p.id, 0) / 100,
                round(100.0 * spend.get(p.id, 0) / p.budget_fen, 1) if p.budget_fen else None,
            ]
            for p in rows
        ]
    body = tabular.to_xlsx(headers, data, sheet="projects")
    return Response(body, media_type=tabular.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="programme-projects.xlsx"'})  # fmt: skip


# --- the form -----------------------------------------------------------------------------------------


def _values(p: Project | None) -> dict[str, Any]:
    if p is None:
        return {"kind": ProjectKind.CONSTRUCTION.value, "modules": [], "device_classes": [], "data_resources": []}
    return {
        "code": p.code, "name": p.name, "kind": p.kind.value, "phase_id": str(p.phase_id or ""),
        "budget_yuan": f"{p.budget_fen // 100}.{p.budget_fen % 100:02d}", "funding_model": p.funding_model,
        "department_id": str(p.department_id or ""), "operator_id": str(p.operator_id or ""),
        "starts_on": p.starts_on.isoformat() if p.starts_on else "",
        "ends_on": p.ends_on.isoformat() if p.ends_on else "", "description": p.description,
        "modules": list(p.modules or []), "device_classes": list(p.device_classes or []),
        "data_resources": list(p.data_resources or []),
    }  # fmt: skip


def _form_page(request: Request, session: Session, p: Project | None, form: Refused | None = None) -> Response:
    orgs, _ = svc.list_orgs(session)
    return templates(request).render(
        request,
        "programme/projects/project_form.html",
        {
            "project": p, "form": form or Refused(_values(p), {}, None, 200), "kinds": list(ProjectKind),
            "phases": svc.phases(session), "models": projects_models.all_models(),
            "departments": department_choices(session), "orgs": orgs,
            "module_choices": module_specs.SPECS, "device_classes": svc.device_classes(session),
            "resources": svc.data_resources(session), **labels(),
        },
        status_code=form.status if form is not None else 200,
    )  # fmt: skip


def _typed(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = dict(forms.typed(form, FIELDS))
    for name in LISTS:
        values[name] = [x for x in form.getlist(name) if isinstance(x, str) and x.strip()][:200]
    return values


def _parse(values: dict[str, Any]) -> ProjectIn:
    data = {k: v for k, v in values.items() if k != "budget_yuan"}
    data["budget_fen"] = fen_of(values["budget_yuan"], "budget_fen")
    return forms.parse(ProjectIn, data)


@router.get("/programme/projects/new")
def project_new(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, None)


@router.post("/programme/projects/new")
def project_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = _typed(form)
    try:
        p = svc.create_project(session, actor=a.actor, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        return _form_page(request, session, None, Refused.of(request, exc, values))
    return redirect(f"/programme/projects/{p.id}", flash=translate(request, "Project saved"))


@router.get("/programme/projects/{project_id:int}/edit")
def project_edit(request: Request, project_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form_page(request, session, svc.get_project(session, project_id=project_id))


@router.post("/programme/projects/{project_id:int}/edit")
def project_update(request: Request, project_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = _typed(form)
    try:
        svc.update_project(session, actor=a.actor, project_id=project_id, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        p = svc.get_project(session, project_id=project_id)
        return _form_page(request, session, p, Refused.of(request, exc, values))
    return redirect(f"/programme/projects/{project_id}", flash=translate(request, "Project saved"))


# --- one project --------------------------------------------------------------------------------------


def _project_page(
    request: Request, session: Session, project_id: int, *, spend_form: Refused | None = None,
    action_error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    p = svc.get_project(session, project_id=project_id)
    cs, _ = contracts.list_contracts(session, project_id=p.id)
    ids = [c.id for c in cs]
    spend = svc.spend_totals(session, [p.id]).get(p.id, 0)
    return templates(request).render(
        request,
        "programme/projects/project.html",
        {
            "p": p, "model": projects_models.get(p.funding_model),
            "phase": next((ph for ph in svc.phases(session) if ph.id == p.phase_id), None),
            "department": department_names(session).get(p.department_id or 0),
            "operator": svc.get_org(session, org_id=p.operator_id) if p.operator_id else None,
            "resources": svc.resource_titles(session, list(p.data_resources or [])),
            "spend_fen": spend, "spend_rows": svc.list_spend(session, project_id=p.id),
            "contracts": cs, "scheduled": contracts.scheduled_totals(session, ids),
            "schedules": {c.id: contracts.instalments(session, contract_id=c.id) for c in cs},
            "parties": svc.org_names(session, {c.party_id for c in cs}),
            "contract_codes": {c.id: c.code for c in cs},
            "allowed": svc.allowed_actions(p.state), "action_error": action_error,
            "spend_form": spend_form or Refused({"spent_on": county_today().isoformat()}, {}, None, 200),
            **labels(),
        },
        status_code=status,
    )  # fmt: skip


@router.get("/programme/projects/{project_id:int}")
def project_page(request: Request, project_id: int, session: ReadSession, a: Reader) -> Response:
    return _project_page(request, session, project_id)


@router.post("/programme/projects/{project_id:int}/actions")
def project_action(request: Request, project_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    action = forms.typed(form, ("action",))["action"][:20]
    try:
        svc.act(session, actor=a.actor, project_id=project_id, action=action)
    except CountyError as exc:
        session.rollback()
        with use_locale(request.state.locale):
            message = exc.message
        return _project_page(request, session, project_id, action_error=message, status=exc.status)
    return redirect(f"/programme/projects/{project_id}", flash=translate(request, "Project state changed"))


@router.post("/programme/projects/{project_id:int}/spend")
def spend_add(request: Request, project_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, SPEND_FIELDS)
    try:
        data = {k: v for k, v in values.items() if k != "amount_yuan"}
        data["amount_fen"] = fen_of(values["amount_yuan"], "amount_fen")
        svc.add_spend(session, actor=a.actor, project_id=project_id, data=forms.parse(SpendIn, data))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _project_page(request, session, project_id, spend_form=refused, status=refused.status)
    return redirect(f"/programme/projects/{project_id}#spend", flash=translate(request, "Spend entered"))


@router.post("/programme/projects/{project_id:int}/spend/{spend_id:int}/delete")
def spend_delete(request: Request, project_id: int, spend_id: int, session: WriteSession, a: Keeper) -> Response:
    svc.delete_spend(session, actor=a.actor, project_id=project_id, spend_id=spend_id)
    return redirect(f"/programme/projects/{project_id}#spend", flash=translate(request, "Spend deleted"))
