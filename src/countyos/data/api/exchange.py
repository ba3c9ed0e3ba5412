"""The resource catalogue as an Excel workbook under /api/v1/data (the 目录编制指南's Chinese headers).

``GET /resources.xlsx`` exports what the caller may see (as ``GET /resources`` lists it);
``POST /resources/import`` imports a workbook and answers the per-row report, or 422 with the
problems when a bad row rejected the file (``skip_bad_rows`` imports the good rows).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core import tabular
from countyos.core.actor import Actor
from countyos.core.tabular import XLSX_MEDIA_TYPE
from countyos.data.models import Resource
from countyos.data.service import catalogue, excel
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.forms import read_upload

router = APIRouter(tags=["data"])  # included by the data API router, under its prefix
Person = Annotated[Auth, Depends(authenticated)]
Provider = Annotated[Auth, Depends(require(catalogue.MANAGE))]
MAX_PROBLEMS = 500  # listed in a refusal


class ImportRowOut(BaseModel):
    row: int
    code: str
    title: str
    result: str  # created | updated | unchanged | skipped


class ImportProblemOut(BaseModel):
    sheet: str
    row: int
    column: str | None
    message: str


class ImportReportOut(BaseModel):
    applied: bool
    created: int
    updated: int
    unchanged: int
    skipped: int
    rows: list[ImportRowOut]
    problems: list[ImportProblemOut]


def visible_resources(session: Session, actor: Actor) -> list[Resource]:
    """Every entry ACTOR may see (``catalogue.listing``), page by page, up to what one import reads."""
    out: list[Resource] = []
    while len(out) < excel.MAX_ROWS:
        rows, total = catalogue.listing(session, actor=actor, limit=catalogue.MAX_PAGE, offset=len(out))
        out.extend(rows)
        if not rows or len(out) >= total:
            break
    return out[: excel.MAX_ROWS]


@router.get("/resources.xlsx", response_class=Response)
def export_resources(session: ReadSession, a: Person) -> Response:
    """The catalogue the caller may see as Excel with the Chinese headers (the import reads it back)."""
    return Response(
        excel.export_workbook(session, visible_resources(session, a.actor)),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="resources.xlsx"'},
    )


@router.post("/resources/import", response_model=ImportReportOut)
def import_resources(
    session: WriteSession,
    a: Provider,
    file: Annotated[UploadFile, File(description="an .xlsx workbook: 信息资源, 信息项, 质量规则")],
    skip_bad_rows: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Import a catalogue workbook; the per-row report. A bad row rejects the whole file (422, nothing
    written) unless ``skip_bad_rows``."""
    data = read_upload(file, excel.MAX_FILE_BYTES)
    report = excel.import_workbook(session, actor=a.actor, data=data, skip_bad_rows=skip_bad_rows)
    if not report.applied:
        raise tabular.refusal(report.problems, MAX_PROBLEMS)
    return report.as_dict()
