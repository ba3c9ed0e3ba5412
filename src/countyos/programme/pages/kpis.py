"""Pages of the kpis part: a contract's KPIs (``/programme/contracts/{id}/kpis``) and the assessments
(``pages.kpis_assessments``: ``/programme/assessments``, ``/programme/assessments/{id}``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme import permissions as P
from countyos.programme.models.projects import Contract
from countyos.programme.pages import kpis_assessments
from countyos.programme.pages.kpis_common import CONTRACT_STATE_LABELS, RULE_LABELS, rule_words, unit_of
from countyos.programme.schemas.kpis import KpiIn
from countyos.programme.service import kpis as svc
from countyos.programme.service import kpis_catalogue as catalogue
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
router.include_router(kpis_assessments.router)
Reader = Annotated[Auth, Depends(require(P.READ))]
Keeper = Annotated[Auth, Depends(require(P.MANAGE))]

NAV = [NavItem(N_("Programme"), N_("Assessments and KPIs"), "/programme/assessments", P.READ, order=330)]

audit.name_codes(
    actions={
        "programme.kpis.add": N_("Added a KPI to a contract"),
        "programme.kpis.update": N_("Changed a contract's KPI"),
        "programme.kpis.delete": N_("Removed a contract's KPI"),
        "programme.kpis.assess": N_("Assessed a contract's period"),
        "programme.kpis.reassess": N_("Assessed a contract's period again"),
        "programme.kpis.approve": N_("Approved an assessment"),
    },
    targets={"programme_kpi": N_("Contract KPI"), "programme_assessment": N_("Assessment")},
)

FIELDS = ("kpi", "township_code", "target", "weight", "scoring_kind", "scoring_zero_at", "scoring_steps")
MAX_STEPS_TEXT = 400


def _steps(text: str) -> list[list[str]] | str:
    """「98:100, 95:80」 → [["98", "100"], ["95", "80"]] (the model checks the numbers)."""
    out: list[list[str]] = []
    for part in text[:MAX_STEPS_TEXT].replace("，", ",").replace("：", ":").split(","):
        if part.strip():
            value, _, points = part.partition(":")
            out.append([value.strip(), points.strip()])
    return out


def kpi_input(values: dict[str, str]) -> KpiIn:
    """The API's model from the page form's fields."""
    scoring: dict[str, Any] = {"kind": values.get("scoring_kind") or "linear"}
    if values.get("scoring_zero_at", "").strip():
        scoring["zero_at"] = values["scoring_zero_at"].strip()
    if scoring["kind"] == "steps":
        scoring["steps"] = _steps(values.get("scoring_steps", ""))
    data = {k: values.get(k, "") for k in ("kpi", "township_code", "target", "weight")}
    return forms.parse(KpiIn, {**data, "scoring": scoring})


def _page(
    request: Request, session: Session, a: Auth, c: Contract, *, form: Refused | None = None,
    editing: int | None = None, status: int = 200,
) -> Response:  # fmt: skip
    kpis = svc.of_contract(session, contract_id=c.id)
    towns = svc.townships(session)
    return templates(request).render(
        request,
        "programme/kpis/contract_kpis.html",
        {
            "contract": c,
            "kpis": kpis,
            "weight_sum": svc.weight_sum(kpis),
            "catalogue": catalogue.KPIS,
            "by_code": catalogue.BY_CODE,
            "towns": towns,
            "town_names": dict(towns),
            "unit_of": unit_of,
            "rule_words": rule_words,
            "rule_labels": RULE_LABELS,
            "state_labels": CONTRACT_STATE_LABELS,
            "editable": c.state in svc.EDITABLE and a.actor.can(P.MANAGE),
            "form": form or Refused.empty(),
            "editing": editing,
        },
        status_code=status,
    )


@router.get("/programme/contracts/{contract_id:int}/kpis")
def contract_kpis(request: Request, contract_id: int, session: ReadSession, a: Reader) -> Response:
    return _page(request, session, a, svc.contract(session, actor=a.actor, contract_id=contract_id))


@router.post("/programme/contracts/{contract_id:int}/kpis")
def add_kpi(request: Request, contract_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    values = forms.typed(form, FIELDS)
    try:
        svc.add(session, actor=a.actor, contract=c, data=kpi_input(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="new")
        c = svc.contract(session, actor=a.actor, contract_id=contract_id)
        return _page(request, session, a, c, form=refused, status=refused.status)
    return redirect(f"/programme/contracts/{contract_id}/kpis", flash=translate(request, "KPI added"))


@router.post("/programme/contracts/{contract_id:int}/kpis/{kpi_id:int}")
def edit_kpi(
    request: Request, contract_id: int, kpi_id: int, session: WriteSession, a: Keeper, form: PostedForm
) -> Response:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    k = svc.get(session, contract=c, kpi_id=kpi_id)
    values = forms.typed(form, FIELDS)
    try:
        svc.update(session, actor=a.actor, contract=c, kpi=k, data=kpi_input(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which=str(kpi_id))
        c = svc.contract(session, actor=a.actor, contract_id=contract_id)
        return _page(request, session, a, c, form=refused, editing=kpi_id, status=refused.status)
    return redirect(f"/programme/contracts/{contract_id}/kpis", flash=translate(request, "KPI saved"))


@router.post("/programme/contracts/{contract_id:int}/kpis/{kpi_id:int}/delete")
def delete_kpi(request: Request, contract_id: int, kpi_id: int, session: WriteSession, a: Keeper) -> Response:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    svc.delete(session, actor=a.actor, contract=c, kpi=svc.get(session, contract=c, kpi_id=kpi_id))
    return redirect(f"/programme/contracts/{contract_id}/kpis", flash=translate(request, "KPI removed"))
