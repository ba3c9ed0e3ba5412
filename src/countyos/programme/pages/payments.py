"""The payment table pages: ``/programme/payments`` (a contract's periods or a year's, with the sums and
the finance role's actions: lock one or all approved, return an approved one for recomputing, adjust or
reassess a locked one — each change with a reason), ``/programme/assessments/{id}/amendments`` (the changes
with their reasons), the exports, and the forms posted
from the payment block of the assessment page (``programme/payments/_assessment_block.html``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.clock import county_today
from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme.models.kpis import Assessment
from countyos.programme.permissions import FINANCE, READ
from countyos.programme.schemas.payments import AmendIn, ReturnIn
from countyos.programme.service import kpis, kpis_lifecycle, payments, payments_export, payments_lock, payments_table
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
PROGRAMME = N_("Programme")
NAV = [NavItem(PROGRAMME, N_("Payment table"), "/programme/payments", READ, order=930)]
Reader = Annotated[Auth, Depends(require(READ))]
Finance = Annotated[Auth, Depends(require(FINANCE))]
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ContractQ = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
YearQ = Annotated[int | None, Query(ge=2000, le=2100)]
LOCKED = N_("The payment is locked")
LOCKED_ALL = N_("%(n)s approved periods locked")
AMENDED = N_("The change to the locked payment is recorded")
RETURNED = N_("The assessment is returned for recomputing")

audit.name_codes(
    actions={
        "programme.payments.lock": N_("Locked a payment of the payment table"),
        "programme.payments.amend": N_("Changed a locked payment with a reason"),
        "programme.payments.return": N_("Returned an approved assessment for recomputing"),
    },
    targets={"programme_assessment": N_("Programme assessment")},
)


def context() -> dict[str, Any]:
    """What the payment templates use (the include block too)."""
    return {
        "yuan": payments.yuan,
        "state_labels": kpis_lifecycle.STATE_LABELS,
        "what_labels": payments_lock.WHAT_LABELS,
        "period_text": payments_export.period_text,
        "steps_words": payments_table.steps_words,
    }


def block(request: Request, session: Session, assessment: Assessment, form: Refused | None = None) -> dict[str, Any]:
    """``payment_block`` for ``programme/payments/_assessment_block.html`` on the assessment page."""
    found = payments_lock.amendments(session, assessment_ids=[assessment.id])[assessment.id]
    contract = payments_table.contract_of(session, assessment)
    with i18n.use_locale(_locale(request)):
        steps = payments_table.steps_words(assessment.breakdown or {})
        formula = payments_table.formula_words(payments.formula_of(contract))
    return {
        "steps": steps,
        "formula": formula,
        "amendments": found,
        "people": payments_table.people(session, user_ids=[r.by_id for r in found]),
        "yuan": payments.yuan,
        "what_labels": payments_lock.WHAT_LABELS,
        "form": form or Refused.empty(),
    }


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", i18n.DEFAULT_LOCALE))


def _page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    contract: int | None,
    year: int | None,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    if contract is None and year is None:
        year = county_today().year
    t = payments_table.table(session, actor=a.actor, contract_id=contract, year=year)
    with i18n.use_locale(_locale(request)):
        words = payments_table.formula_words(payments.formula_of(t.contract)) if t.contract else []
    return templates(request).render(
        request,
        "programme/payments/index.html",
        {
            "table": t,
            "contract_id": contract,
            "year": year,
            "years": list(range(county_today().year + 1, county_today().year - 6, -1)),
            "contracts": payments_table.contracts(session, actor=a.actor),
            "formula_words": words,
            "form": form or Refused.empty(),
            "query": f"contract={contract}" if contract else f"year={year}",
            **context(),
        },
        status_code=status,
    )


@router.get("/programme/payments")
def index(
    request: Request, session: ReadSession, a: Reader, contract: ContractQ = None, year: YearQ = None
) -> Response:
    return _page(request, session, a, contract=contract, year=year)


@router.get("/programme/payments.xlsx")
def export_xlsx(
    request: Request, session: ReadSession, a: Reader, contract: ContractQ = None, year: YearQ = None
) -> Response:
    data = payments_export.report_data(session, actor=a.actor, contract_id=contract, year=year or _year(contract))
    return Response(
        payments_export.render_xlsx(data, _locale(request)),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{data["filename"]}.xlsx"'},
    )


@router.get("/programme/payments.pdf")
def export_pdf(
    request: Request, session: ReadSession, a: Reader, contract: ContractQ = None, year: YearQ = None
) -> Response:
    data = payments_export.report_data(session, actor=a.actor, contract_id=contract, year=year or _year(contract))
    return Response(
        payments_export.render_pdf(data, _locale(request)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{data["filename"]}.pdf"'},
    )


def _year(contract: int | None) -> int | None:
    return None if contract else county_today().year


def _next(form: Any, assessment: Assessment) -> str:
    """Where to go after an action: the page it was posted from when that is a programme page, else the
    contract's payment table."""
    target = form.get("next")
    if isinstance(target, str) and target.startswith("/programme/") and "//" not in target and "\\" not in target:
        return target
    return f"/programme/payments?contract={assessment.contract_id}"


