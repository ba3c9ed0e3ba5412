"""The matter catalogue under /api/v1/services/matters.

Published matters are public; drafts, withdrawn matters, versions and every write need
``services.catalogue.manage``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from starlette.responses import Response

from countyos.core import tabular
from countyos.core.paging import Paged
from countyos.core.tabular import XLSX_MEDIA_TYPE
from countyos.services import schemas
from countyos.services.api.common import Anyone, Manager, Page, PathId, can_manage
from countyos.services.codes import Audience, MatterType
from countyos.services.models import Matter, MatterStatus
from countyos.services.service import catalogue, excel, search
from countyos.web.deps import ReadSession, WriteSession
from countyos.web.forms import read_upload

router = APIRouter()


def summary(e: search.Entry) -> schemas.MatterSummary:
    return schemas.MatterSummary.model_validate(e, from_attributes=True)


def matter_out(session: Any, m: Matter, *, with_versions: bool = False) -> schemas.MatterOut:
    return schemas.MatterOut(
        id=m.id,
        code=m.code,
        basic_code=m.basic_code,
        status=m.status,
        published_at=m.published_at,
        withdrawn_at=m.withdrawn_at,
        current=schemas.VersionOut.model_validate(catalogue.current(m)),
        versions=[schemas.VersionOut.model_validate(v) for v in catalogue.versions(session, matter_id=m.id)]
        if with_versions
        else None,
    )


@router.get("/matters", response_model=Paged[schemas.MatterSummary])
def list_matters(
    session: ReadSession,
    a: Anyone,
    page: Page,
    q: Annotated[str | None, Query(max_length=40)] = None,
    theme: Annotated[str | None, Query(max_length=100)] = None,
    department_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    audience: Audience | None = None,
    matter_type: MatterType | None = None,
    status: MatterStatus | None = None,
) -> Paged[schemas.MatterSummary]:
    """Search the catalogue: name, pinyin initials or full pinyin, code; theme, department, audience,
    matter type. The public sees published matters only; managers may ask for any status."""
    if not can_manage(a):
        status = MatterStatus.PUBLISHED
    f = search.MatterFilter(
        q=q,
        theme=theme,
        department_id=department_id,
        audience=str(audience) if audience else None,
        matter_type=str(matter_type) if matter_type else None,
        status=status,
    )
    rows, total = search.search(session, f, page)
    return Paged(items=[summary(e) for e in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/matters/export.xlsx", response_class=Response)
def export_matters(session: ReadSession, a: Manager) -> Response:
    """The whole catalogue as Excel with the standard's Chinese headers (the import reads it back)."""
    return Response(
        excel.export_workbook(session),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="matters.xlsx"'},
    )


@router.get("/matters/{matter_id}", response_model=schemas.MatterOut)
def get_matter(matter_id: PathId, session: ReadSession, a: Anyone, versions: bool = False) -> schemas.MatterOut:
    """A matter's guide (its current version); managers also see drafts and, with ``versions=true``,
    every version."""
    if can_manage(a):
        return matter_out(session, catalogue.get(session, matter_id=matter_id), with_versions=versions)
    return matter_out(session, catalogue.get_published(session, matter_id=matter_id))


@router.post("/matters", response_model=schemas.MatterOut, status_code=201)
def create_matter(body: schemas.MatterIn, session: WriteSession, a: Manager) -> schemas.MatterOut:
    return matter_out(session, catalogue.create(session, actor=a.actor, data=body))


@router.put("/matters/{matter_id}", response_model=schemas.MatterOut)
def edit_matter(matter_id: PathId, body: schemas.MatterIn, session: WriteSession, a: Manager) -> schemas.MatterOut:
    """A new version of the matter (none when nothing changed)."""
    matter, _changed = catalogue.edit(session, actor=a.actor, matter_id=matter_id, data=body)
    return matter_out(session, matter)


@router.post("/matters/{matter_id}/publish", response_model=schemas.MatterOut)
def publish_matter(matter_id: PathId, session: WriteSession, a: Manager) -> schemas.MatterOut:
    return matter_out(session, catalogue.publish(session, actor=a.actor, matter_id=matter_id))


@router.post("/matters/{matter_id}/withdraw", response_model=schemas.MatterOut)
def withdraw_matter(matter_id: PathId, session: WriteSession, a: Manager) -> schemas.MatterOut:
    return matter_out(session, catalogue.withdraw(session, actor=a.actor, matter_id=matter_id))


@router.post("/matters/import", response_model=schemas.ImportReportOut)
def import_matters(
    session: WriteSession,
    a: Manager,
    file: Annotated[UploadFile, File()],
    skip_bad_rows: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """Import a catalogue workbook (the standard's Chinese headers); the per-row report. A bad row
    rejects the whole file unless ``skip_bad_rows``."""
    data = read_upload(file, excel.MAX_FILE_BYTES)
    report = excel.import_workbook(session, actor=a.actor, data=data, skip_bad_rows=skip_bad_rows)
    if not report.applied:
        raise tabular.refusal(report.problems)
    return report.as_dict()
