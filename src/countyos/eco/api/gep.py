"""GEP accounts under /api/v1/eco/gep: inputs (entered, imported), parameter sets, runs and their reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.tabular import XLSX_MEDIA_TYPE
from countyos.eco.models.gep import GepInput
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.schemas.gep import MAX_YEAR, MIN_YEAR, GepInputIn, GepRunIn
from countyos.eco.service import gep, gep_inputs, gep_parameters, gep_report
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import read_upload

router = APIRouter(prefix="/gep")
Reader = Annotated[Auth, Depends(require(ACCOUNTS_READ))]
Manager = Annotated[Auth, Depends(require(ACCOUNTS_MANAGE))]
Year = Annotated[int, Query(ge=MIN_YEAR, le=MAX_YEAR)]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UPLOAD_LIMIT = 5_000_000


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", i18n.DEFAULT_LOCALE))


def input_out(r: GepInput) -> dict[str, Any]:
    return {
        "id": r.id,
        "year": r.year,
        "code": r.code,
        "class_code": r.class_code,
        "division_code": r.division_code,
        "value": r.value,
        "unit": r.unit,
        "source": str(r.source),
        "source_ref": r.source_ref,
        "note": r.note,
        "version": r.version,
        "current": r.current,
        "entered_by": r.entered_by,
        "entered_at": r.entered_at,
    }


@router.get("/inputs")
def list_inputs(session: ReadSession, _: Reader, year: Year, all_versions: bool = False) -> list[dict[str, Any]]:
    """The year's current inputs (every version with ``all_versions``)."""
    rows = gep_inputs.history(session, year=year) if all_versions else gep_inputs.current(session, year=year)
    return [input_out(r) for r in rows]


@router.post("/inputs", status_code=201)
def create_input(session: WriteSession, a: Manager, body: GepInputIn) -> dict[str, Any]:
    """Enter a figure: a new version when it differs from the current one (``created`` false when not)."""
    row, created = gep_inputs.record(session, actor=a.actor, **body.model_dump())
    return {**input_out(row), "created": created}


@router.post("/inputs/import")
def import_inputs(session: WriteSession, a: Manager, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Import inputs from a workbook (年份, 指标代码, 生态系统类型, 数值, 来源类型, 来源说明, 行政区划代码, 备注):
    all rows or none, with the report of each row."""
    data = read_upload(file, UPLOAD_LIMIT)
    report = gep_inputs.import_workbook(session, actor=a.actor, data=data, filename=file.filename or "upload.xlsx")
    return {"rows": report.rows, "changed": report.created}


@router.get("/parameters")
def parameters(_: Reader, version: Annotated[str | None, Query(pattern=r"^v\d{1,4}$")] = None) -> dict[str, Any]:
    """A parameter set (the newest without ``version``) and the versions installed."""
    return {**gep_parameters.load(version).summary(), "versions": gep_parameters.versions()}


@router.post("/runs", status_code=201)
def create_run(session: WriteSession, a: Manager, body: GepRunIn, response: Response) -> dict[str, Any]:
    """Run the year's accounts: the latest report when its inputs and parameters are unchanged (200,
    ``created`` false), else a new version (201)."""
    run, created = gep.run(session, actor=a.actor, year=body.year, parameter_version=body.parameter_version)
    if not created:
        response.status_code = 200
    return {**gep.summary(session, run=run), "created": created}


@router.get("/runs")
def list_runs(
    session: ReadSession, _: Reader, year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR)] = None
) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "year": r.year,
            "version": r.version,
            "parameter_version": r.parameter_version,
            "gep": r.gep,
            "material": r.material,
            "regulating": r.regulating,
            "cultural": r.cultural,
            "gdp": r.gdp,
            "complete": r.complete,
            "created_at": r.created_at,
            "created_by": r.created_by,
        }
        for r in gep.list_runs(session, year=year)
    ]


@router.get("/runs/{run_id}.pdf", response_class=Response)
def run_pdf(request: Request, session: ReadSession, _: Reader, run_id: RunId) -> Response:
    data = gep_report.report_data(session, run=gep.get(session, run_id=run_id))
    return Response(
        gep_report.render_pdf(data, _locale(request)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="gep-{data["year"]}-v{data["version"]}.pdf"'},
    )


@router.get("/runs/{run_id}.xlsx", response_class=Response)
def run_xlsx(request: Request, session: ReadSession, _: Reader, run_id: RunId) -> Response:
    data = gep_report.report_data(session, run=gep.get(session, run_id=run_id))
    return Response(
        gep_report.render_xlsx(data, _locale(request)),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="gep-{data["year"]}-v{data["version"]}.xlsx"'},
    )


@router.get("/runs/{run_id}")
def get_run(session: ReadSession, _: Reader, run_id: RunId) -> dict[str, Any]:
    return gep.summary(session, run=gep.get(session, run_id=run_id))
