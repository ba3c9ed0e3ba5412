"""Pages of the contracts: ``/programme/contracts`` (by project and state), ``/programme/contracts/new``
and ``/programme/contracts/{id}`` (the form with the payment formula as JSON, the payment schedule, the
state actions and the links to the contract's KPIs, assessments and payments)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_, use_locale
from countyos.programme.models.projects import AssessmentPeriod, Contract, ContractState
from countyos.programme.pages.projects_common import fen_of, labels
from countyos.programme.permissions import MANAGE, READ
from countyos.programme.schemas.projects import ContractIn, InstalmentIn
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(READ))]
Keeper = Annotated[Auth, Depends(require(MANAGE))]
FIELDS = ("code", "title", "project_id", "party_id", "starts_on", "ends_on", "amount_yuan", "period", "formula")
INSTALMENT_FIELDS = ("due_on", "amount_yuan", "label")
MAX_FORMULA_CHARS = 4000
# What each key of the payment formula means (schemas.payments.Formula), shown beside the JSON.
FORMULA_WORDS = {
    "base": N_("The base of a period: even (the amount spread evenly) or instalment (the schedule's instalments due)"),
    "full_at": N_("The total score at or above which the base is paid in full"),
    "per_point_pct": N_("Percent of the base deducted for each point below full_at"),
    "max_deduction_pct": N_("The most that is deducted, in percent of the base"),
    "zero_below": N_("Below this total score nothing is paid"),
    "bonus": N_("Bonus steps: from a total score on, a percentage of the base paid on top"),
    "max_bonus_pct": N_("The most bonus, in percent of the base"),
    "missing": N_("A KPI without data: reweight (left out), zero or full points"),
    "no_data": N_("A period without any data: hold (nothing payable yet) or pay (in full)"),
}


def formula_text(formula: dict[str, Any] | None) -> str:
    return json.dumps(formula or contracts.default_formula(), ensure_ascii=False, indent=2)


@router.get("/programme/contracts")
def contracts_page(
    request: Request,
    session: ReadSession,
    a: Reader,
    project: Annotated[int | None, Query(ge=1)] = None,
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    st = ContractState(state) if state in {s.value for s in ContractState} else None
    rows, total = contracts.list_contracts(session, project_id=project, state=st)
    projects, _ = svc.list_projects(session)
    return templates(request).render(
        request,
        "programme/projects/contracts.html",
        {
            "rows": rows, "total": total, "project": project, "state": state, "states": list(ContractState),
            "projects": projects, "project_names": {p.id: p.name for p in projects},
            "parties": svc.org_names(session, {c.party_id for c in rows}),
            "scheduled": contracts.scheduled_totals(session, [c.id for c in rows]), **labels(),
        },
    )  # fmt: skip


def _values(c: Contract | None, project_id: int | None = None) -> dict[str, str]:
    if c is None:
        return {"project_id": str(project_id or ""), "period": AssessmentPeriod.MONTH.value,
                "formula": formula_text(None)}  # fmt: skip
    return {
        "code": c.code, "title": c.title, "project_id": str(c.project_id), "party_id": str(c.party_id),
        "starts_on": c.starts_on.isoformat(), "ends_on": c.ends_on.isoformat(),
        "amount_yuan": f"{c.amount_fen // 100}.{c.amount_fen % 100:02d}", "period": c.period.value,
        "formula": formula_text(c.formula),
    }  # fmt: skip


def _page(
    request: Request,
    session: Session,
    c: Contract | None,
    *,
    form: Refused | None = None,
    instalment_form: Refused | None = None,
    action_error: str | None = None,
    status: int = 200,
    project_id: int | None = None,
) -> Response:
    projects, _ = svc.list_projects(session)
    orgs, _ = svc.list_orgs(session)
    ctx: dict[str, Any] = {
        "c": c, "form": form or Refused(_values(c, project_id), {}, None, 200),
        "instalment_form": instalment_form or Refused.empty(), "action_error": action_error,
        "projects": projects, "orgs": orgs, "periods": list(AssessmentPeriod),
        "default_formula": formula_text(None), "project_names": {p.id: p.name for p in projects},
        "org_names": {o.id: o.name for o in orgs}, "formula_words": FORMULA_WORDS, **labels(),
    }  # fmt: skip
    if c is not None:
        ctx["schedule"] = contracts.instalments(session, contract_id=c.id)
        ctx["scheduled_fen"] = sum(i.amount_fen for i in ctx["schedule"])
        ctx["allowed"] = contracts.allowed_actions(c.state)
        ctx["kpis"], ctx["weights"] = contracts.kpi_weights(session, contract_id=c.id)
    return templates(request).render(request, "programme/projects/contract.html", ctx, status_code=status)


def _parse(values: dict[str, str]) -> ContractIn:
    data: dict[str, Any] = {k: v for k, v in values.items() if k not in ("amount_yuan", "formula")}
    data["amount_fen"] = fen_of(values["amount_yuan"], "amount_fen")
    text = values["formula"].strip()
    if len(text) > MAX_FORMULA_CHARS:
        raise ValidationFailed.on_field("formula", N_("The payment formula is too long"))
    if text:
        try:
            data["formula"] = json.loads(text)
        except ValueError:
            raise ValidationFailed.on_field("formula", N_("The payment formula is not valid JSON")) from None
        if not isinstance(data["formula"], dict):
            raise ValidationFailed.on_field("formula", N_("The payment formula is not valid JSON"))
    return forms.parse(ContractIn, data)


@router.get("/programme/contracts/new")
def contract_new(
    request: Request, session: ReadSession, a: Keeper, project: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    return _page(request, session, None, project_id=project)


@router.post("/programme/contracts/new")
def contract_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        c = contracts.create(session, actor=a.actor, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _page(request, session, None, form=refused, status=refused.status)
    return redirect(f"/programme/contracts/{c.id}", flash=translate(request, "Contract saved"))


@router.get("/programme/contracts/{contract_id:int}")
def contract_page(request: Request, contract_id: int, session: ReadSession, a: Reader) -> Response:
    return _page(request, session, contracts.get(session, contract_id=contract_id))


@router.post("/programme/contracts/{contract_id:int}")
def contract_update(request: Request, contract_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        contracts.update(session, actor=a.actor, contract_id=contract_id, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        c = contracts.get(session, contract_id=contract_id)
        return _page(request, session, c, form=refused, status=refused.status)
    return redirect(f"/programme/contracts/{contract_id}", flash=translate(request, "Contract saved"))


@router.post("/programme/contracts/{contract_id:int}/actions")
def contract_action(request: Request, contract_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    action = forms.typed(form, ("action",))["action"][:20]
    try:
        contracts.act(session, actor=a.actor, contract_id=contract_id, action=action)
    except CountyError as exc:
        session.rollback()
        with use_locale(request.state.locale):
            message = exc.message
        c = contracts.get(session, contract_id=contract_id)
        return _page(request, session, c, action_error=message, status=exc.status)
    return redirect(f"/programme/contracts/{contract_id}", flash=translate(request, "Contract state changed"))


@router.post("/programme/contracts/{contract_id:int}/delete")
def contract_delete(request: Request, contract_id: int, session: WriteSession, a: Keeper) -> Response:
    try:
        project_id = contracts.delete(session, actor=a.actor, contract_id=contract_id)
    except CountyError as exc:
        session.rollback()
        with use_locale(request.state.locale):
            message = exc.message
        c = contracts.get(session, contract_id=contract_id)
        return _page(request, session, c, action_error=message, status=exc.status)
    return redirect(f"/programme/projects/{project_id}", flash=translate(request, "Contract deleted"))


@router.post("/programme/contracts/{contract_id:int}/instalments")
def instalment_add(request: Request, contract_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, INSTALMENT_FIELDS)
    try:
        data = {k: v for k, v in values.items() if k != "amount_yuan"}
        data["amount_fen"] = fen_of(values["amount_yuan"], "amount_fen")
        contracts.add_instalment(session, actor=a.actor, contract_id=contract_id,
                                 data=forms.parse(InstalmentIn, data))  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        c = contracts.get(session, contract_id=contract_id)
        return _page(request, session, c, instalment_form=refused, status=refused.status)
    return redirect(f"/programme/contracts/{contract_id}#schedule", flash=translate(request, "Instalment added"))


@router.post("/programme/contracts/{contract_id:int}/instalments/{instalment_id:int}/delete")
def instalment_delete(
    request: Request, contract_id: int, instalment_id: int, session: WriteSession, a: Keeper
) -> Response:
    contracts.delete_instalment(session, actor=a.actor, contract_id=contract_id, instalment_id=instalment_id)
    return redirect(f"/programme/contracts/{contract_id}#schedule", flash=translate(request, "Instalment removed"))
