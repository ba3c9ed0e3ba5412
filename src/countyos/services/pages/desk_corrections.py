"""补正 at the desk: ``/services/desk/corrections/{id}`` — the agent who submitted an application, or a
window clerk, brings the corrected materials (received, form, count and a scan or photo per material)
and resubmits it through ``applications.act``; the form comes back with what was typed on a refusal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.services.lifecycle import Action
from countyos.services.models import Application, MaterialForm
from countyos.services.pages import desk as desk_pages
from countyos.services.schemas import MAX_ID, ResubmitIn
from countyos.services.service import applications, desk
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated
from countyos.web.errors import FIELD_MESSAGES
from countyos.web.forms import PostedForm
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Staff = Annotated[Auth, Depends(authenticated)]
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
NAV: list[Any] = []


def _values_of(app: Application) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in app.materials:
        out[f"mat-{m.material_id}-received"] = "1" if m.received else ""
        out[f"mat-{m.material_id}-form"] = str(m.form) if m.form else ""
        out[f"mat-{m.material_id}-count"] = str(m.count) if m.received else ""
    return out


def _page(
    request: Request,
    session: Session,
    a: Auth,
    app_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    desk_pages._desk_user(a)
    app = applications.get(session, actor=a.actor, application_id=app_id)
    if str(Action.RESUBMIT) not in applications.allowed_actions(session, a.actor, app):
        raise NotFound(N_("This application is not waiting for corrected materials"))
    return templates(request).render(
        request,
        "services/desk/corrections.html",
        {
            "app": app,
            "v": applications.version_of(session, app),
            "notice": desk.correction_notice(session, app),
            "values": values if values is not None else _values_of(app),
            "errors": errors or {},
            "message": message,
            "material_forms": list(MaterialForm),
            "max_file_mb": applications.MAX_FILE_BYTES // 1_000_000,
            **desk_pages.LABELS,
        },
        status_code=status_code,
    )


@router.get("/services/desk/corrections/{application_id}")
def corrections_page(request: Request, application_id: AppId, session: ReadSession, a: Staff) -> Response:
    """The materials of an application waiting for corrections, with what the notice asked for."""
    return _page(request, session, a, application_id)


@router.post("/services/desk/corrections/{application_id}")
def resubmit(request: Request, application_id: AppId, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    """Keep the files, then resubmit with the materials as ticked (a file counts as received)."""
    desk_pages._desk_user(a)
    app = applications.get(session, actor=a.actor, application_id=application_id)
    version = applications.version_of(session, app)
    values: dict[str, str] = {}
    for m in app.materials:
        for part in ("received", "form", "count"):
            value = form.get(f"mat-{m.material_id}-{part}")
            values[f"mat-{m.material_id}-{part}"] = value if isinstance(value, str) else ""
    raw = form.get("version")
    errors: dict[str, str] = {}
    try:
        files = desk_pages._files(form, version)
        with_file = {material_id for material_id, _, _ in files}
        materials = []
        for m in app.materials:
            p = f"mat-{m.material_id}-"
            received = values[p + "received"] == "1" or m.material_id in with_file
            count = values[p + "count"].strip() or ("1" if received else "0")
            guide = next((g for g in version.materials if g.id == m.material_id), None)
            usual = MaterialForm.ORIGINAL if guide is None or guide.originals else MaterialForm.COPY
            form_value = values[p + "form"] or (
                str(MaterialForm.ELECTRONIC) if m.material_id in with_file else str(usual) if received else None
            )
            materials.append({"material_id": m.material_id, "received": received, "form": form_value, "count": count})
        try:
            data = ResubmitIn.model_validate(
                {"version": raw if isinstance(raw, str) and raw.isdigit() else 0, "materials": materials}
            )
        except PydanticValidationError as exc:
            for e in exc.errors():
                loc = [str(x) for x in e["loc"]]
                if len(loc) >= 3 and loc[0] == "materials" and loc[1].isdigit() and int(loc[1]) < len(app.materials):
                    name = f"mat-{app.materials[int(loc[1])].material_id}-{loc[2]}"
                else:
                    name = loc[0] if loc else ""
                errors.setdefault(name, translate(request, FIELD_MESSAGES.get(e["type"], N_("Not valid"))))
            raise ValidationFailed(N_("Please correct the marked fields")) from exc
        for material_id, blob, name in files:
            applications.attach_material(
                session, actor=a.actor, application_id=app.id, material_id=material_id, data=blob, name=name
            )
        done = applications.act(session, actor=a.actor, application_id=app.id, action=Action.RESUBMIT, data=data)
    except CountyError as exc:
        session.rollback()
        for e in getattr(exc, "errors", None) or []:
            errors.setdefault(str(e.get("field") or ""), str(e.get("message") or ""))
        if any(
            isinstance(f := form.get(f"mat-{m.material_id}-file"), UploadFile) and f.filename for m in app.materials
        ):
            errors.setdefault("files", translate(request, N_("Choose the files again before submitting")))
        return _page(
            request,
            session,
            a,
            application_id,
            values=values,
            errors=errors,
            message=exc.message,
            status_code=exc.status,
        )
    return redirect(
        f"/services/desk?done={done.id}",
        flash=translate(request, "Corrected materials submitted: %(number)s", number=done.number),
    )
