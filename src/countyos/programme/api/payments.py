"""The payment table under /api/v1/programme: rows by contract or year, lock, changes after locking (with a
reason) and their list; the table as Excel and PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import XLSX_MEDIA_TYPE
from countyos.programme.models.kpis import Amendment, Assessment
from countyos.programme.permissions import FINANCE, READ
from countyos.programme.schemas.payments import AmendIn, ReturnIn
from countyos.programme.service import payments_export, payments_lock, payments_table
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(READ))]
Finance = Annotated[Auth, Depends(require(FINANCE))]
AssessmentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ContractQ = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
YearQ = Annotated[int | None, Query(ge=2000, le=2100)]


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", i18n.DEFAULT_LOCALE))


def assessment_out(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.id,
        "contract_id": a.contract_id,
        "period_start": a.period_start,
        "period_end": a.period_end,
        "state": str(a.state),
        "total_score": a.total_score,
        "base_fen": a.base_fen,
        "deduction_fen": a.deduction_fen,
        "bonus_fen": a.bonus_fen,
        "payable_fen": a.payable_fen,
        "breakdown": a.breakdown,
        "approved_by_id": a.approved_by_id,
        "approved_at": a.approved_at,
        "locked_by_id": a.locked_by_id,
        "locked_at": a.locked_at,
    }


def amendment_out(r: Amendment) -> dict[str, Any]:
    return {
        "id": r.id,
        "assessment_id": r.assessment_id,
        "at": r.at,
        "by_id": r.by_id,
        "what": r.what,
        "reason": r.reason,
        "before": r.before,
        "after": r.after,
    }


def _one_of(contract: int | None, year: int | None) -> None:
    if contract is None and year is None:
        raise ValidationFailed.on_field("contract", N_("Choose a contract or a year"))


@router.get("/payments")
def payment_table(session: ReadSession, a: Reader, contract: ContractQ = None, year: YearQ = None) -> dict[str, Any]:
    """The payment table of a contract (every period) or of a year (every contract), with the sums."""
    _one_of(contract, year)
    t = payments_table.table(session, actor=a.actor, contract_id=contract, year=year)
    return {
        "rows": [
            {
                **assessment_out(r.assessment),
                "contract_code": r.contract.code,
                "party": r.party,
                "approved_by": r.approved_by,
                "locked_by": r.locked_by,
                "amendments": r.amendments,
            }
            for r in t.rows
        ],
        "sums": t.sums,
        "truncated": t.truncated,
    }


@router.get("/payments.xlsx", response_class=Response)
def payment_xlsx(
    request: Request, session: ReadSession, a: Reader, contract: ContractQ = None, year: YearQ = None
) -> Response:
    """The assessment and payment table as a workbook."""
    _one_of(contract, year)
    data = payments_export.report_data(session, actor=a.actor, contract_id=contract, year=year)
    return Response(
        payments_export.render_xlsx(data, _locale(request)),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{data["filename"]}.xlsx"'},
    )


@router.get("/payments.pdf", response_class=Response)
def payment_pdf(
    request: Request, session: ReadSession, a: Reader, contract: ContractQ = None, year: YearQ = None
) -> Response:
    """The assessment and payment table as a PDF."""
    _one_of(contract, year)
    data = payments_export.report_data(session, actor=a.actor, contract_id=contract, year=year)
    return Response(
        payments_export.render_pdf(data, _locale(request)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{data["filename"]}.pdf"'},
    )


@router.post("/assessments/{assessment_id}/lock")
def lock(session: WriteSession, a: Finance, assessment_id: AssessmentId) -> dict[str, Any]:
    """Lock an approved assessment's payment (finance role)."""
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    return assessment_out(payments_lock.lock(session, actor=a.actor, assessment=row))


@router.post("/assessments/{assessment_id}/amend", status_code=201)
def amend(session: WriteSession, a: Finance, assessment_id: AssessmentId, body: AmendIn) -> dict[str, Any]:
    """Change a locked assessment with a recorded reason: a new payable or a reassessment."""
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    done = payments_lock.amend(session, actor=a.actor, assessment=row, **body.model_dump())
    return {**amendment_out(done), "assessment": assessment_out(row)}


@router.post("/assessments/{assessment_id}/return")
def give_back(session: WriteSession, a: Finance, assessment_id: AssessmentId, body: ReturnIn) -> dict[str, Any]:
    """Return an approved assessment for recomputing, with a recorded reason (finance role)."""
    row = payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    done = payments_lock.give_back(session, actor=a.actor, assessment=row, reason=body.reason)
    return {**amendment_out(done), "assessment": assessment_out(row)}


@router.get("/assessments/{assessment_id}/amendments")
def amendments(session: ReadSession, a: Reader, assessment_id: AssessmentId) -> list[dict[str, Any]]:
    """The changes made to an assessment with their reasons (returned, adjusted, reassessed), oldest first."""
    payments_table.get_assessment(session, actor=a.actor, assessment_id=assessment_id)
    return [amendment_out(r) for r in payments_lock.amendments(session, assessment_ids=[assessment_id])[assessment_id]]
