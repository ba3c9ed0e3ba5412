"""Residents' and enterprises' own pages: apply online, follow, correct and withdraw (phone first).

``/services/matters/{id}/apply`` (a matter with 是否网办: the applicant's details pre-filled from the
account, one upload per material — a photo from the camera or a PDF — a declaration, submit),
``/services/my`` (the applicant's applications with the next thing to do) and ``/services/my/{id}``
(state, the 一次性告知 with an upload per missing material and 补正提交, the timeline in plain words,
the result and its delivery, withdraw while allowed, the rating link once decided). Only the applicant
(``applicant_user_id``) sees an application here; for anyone else it does not exist (404). Every page
takes ``?large=1`` (适老 large text). Everything needs ``services.application.apply`` (role ``resident``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from countyos.core.actor import Actor
from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.org.service import users
from countyos.services import codes, deadlines, lifecycle
from countyos.services.codes import Audience, HandlingForm
from countyos.services.lifecycle import Action, State
from countyos.services.models import Application, ApplicationEvent, IdType, MatterVersion
from countyos.services.pages.common import SERVICES
from countyos.services.schemas import MAX_ID, ApplicationIn, PlainActionIn, ResubmitIn
from countyos.services.service import applications, catalogue
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.forms import PostedForm
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
APPLY = applications.APPLY
Applicant = Annotated[Auth, Depends(require(APPLY))]
MatterId = Annotated[int, Path(ge=1, le=MAX_ID)]
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
MY_PAGE = 20
MAX_FILE_MB = applications.MAX_FILE_BYTES // 1_000_000

NAV = [
    NavItem(SERVICES, N_("Find a service"), "/services", APPLY, order=110),
    NavItem(SERVICES, N_("My applications"), "/services/my", APPLY, order=111),
]

# The audit log names every write on an application (applicants', agents', the window's, departments').

ID_TYPE_LABELS: dict[str, str] = {
    IdType.RESIDENT_ID: N_("Resident identity card"),
    IdType.PASSPORT: N_("Passport"),
    IdType.HK_MACAO_PERMIT: N_("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT: N_("Mainland travel permit for Taiwan residents"),
    IdType.FOREIGN_RESIDENT: N_("Foreigner's permanent residence ID card"),
    IdType.USCC: N_("Unified social credit code"),
    IdType.OTHER: N_("Other document"),
}
# What the applicant does next (or waits for), by state.
NEXT_STEP: dict[str, str] = {
    State.DRAFT: N_("Submit the application"),
    State.SUBMITTED: N_("Wait for the window to check and accept it"),
    State.CORRECTION_REQUESTED: N_("Upload the missing materials and resubmit"),
    State.REJECTED: N_("Not accepted: read the reason"),
    State.IN_PROGRESS: N_("Being handled by the departments"),
    State.SUPPLEMENT_REQUESTED: N_("Upload the supplementary materials and resubmit"),
    State.SPECIAL_PROCEDURE: N_("Wait: a special procedure is under way and its time does not count"),
    State.DECIDED: N_("Concluded: collect the result and rate the service"),
    State.DELIVERED: N_("Rate the service"),
    State.WITHDRAWN: N_("Nothing to do"),
}
# What the applicant's timeline leaves out: the staff's internal remarks.
INTERNAL = frozenset({Action.COMMENT, Action.SUPERVISE})
CORRECTING = (State.CORRECTION_REQUESTED, State.SUPPLEMENT_REQUESTED)
RATEABLE = (State.DECIDED, State.DELIVERED)
LABELS: dict[str, Any] = {
    "state_labels": lifecycle.LABELS,
    "action_labels": lifecycle.ACTION_LABELS,
    "role_labels": lifecycle.ROLE_LABELS,
    "decision_labels": lifecycle.DECISION_LABELS,
    "delivery_labels": lifecycle.DELIVERY_LABELS,
    "kind_labels": codes.LABELS[Audience],
    "id_type_labels": ID_TYPE_LABELS,
    "next_step": NEXT_STEP,
    "level_names": {"green": N_("On time"), "yellow": N_("Due soon"), "red": N_("Overdue")},
    "max_file_mb": MAX_FILE_MB,
}
FIELDS = ("applicant_name", "applicant_kind", "id_type", "id_number", "phone", "address")
ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"
ONLY_PHOTOS = "Only photos (JPEG, PNG, WebP, GIF) and PDF files can be attached"  # the attachment store's words


def _large(request: Request) -> bool:
    return request.query_params.get("large") == "1"


def _q(large: bool) -> str:
    return "?large=1" if large else ""


# -- apply ----------------------------------------------------------------------------------------


def _online_version(session: Session, matter_id: int) -> tuple[Any, MatterVersion]:
    matter = catalogue.get_published(session, matter_id=matter_id)
    return matter, catalogue.current(matter)


def _prefilled(session: Session, a: Auth, version: MatterVersion) -> dict[str, str]:
    """The applicant's details the account knows (name, phone); the rest is typed."""
    user = users.get(session, user_id=a.user.id)
    phone = users.cipher().decrypt(user.phone_enc) if user.phone_enc else ""
    kind = Audience.PERSON if Audience.PERSON in version.audiences else (version.audiences or [Audience.PERSON])[0]
    return {"applicant_name": user.display_name, "applicant_kind": str(kind), "id_type": str(IdType.RESIDENT_ID),
            "id_number": "", "phone": phone, "address": "", "declare": ""}  # fmt: skip


