"""Applications (办件) under /api/v1/services/applications: create, list, read, act, materials."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Query, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from starlette.responses import FileResponse, Response

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.paging import Paged
from countyos.services import deadlines, lifecycle, schemas
from countyos.services.api.common import Page, PathId, Person
from countyos.services.lifecycle import Action, Role, State
from countyos.services.models import Application
from countyos.services.service import applications
from countyos.web.deps import ReadSession, WriteSession
from countyos.web.forms import read_upload

router = APIRouter()


# ── Applications (办件) ──────────────────────────────────────────────────────────────────────────────

MAX_ACTION_BODY_KEYS = 20


def application_out(session: Any, actor: Any, app: Application) -> schemas.ApplicationOut:
    version = applications.version_of(session, app)
    names = _names(session, app)
    return schemas.ApplicationOut(
        id=app.id,
        number=app.number,
        matter_id=app.matter_id,
        matter_name=version.name,
        matter_version=version.number,
        applicant_name=app.applicant_name,
        state=State(app.state),
        step=app.step,
        version=app.version,
        submitted_at=app.submitted_at,
        accepted_at=app.accepted_at,
        due_at=app.due_at,
        department_id=app.department_id,
        applicant_kind=app.applicant_kind,
        id_type=app.id_type,
        id_number=applications.shown_id_number(actor, app),
        phone=applications.shown_phone(actor, app),
        address=app.address if applications.sees_pii(actor, app) else None,
        source=app.source,
        submitted_role=Role(app.submitted_role),
        submitted_by_name=names.get(app.submitted_by_id),
        consent_by=app.consent_by,
        consent_way=app.consent_way,
        consent_at=app.consent_at,
        corrections=app.corrections,
        missing_materials=[m.name for m in applications.missing_materials(app)],
        receipt_number=app.receipt_number,
        rejection_reason=app.rejection_reason,
        decided_at=app.decided_at,
        decision=app.decision,
        result_name=app.result_name,
        result_number=app.result_number,
        result_valid_from=app.result_valid_from,
        result_valid_until=app.result_valid_until,
        delivery_method=app.delivery_method,
        tracking_number=app.tracking_number,
        delivered_at=app.delivered_at,
        clock=lifecycle.clock(app.state),
        due_level=deadlines.level(d) if (d := applications.deadline(session, app)) is not None else None,
        allowed_actions=[Action(a) for a in applications.allowed_actions(session, actor, app)],
        materials=[schemas.ApplicationMaterialOut.model_validate(m) for m in app.materials],
        steps=[
            schemas.ApplicationStepOut.model_validate(s).model_copy(
                update={
                    "name": gettext(s.name),
                    "handler_name": names.get(s.handler_id),
                    "department_name": names.get(("d", s.department_id)),
                }
            )
            for s in applications.steps_of(session, app)
        ],
        specials=[schemas.SpecialOut.model_validate(s) for s in applications.specials_of(session, app)],
    )


def _names(session: Any, app: Application) -> dict[Any, str]:
    """People and departments by name (never bare ids on screen)."""
    from countyos.org.models import Department, User

    steps = applications.steps_of(session, app)
    user_ids = {app.submitted_by_id, *(s.handler_id for s in steps)} - {None}
    dep_ids = {s.department_id for s in steps} - {None}
    out: dict[Any, str] = {}
    if user_ids:
        out.update({u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(user_ids)))})
    if dep_ids:
        out.update({("d", d.id): d.name for d in session.scalars(select(Department).where(Department.id.in_(dep_ids)))})
    return out


def _summary(session: Any, app: Application) -> schemas.ApplicationSummary:
    return schemas.ApplicationSummary(
        id=app.id,
        number=app.number,
        matter_id=app.matter_id,
        matter_name=applications.version_of(session, app).name,
        applicant_name=app.applicant_name,
        state=State(app.state),
        step=app.step,
        version=app.version,
        submitted_at=app.submitted_at,
        accepted_at=app.accepted_at,
        due_at=app.due_at,
        department_id=app.department_id,
    )


@router.post("/applications", response_model=schemas.ApplicationOut, status_code=201)
def create_application(body: schemas.ApplicationIn, session: WriteSession, a: Person) -> schemas.ApplicationOut:
    """A new application: online by the applicant's own account, at a window by staff
    (``services.application.window``), or by an agent (``services.application.agent``) with the
    applicant's recorded ``consent``. Submitted at once unless ``draft``."""
    app = applications.create(session, actor=a.actor, data=body)
    return application_out(session, a.actor, app)