def _refused(request: Request, session: Session, a: Auth, assessment: Assessment, refused: Refused) -> Response:
    contract_id = assessment.contract_id
    return _page(request, session, a, contract=contract_id, year=None, form=refused, status=refused.status)


@router.post("/programme/assessments/{assessment_id}/lock")
def lock(request: Request, session: WriteSession, a: Finance, assessment_id: PathId, form: PostedForm) -> Response:
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    try:
        payments_lock.lock(session, actor=a.actor, assessment=row)
    except CountyError as exc:
        session.rollback()
        row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
        return _refused(request, session, a, row, Refused.of(request, exc, {"id": assessment_id}, "lock"))
    return redirect(_next(form, row), flash=translate(request, LOCKED))


@router.post("/programme/payments/lock-all")
def lock_all(request: Request, session: WriteSession, a: Finance, form: PostedForm) -> Response:
    raw = form.get("contract")
    contract_id = int(raw) if isinstance(raw, str) and raw.isdigit() and 0 < int(raw) < 2**31 else 0
    if not contract_id:
        raise ValidationFailed.on_field("contract", N_("Choose a contract or a year"))
    contract = kpis.contract(session, actor=a.actor, contract_id=contract_id)
    n = payments_lock.lock_all(session, actor=a.actor, contract=contract)
    return redirect(f"/programme/payments?contract={contract_id}", flash=translate(request, LOCKED_ALL, n=n))


AMEND_FIELDS = ("reason", "payable_yuan")


def fen_from_yuan(text: str) -> int:
    """Yuan as typed ("12,345.6") in fen; refused on ``payable_yuan`` when not an amount."""
    try:
        amount = Decimal(text.replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 10**11:
        raise ValidationFailed.on_field("payable_yuan", N_("Enter an amount in yuan with at most two decimals"))
    return int(amount * 100)


def _amend(request: Request, session: Session, a: Auth, assessment_id: int, form: Any, *, recompute: bool) -> Response:
    values = forms.typed(form, AMEND_FIELDS)
    which = f"{'reassess' if recompute else 'adjust'}-{assessment_id}"
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    try:
        payable = None if recompute else fen_from_yuan(values["payable_yuan"])
        body = AmendIn.model_validate({"reason": values["reason"], "payable_fen": payable, "recompute": recompute})
        payments_lock.amend(session, actor=a.actor, assessment=row, **body.model_dump())
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which)
        if "payable_fen" in refused.errors:
            refused.errors["payable_yuan"] = refused.errors.pop("payable_fen")
        row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
        return _refused(request, session, a, row, refused)
    return redirect(_next(form, row), flash=translate(request, AMENDED))


@router.post("/programme/assessments/{assessment_id}/adjust")
def adjust(request: Request, session: WriteSession, a: Finance, assessment_id: PathId, form: PostedForm) -> Response:
    return _amend(request, session, a, assessment_id, form, recompute=False)


@router.post("/programme/assessments/{assessment_id}/reassess")
def reassess(request: Request, session: WriteSession, a: Finance, assessment_id: PathId, form: PostedForm) -> Response:
    return _amend(request, session, a, assessment_id, form, recompute=True)


@router.post("/programme/assessments/{assessment_id}/return")
def give_back(request: Request, session: WriteSession, a: Finance, assessment_id: PathId, form: PostedForm) -> Response:
    values = forms.typed(form, ("reason",))
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    try:
        body = ReturnIn.model_validate(values)
        payments_lock.give_back(session, actor=a.actor, assessment=row, reason=body.reason)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, f"return-{assessment_id}")
        row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
        return _refused(request, session, a, row, refused)
    return redirect(_next(form, row), flash=translate(request, RETURNED))


@router.get("/programme/assessments/{assessment_id}/amendments")
def amendments(request: Request, session: ReadSession, a: Reader, assessment_id: PathId) -> Response:
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    contract = kpis.contract(session, actor=a.actor, contract_id=row.contract_id)
    found = payments_lock.amendments(session, assessment_ids=[row.id])[row.id]
    return templates(request).render(
        request,
        "programme/payments/amendments.html",
        {
            "assessment": row,
            "contract": contract,
            "amendments": found,
            "people": payments_table.people(session, user_ids=[r.by_id for r in found]),
            **context(),
        },
    )