def _apply_page(
    request: Request,
    matter: Any,
    version: MatterVersion,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    kinds = [str(k) for k in version.audiences] or [str(Audience.PERSON)]
    return templates(request).render(
        request,
        "services/resident/apply.html",
        {
            "m": matter,
            "v": version,
            "values": values,
            "errors": errors or {},
            "error": error,
            "large": _large(request),
            "kinds": kinds,
            "accept": ACCEPT,
            **LABELS,
        },
        status_code=status,
    )


@router.get("/services/matters/{matter_id}/apply")
def apply_form(request: Request, matter_id: MatterId, session: ReadSession, a: Applicant) -> Response:
    """The online application form of a matter with 是否网办 (otherwise where to go instead)."""
    matter, version = _online_version(session, matter_id)
    return _apply_page(request, matter, version, _prefilled(session, a, version))


@dataclass
class Upload:
    """One material's file as chosen in a form (the camera or the file picker)."""

    material_id: int
    name: str
    data: bytes


def _uploads(
    request: Request, form: FormData, material_ids: list[int], errors: dict[str, str], *, required: frozenset[int]
) -> list[Upload]:
    """The files of the form, one per material, each checked (size, photo or PDF by its header) before
    anything is written; a problem goes beside its material's field. REQUIRED: materials that need one."""
    from countyos.cases.service import attachments

    out = []
    for mid in material_ids:
        chosen = [
            f
            for key in (f"file-{mid}", f"camera-{mid}")
            for f in form.getlist(key)
            if isinstance(f, UploadFile) and f.filename
        ]
        if not chosen:
            if mid in required:
                errors[f"file-{mid}"] = translate(request, "Upload this material")
            continue
        up = chosen[0]
        data = up.file.read(applications.MAX_FILE_BYTES + 1)
        if len(data) > applications.MAX_FILE_BYTES:
            errors[f"file-{mid}"] = translate(request, "A file may be at most %(mb)s MB", mb=MAX_FILE_MB)
        elif not data:
            errors[f"file-{mid}"] = translate(request, "The file is empty")
        elif attachments.sniff(data) is None:
            errors[f"file-{mid}"] = translate(request, ONLY_PHOTOS)
        else:
            out.append(Upload(mid, (up.filename or "")[:200], data))
    return out


def _source(request: Request) -> HandlingForm:
    agent = request.headers.get("user-agent", "")
    return HandlingForm.ONLINE_MOBILE if "Mobi" in agent or "Android" in agent else HandlingForm.ONLINE_PC


def _attach(session: Session, actor: Actor, app_id: int, uploads: list[Upload]) -> None:
    for up in uploads:
        applications.attach_material(
            session, actor=actor, application_id=app_id, material_id=up.material_id, data=up.data, name=up.name or None
        )


def _upload_errors(request: Request, exc: CountyError, uploads: list[Upload]) -> dict[str, str]:
    """A refusal of the attachment store belongs beside the file being stored when it failed."""
    errors = forms.field_errors(request, exc)
    if "" in errors and uploads:
        errors[f"file-{uploads[0].material_id}"] = errors.pop("")
    return errors


@router.post("/services/matters/{matter_id}/apply")
def apply_submit(
    request: Request, matter_id: MatterId, session: WriteSession, a: Applicant, form: PostedForm
) -> Response:
    """Check everything (fields, declaration, every file) first; then create, attach and submit in one
    transaction, so that a refused form leaves nothing behind and comes back as typed."""
    matter, version = _online_version(session, matter_id)
    values = {**forms.typed(form, FIELDS), "declare": "1" if form.get("declare") == "1" else ""}
    errors: dict[str, str] = {}
    data: ApplicationIn | None = None
    try:
        data = forms.parse(
            ApplicationIn, {**{k: values[k] for k in FIELDS}, "matter_id": matter.id, "source": _source(request)}
        )
    except PydanticValidationError as exc:
        errors.update(forms.field_errors(request, exc))
    if values["applicant_kind"] not in {str(k) for k in version.audiences}:
        errors.setdefault("applicant_kind", translate(request, "This matter is not for this kind of applicant"))
    if not values["declare"]:
        errors["declare"] = translate(request, "Confirm the declaration to submit")
    uploads = _uploads(request, form, [m.id for m in version.materials], errors, required=frozenset())
    if errors or data is None:
        top = translate(request, "Please correct the marked fields")
        return _apply_page(request, matter, version, values, errors=errors, error=top, status=422)
    stored: list[Upload] = []
    try:
        app = applications.create(session, actor=a.actor, data=data)
        for up in uploads:
            stored = [up]
            _attach(session, a.actor, app.id, [up])
    except CountyError as exc:
        session.rollback()
        errs = _upload_errors(request, exc, stored)
        top = errs.pop("", "") or translate(request, "Please correct the marked fields")
        return _apply_page(request, matter, version, values, errors=errs, error=top, status=exc.status)
    number = app.number
    return redirect(
        f"/services/my/{app.id}{_q(_large(request))}",
        flash=translate(request, "Submitted. Your application number is %(number)s", number=number),
    )


# -- my applications ------------------------------------------------------------------------------


def _mine(session: Session, actor: Actor, application_id: int) -> Application:
    """The applicant's own application; anyone else's does not exist for them."""
    app = session.get(Application, application_id)
    if app is None or actor.id is None or app.applicant_user_id != actor.id:
        raise NotFound(N_("No such application"))
    return app


def _step_name(version: MatterVersion, app: Application) -> str | None:
    if app.step is None or app.state not in (State.IN_PROGRESS, State.SPECIAL_PROCEDURE):
        return None
    return version.steps[app.step].name if app.step < len(version.steps) else None


@router.get("/services/my")
def my_list(
    request: Request,
    session: ReadSession,
    a: Applicant,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """The applicant's applications, newest first: number, matter, state, submitted, due, what next."""
    mine = select(Application).where(Application.applicant_user_id == a.actor.id)
    total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    rows = list(session.scalars(mine.order_by(Application.id.desc()).limit(MY_PAGE).offset(offset)))
    versions = {r.id: applications.version_of(session, r) for r in rows}
    return templates(request).render(
        request,
        "services/resident/my.html",
        {
            "rows": rows,
            "versions": versions,
            "steps": {r.id: _step_name(versions[r.id], r) for r in rows},
            "total": total,
            "limit": MY_PAGE,
            "offset": offset,
            "large": _large(request),
            **LABELS,
        },
    )


def _timeline(session: Session, app: Application) -> list[ApplicationEvent]:
    return [e for e in applications.timeline(session, application_id=app.id) if e.action not in INTERNAL]


def _detail_page(
    request: Request,
    session: Session,
    a: Auth,
    app: Application,
    *,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    version = applications.version_of(session, app)
    allowed = applications.allowed_actions(session, a.actor, app)
    d = applications.deadline(session, app)
    missing = applications.missing_materials(app)
    return templates(request).render(
        request,
        "services/resident/detail.html",
        {
            "app": app,
            "v": version,
            "events": _timeline(session, app),
            "handled": applications.steps_of(session, app),
            "dep_names": _dep_names(session),
            "step_name": _step_name(version, app),
            "steps": {i: s.name for i, s in enumerate(version.steps)},
            "missing": missing,
            "correcting": app.state in CORRECTING and Action.RESUBMIT in allowed,
            "can_withdraw": Action.WITHDRAW in allowed,
            "can_rate": app.state in RATEABLE,
            "due_level": deadlines.level(d) if d is not None else None,
            "id_number": applications.shown_id_number(a.actor, app),
            "phone": applications.shown_phone(a.actor, app),
            "errors": errors or {},
            "error": error,
            "values": values or {},
            "large": _large(request),
            "accept": ACCEPT,
            **LABELS,
        },
        status_code=status,
    )


def _dep_names(session: Session) -> dict[int, str]:
    from countyos.org.service import departments

    return {d.id: d.name for d in departments.all_active(session)}


@router.get("/services/my/{application_id}")
def my_detail(request: Request, application_id: AppId, session: ReadSession, a: Applicant) -> Response:
    """The applicant's view of one application."""
    return _detail_page(request, session, a, _mine(session, a.actor, application_id))


def _version_of_form(form: FormData) -> int:
    raw = form.get("version")
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) <= 9 else 0


@router.post("/services/my/{application_id}/resubmit")
def my_resubmit(
    request: Request, application_id: AppId, session: WriteSession, a: Applicant, form: PostedForm
) -> Response:
    """补正提交: a file for every material the notice lists, then resubmit — all or nothing."""
    app = _mine(session, a.actor, application_id)
    note = form.get("note")
    values = {"note": note if isinstance(note, str) else ""}
    missing = [m.material_id for m in applications.missing_materials(app)]
    errors: dict[str, str] = {}
    uploads = _uploads(request, form, missing, errors, required=frozenset(missing))
    try:
        body = ResubmitIn.model_validate({"version": _version_of_form(form), "note": values["note"] or None})
    except PydanticValidationError as exc:
        errors.update(forms.field_errors(request, exc))
        body = None
    if errors or body is None:
        return _detail_page(
            request, session, a, app, errors=errors, values=values, status=422,
            error=translate(request, "Please correct the marked fields"),
        )  # fmt: skip
    stored: list[Upload] = []
    try:
        for up in uploads:
            stored = [up]
            _attach(session, a.actor, app.id, [up])
        stored = []
        applications.act(session, actor=a.actor, application_id=app.id, action=Action.RESUBMIT, data=body)
    except CountyError as exc:
        session.rollback()
        app = _mine(session, a.actor, application_id)
        errs = _upload_errors(request, exc, stored)
        top = errs.pop("", "") or exc.message
        return _detail_page(request, session, a, app, errors=errs, error=top, values=values, status=exc.status)
    return redirect(
        f"/services/my/{application_id}{_q(_large(request))}",
        flash=translate(request, "The corrected materials were submitted"),
    )


@router.post("/services/my/{application_id}/withdraw")
def my_withdraw(
    request: Request, application_id: AppId, session: WriteSession, a: Applicant, form: PostedForm
) -> Response:
    """撤回 while the table allows it (before the decision); the reason is optional."""
    app = _mine(session, a.actor, application_id)
    reason = form.get("reason")
    values = {"reason": reason if isinstance(reason, str) else ""}
    try:
        body = PlainActionIn.model_validate({"version": _version_of_form(form), "note": values["reason"] or None})
        applications.act(session, actor=a.actor, application_id=app.id, action=Action.WITHDRAW, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        app = _mine(session, a.actor, application_id)
        errs = {("reason" if k == "note" else k): v for k, v in forms.field_errors(request, exc).items()}
        top = errs.pop("", "") or translate(request, "Please correct the marked fields")
        status = exc.status if isinstance(exc, CountyError) else 422
        return _detail_page(request, session, a, app, errors=errs, error=top, values=values, status=status)
    return redirect(
        f"/services/my/{application_id}{_q(_large(request))}", flash=translate(request, "The application was withdrawn")
    )
