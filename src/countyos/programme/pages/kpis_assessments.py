"""Pages of the assessments: the list (``/programme/assessments``: contract, period, state, total, payable;
filters) and one assessment (``/programme/assessments/{id}``: each KPI's value with the links to the records
it counted, target, weight, score; the total; the payment block of the payments part; assess again, approve).
Operating-company staff see only their contracts' assessments."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import use_locale
from countyos.org.service import users
from countyos.programme import permissions as P
from countyos.programme.models.kpis import Assessment, AssessmentState
from countyos.programme.models.projects import Contract
from countyos.programme.pages.kpis_common import figure, rule_words, unit_of
from countyos.programme.schemas.kpis import AssessIn
from countyos.programme.service import kpis as svc
from countyos.programme.service import kpis_assess as assess_svc
from countyos.programme.service import kpis_catalogue as catalogue
from countyos.programme.service import kpis_lifecycle as lifecycle
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Reader = Annotated[Auth, Depends(require(P.READ))]
Assessor = Annotated[Auth, Depends(require(P.ASSESS))]
PAGE = 50


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d}"


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", "zh_CN"))


@router.get("/programme/assessments")
def assessments(
    request: Request,
    session: ReadSession,
    a: Reader,
    contract: Annotated[str | None, Query(max_length=12)] = None,
    state: Annotated[str | None, Query(max_length=12)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    cid = int(contract) if contract and contract.isdigit() else None
    st = AssessmentState(state) if state in {str(s) for s in AssessmentState} else None
    try:
        ps = date.fromisoformat(period) if period else None
    except ValueError:
        ps = None
    rows, total = assess_svc.listing(session, actor=a.actor, contract_id=cid, state=st, period_start=ps,
                                     limit=PAGE, offset=offset)  # fmt: skip
    contracts = list(session.scalars(select(Contract).where(svc.visible_contracts(session, a.actor))
                                     .order_by(Contract.code).limit(500)))  # fmt: skip
    starts = sorted(
        set(session.scalars(select(Assessment.period_start).join(Contract, Contract.id == Assessment.contract_id)
                            .where(svc.visible_contracts(session, a.actor)).distinct().limit(500))),
        reverse=True,
    )  # fmt: skip
    with use_locale(_locale(request)):
        periods = [(d.isoformat(), assess_svc.period_label("month", d)) for d in starts]
        labels = {x.id: assess_svc.period_label(c.period, x.period_start) for x, c in rows}
    return templates(request).render(
        request,
        "programme/kpis/assessments.html",
        {
            "rows": rows,
            "total": total,
            "offset": offset,
            "page": PAGE,
            "labels": labels,
            "contracts": contracts,
            "periods": periods,
            "states": lifecycle.STATE_LABELS,
            "chosen": {"contract": cid, "state": str(st) if st else "", "period": ps.isoformat() if ps else ""},
            "yuan": _yuan,
        },
    )


def _detail(
    request: Request, session: Session, a: Auth, x: Assessment, *, form: Refused | None = None, status: int = 200
) -> Response:
    c = session.get_one(Contract, x.contract_id)
    scores = assess_svc.scores_of(session, assessment_id=x.id)
    towns = dict(svc.townships(session))
    amendments = assess_svc.amendments_of(session, assessment_id=x.id)
    people = users.colleagues(session, user_ids=[x.approved_by_id, *(m.by_id for m in amendments)])
    payment_block: Any = None
    try:
        payments_pages: Any = importlib.import_module("countyos.programme.pages.payments")
        if hasattr(payments_pages, "block"):
            payment_block = payments_pages.block(request, session, x)
    except ImportError:  # pragma: no cover - the payments part not installed
        payment_block = None
    with use_locale(_locale(request)):
        label = assess_svc.period_label(c.period, x.period_start)
        rules = {k.id: rule_words(k.scoring or {}, unit_of(k.kpi)) for _s, k in scores}
    since, until = assess_svc.measured_days(c, x.period_start, x.period_end)
    ctx: dict[str, Any] = {
        "assessment": x,
        "contract": c,
        "label": label,
        "since": since,
        "until": until,
        "scores": scores,
        "by_code": catalogue.BY_CODE,
        "towns": towns,
        "unit_of": unit_of,
        "figure": figure,
        "rules": rules,
        "states": lifecycle.STATE_LABELS,
        "amendments": amendments,
        "people": {i: p.display_name for i, p in people.items()},
        "can_approve": lifecycle.APPROVE in lifecycle.allowed(x.state, a.actor),
        "form": form or Refused.empty(),
        "yuan": _yuan,
    }
    if payment_block is not None:
        ctx["payment_block"] = payment_block
    return templates(request).render(request, "programme/kpis/assessment.html", ctx, status_code=status)


@router.get("/programme/assessments/{assessment_id:int}")
def assessment(request: Request, assessment_id: int, session: ReadSession, a: Reader) -> Response:
    return _detail(request, session, a, assess_svc.get(session, actor=a.actor, assessment_id=assessment_id))


@router.post("/programme/assessments/{assessment_id:int}/assess")
def assess_again(
    request: Request, assessment_id: int, session: WriteSession, a: Assessor, form: PostedForm
) -> Response:
    x = assess_svc.get(session, actor=a.actor, assessment_id=assessment_id)
    values = forms.typed(form, ("reason",))
    try:
        body = forms.parse(AssessIn, {"period_start": x.period_start.isoformat(), **values})
        c = svc.contract(session, actor=a.actor, contract_id=x.contract_id)
        assess_svc.assess(session, actor=a.actor, contract=c, period_start=body.period_start, now=utcnow(),
                          reason=body.reason)  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="assess")
        if "" in refused.errors or not refused.errors:
            refused = Refused(refused.values, {"reason": refused.error or "", **refused.errors}, refused.error,
                              refused.status, "assess")  # fmt: skip
        x = assess_svc.get(session, actor=a.actor, assessment_id=assessment_id)
        return _detail(request, session, a, x, form=refused, status=refused.status)
    return redirect(f"/programme/assessments/{assessment_id}", flash=translate(request, "Assessed again"))


@router.post("/programme/assessments/{assessment_id:int}/approve")
def approve(request: Request, assessment_id: int, session: WriteSession, a: Assessor) -> Response:
    x = assess_svc.get(session, actor=a.actor, assessment_id=assessment_id)
    assess_svc.approve(session, actor=a.actor, assessment=x, now=utcnow())
    return redirect(f"/programme/assessments/{assessment_id}", flash=translate(request, "Assessment approved"))