@router.get("/applications", response_model=Paged[schemas.ApplicationSummary])
def list_applications(
    session: ReadSession,
    a: Person,
    page: Page,
    state: State | None = None,
    matter_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    number: Annotated[str | None, Query(max_length=50)] = None,
    inbox: bool = False,
) -> Paged[schemas.ApplicationSummary]:
    """Applications the caller may see (window and supervisors: all; a department: those with one of its
    steps; an agent: those they submitted; an applicant: their own). ``inbox``: waiting at the caller's
    department's step."""
    rows, total = applications.listing(
        session,
        actor=a.actor,
        state=state,
        matter_id=matter_id,
        number=number,
        inbox=inbox,
        limit=page.limit,
        offset=page.offset,
    )
    return Paged(items=[_summary(session, r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/applications/{application_id}", response_model=schemas.ApplicationOut)
def get_application(application_id: PathId, session: ReadSession, a: Person) -> schemas.ApplicationOut:
    app = applications.get(session, actor=a.actor, application_id=application_id)
    return application_out(session, a.actor, app)


@router.get("/applications/{application_id}/timeline", response_model=list[schemas.EventOut])
def application_timeline(application_id: PathId, session: ReadSession, a: Person) -> list[schemas.EventOut]:
    """Every applied action in order: who (by name), as which role, when, from and to."""
    app = applications.get(session, actor=a.actor, application_id=application_id)
    return [schemas.EventOut.model_validate(e) for e in applications.timeline(session, application_id=app.id)]


@router.post("/applications/{application_id}/actions/{action}", response_model=schemas.ApplicationOut)
def application_action(
    application_id: PathId,
    action: Action,
    session: WriteSession,
    a: Person,
    body: Annotated[dict[str, Any], Body()],
) -> schemas.ApplicationOut:
    """Take an action. The body is the action's model (``schemas.ACTION_MODELS``) and always carries the
    ``version`` you saw. 409 ``transition_not_allowed`` (not in this state) and 403 (not for you) list the
    ``allowed_actions``; 409 ``stale_version`` when someone else acted first."""
    if len(body) > MAX_ACTION_BODY_KEYS:
        raise ValidationFailed(N_("Too many fields"))
    try:
        data = schemas.ACTION_MODELS[action].model_validate(body)
    except PydanticValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    app = applications.act(session, actor=a.actor, application_id=application_id, action=action, data=data)
    return application_out(session, a.actor, app)


@router.post(
    "/applications/{application_id}/materials/{material_id}/file", response_model=schemas.ApplicationMaterialOut
)
def upload_material_file(
    application_id: PathId,
    material_id: PathId,
    session: WriteSession,
    a: Person,
    file: Annotated[UploadFile, File()],
) -> schemas.ApplicationMaterialOut:
    """A scan or the electronic file of one material (photo or PDF, at most 10 MB); it counts as received."""
    data = read_upload(file, applications.MAX_FILE_BYTES)
    row = applications.attach_material(
        session,
        actor=a.actor,
        application_id=application_id,
        material_id=material_id,
        data=data,
        name=(file.filename or "")[:200] or None,
    )
    return schemas.ApplicationMaterialOut.model_validate(row)


@router.get("/applications/{application_id}/materials/{material_id}/file", response_class=Response)
def get_material_file(application_id: PathId, material_id: PathId, session: ReadSession, a: Person) -> Response:
    path, media_type, _name = applications.material_file(
        session, actor=a.actor, application_id=application_id, material_id=material_id
    )
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "no-store", "Content-Disposition": "attachment"},
    )
