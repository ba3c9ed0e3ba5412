"""API of the kpis part under /api/v1/programme: the KPI catalogue, a contract's KPIs, assessments.

- ``GET /kpi-catalogue``: the measures a KPI is chosen from (each an operations-view indicator).
- ``GET|POST /contracts/{id}/kpis``, ``PUT|DELETE /contracts/{id}/kpis/{kpi_id}``: a contract's KPIs
  (``programme.manage`` writes; a draft or active contract).
- ``GET /assessments`` (paged; filters contract, state, period), ``GET /assessments/{id}`` (with scores,
  each with the links to its records), ``POST /contracts/{id}/assess`` {period_start, reason?} and
  ``POST /assessments/{id}/approve`` (``programme.assess``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.core.i18n import gettext
from countyos.core.paging import Paged
from countyos.programme import permissions as P
from countyos.programme.models.kpis import Assessment, AssessmentState, ContractKpi
from countyos.programme.models.projects import Contract
from countyos.programme.schemas.kpis import (
    AmendmentOut,
    AssessIn,
    AssessmentOut,
    CatalogueEntryOut,
    ContractKpisOut,
    KpiIn,
    KpiOut,
    ScoreOut,
    ScoringRule,
)
from countyos.programme.service import kpis as svc
from countyos.programme.service import kpis_assess as assess_svc
from countyos.programme.service import kpis_catalogue as catalogue
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(P.READ))]
Keeper = Annotated[Auth, Depends(require(P.MANAGE))]
Assessor = Annotated[Auth, Depends(require(P.ASSESS))]
MAX_LIMIT = 200


def _unit(code: str) -> str:
    entry = catalogue.BY_CODE.get(code)
    return entry.unit if entry is not None else ""


def _label(code: str) -> str:
    entry = catalogue.BY_CODE.get(code)
    return gettext(entry.label) if entry is not None else code


def kpi_out(k: ContractKpi) -> KpiOut:
    return KpiOut(id=k.id, contract_id=k.contract_id, kpi=k.kpi, label=_label(k.kpi), unit=_unit(k.kpi),
                  township_code=k.township_code, target=k.target, weight=k.weight,
                  scoring=ScoringRule.model_validate(k.scoring or {}))  # fmt: skip


def assessment_out(session: Session, a: Assessment, c: Contract, *, full: bool = False) -> AssessmentOut:
    out = AssessmentOut(
        id=a.id, contract_id=a.contract_id, contract_code=c.code, period_start=a.period_start,
        period_end=a.period_end, period_label=assess_svc.period_label(c.period, a.period_start), state=str(a.state),
        total_score=a.total_score, base_fen=a.base_fen, deduction_fen=a.deduction_fen, bonus_fen=a.bonus_fen,
        payable_fen=a.payable_fen, computed_at=a.computed_at.isoformat(), approved_by_id=a.approved_by_id,
        approved_at=a.approved_at.isoformat() if a.approved_at else None, url=f"/programme/assessments/{a.id}",
    )  # fmt: skip
    if full:
        out.scores = [
            ScoreOut(
                kpi_id=k.id,
                kpi=k.kpi,
                label=_label(k.kpi),
                unit=_unit(k.kpi),
                township_code=k.township_code,
                value=s.value,
                count=s.count,
                whole=s.whole,
                target=s.target,
                weight=s.weight,
                score=s.score,
                records_url=s.records_url,
                whole_url=s.whole_url,
            )
            for s, k in assess_svc.scores_of(session, assessment_id=a.id)
        ]
        out.amendments = [
            AmendmentOut(
                at=m.at.isoformat(), by_id=m.by_id, what=m.what, reason=m.reason, before=m.before, after=m.after
            )
            for m in assess_svc.amendments_of(session, assessment_id=a.id)
        ]
    return out


@router.get("/kpi-catalogue")
def kpi_catalogue(request: Request, a: Reader) -> list[CatalogueEntryOut]:
    """The KPI catalogue: each entry reads one indicator of the operations view."""
    with i18n.use_locale(request.state.locale):
        return [
            CatalogueEntryOut(
                code=k.code,
                indicator=k.indicator,
                label=gettext(k.label),
                hint=gettext(k.hint) if k.hint else "",
                unit="%" if k.unit == "%" else "count",
                negative=k.negative,
                target=k.target,
                scoring=ScoringRule.model_validate(k.scoring),
            )
            for k in catalogue.KPIS
        ]


def _kpis_out(session: Session, c: Contract) -> ContractKpisOut:
    items = svc.of_contract(session, contract_id=c.id)
    return ContractKpisOut(contract_id=c.id, state=str(c.state), weight_sum=svc.weight_sum(items),
                           items=[kpi_out(k) for k in items])  # fmt: skip


@router.get("/contracts/{contract_id}/kpis")
def contract_kpis(request: Request, contract_id: int, session: ReadSession, a: Reader) -> ContractKpisOut:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    with i18n.use_locale(request.state.locale):
        return _kpis_out(session, c)


@router.post("/contracts/{contract_id}/kpis", status_code=201)
def add_kpi(contract_id: int, body: KpiIn, session: WriteSession, a: Keeper) -> KpiOut:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    return kpi_out(svc.add(session, actor=a.actor, contract=c, data=body))


@router.put("/contracts/{contract_id}/kpis/{kpi_id}")
def update_kpi(contract_id: int, kpi_id: int, body: KpiIn, session: WriteSession, a: Keeper) -> KpiOut:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    k = svc.get(session, contract=c, kpi_id=kpi_id)
    return kpi_out(svc.update(session, actor=a.actor, contract=c, kpi=k, data=body))


@router.delete("/contracts/{contract_id}/kpis/{kpi_id}", status_code=204, response_class=Response)
def delete_kpi(contract_id: int, kpi_id: int, session: WriteSession, a: Keeper) -> Response:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    svc.delete(session, actor=a.actor, contract=c, kpi=svc.get(session, contract=c, kpi_id=kpi_id))
    return Response(status_code=204)


@router.get("/assessments")
def list_assessments(
    request: Request,
    session: ReadSession,
    a: Reader,
    contract: Annotated[int | None, Query(ge=1)] = None,
    state: AssessmentState | None = None,
    period: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Paged[AssessmentOut]:
    rows, total = assess_svc.listing(session, actor=a.actor, contract_id=contract, state=state,
                                     period_start=period, limit=limit, offset=offset)  # fmt: skip
    with i18n.use_locale(request.state.locale):
        items = [assessment_out(session, x, c) for x, c in rows]
    return Paged(items=items, total=total, limit=limit, offset=offset)


@router.get("/assessments/{assessment_id}")
def get_assessment(request: Request, assessment_id: int, session: ReadSession, a: Reader) -> AssessmentOut:
    x = assess_svc.get(session, actor=a.actor, assessment_id=assessment_id)
    c = session.get_one(Contract, x.contract_id)
    with i18n.use_locale(request.state.locale):
        return assessment_out(session, x, c, full=True)


@router.post("/contracts/{contract_id}/assess")
def assess_now(request: Request, contract_id: int, body: AssessIn, session: WriteSession, a: Assessor) -> AssessmentOut:
    c = svc.contract(session, actor=a.actor, contract_id=contract_id)
    x = assess_svc.assess(session, actor=a.actor, contract=c, period_start=body.period_start, now=utcnow(),
                          reason=body.reason)  # fmt: skip
    with i18n.use_locale(request.state.locale):
        return assessment_out(session, x, c, full=True)


@router.post("/assessments/{assessment_id}/approve")
def approve(request: Request, assessment_id: int, session: WriteSession, a: Assessor) -> AssessmentOut:
    x = assess_svc.get(session, actor=a.actor, assessment_id=assessment_id)
    assess_svc.approve(session, actor=a.actor, assessment=x, now=utcnow())
    c = session.get_one(Contract, x.contract_id)
    with i18n.use_locale(request.state.locale):
        return assessment_out(session, x, c, full=True)
