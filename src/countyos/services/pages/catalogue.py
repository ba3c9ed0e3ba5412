"""The matter catalogue's pages.

Public, phone first and without login: ``/services`` (search the catalogue) and
``/services/matters/{id}`` (a published matter's guide); ``?large=1`` is the large-font (适老) mode.
Staff with ``services.catalogue.manage``: the list, the edit form (a new version on save; the form
comes back with what was typed and each message beside its field) and the Excel import with its
per-row report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.org.service import audit, departments, users
from countyos.services import codes
from countyos.services.codes import Audience, HandlingForm, MatterType
from countyos.services.models import Matter, MatterStatus, MatterVersion
from countyos.services.pages.common import SERVICES
from countyos.services.schemas import MAX_ID, MatterIn
from countyos.services.service import catalogue, excel, search
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
MANAGE = "services.catalogue.manage"
Manager = Annotated[Auth, Depends(require(MANAGE))]
Anyone = Annotated[Auth | None, Depends(public)]
PUBLIC_PAGE = 20
ADMIN_PAGE = 50
EXTRA_ROWS = 3  # empty step and material rows offered by the form

NAV = [
    NavItem(SERVICES, N_("Service matters"), "/services/admin/matters", MANAGE, order=120),
    NavItem(SERVICES, N_("Import matters"), "/services/admin/import", MANAGE, order=121),
]
audit.name_codes(
    actions={
        "services.matter.create": N_("Service matter created"),
        "services.matter.edit": N_("Service matter edited (new version)"),
        "services.matter.publish": N_("Service matter published"),
        "services.matter.withdraw": N_("Service matter withdrawn"),
        "services.matter.import": N_("Service matters imported"),
    },
    targets={"services_matter": N_("Service matter")},
)
STATUS_LABELS = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "withdrawn": N_("Withdrawn"),
}
RESULT_LABELS = {
    "created": N_("Added to the catalogue"),
    "new_version": N_("New version"),
    "unchanged": N_("Unchanged"),
    "skipped": N_("Skipped"),
}
LABELS: dict[str, Any] = {
    "type_labels": codes.LABELS[codes.MatterType],
    "level_labels": codes.LABELS[codes.Level],
    "nature_labels": codes.LABELS[codes.BodyNature],
    "audience_labels": codes.LABELS[codes.Audience],
    "form_labels": codes.LABELS[codes.HandlingForm],
    "kind_labels": codes.LABELS[codes.ApplicationKind],
    "unit_labels": codes.LABELS[codes.TimeLimitUnit],
    "scope_labels": codes.LABELS[codes.Scope],
    "status_labels": STATUS_LABELS,
    "result_labels": RESULT_LABELS,
}


def _dep_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in departments.all_active(session)}


def _opt_id(value: str) -> int | None:
    """A department id from a query (an empty choice of a select is "")."""
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_ID else None


def _choice(value: str, allowed: Mapping[str, object]) -> str | None:
    return value if value in allowed else None


# -- public ---------------------------------------------------------------------------------------


@router.get("/services")
def catalogue_page(
    request: Request,
    session: ReadSession,
    _: Anyone,
    q: Annotated[str, Query(max_length=40)] = "",
    theme: Annotated[str, Query(max_length=100)] = "",
    department_id: Annotated[str, Query(max_length=10)] = "",
    audience: Annotated[str, Query(max_length=20)] = "",
    large: Annotated[bool, Query()] = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Search the published catalogue by name, pinyin initials, theme, department and audience."""
    f = search.MatterFilter(
        q=q or None,
        theme=theme or None,
        department_id=_opt_id(department_id),
        audience=_choice(audience, codes.LABELS[Audience]),
        status=MatterStatus.PUBLISHED,
    )
    rows, total = search.search(session, f, PageParams(limit=PUBLIC_PAGE, offset=offset))
    deps = _dep_names(session)
    query = {"q": q, "theme": theme, "department_id": department_id, "audience": audience}
    return templates(request).render(
        request,
        "services/catalogue.html",
        {
            "rows": rows,
            "total": total,
            "limit": PUBLIC_PAGE,
            "offset": offset,
            "base_query": urlencode({**{k: v for k, v in query.items() if v}, **({"large": 1} if large else {})}),
            "query": query,
            "large": large,
            "themes": search.themes(session),
            "departments": sorted(
                ((i, deps[i]) for i in search.department_ids(session) if i in deps), key=lambda t: t[1]
            ),
            "deps": deps,
            **LABELS,
        },
    )


@router.get("/services/matters/{matter_id}")
def guide_page(
    request: Request,
    matter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: ReadSession,
    _: Anyone,
    large: Annotated[bool, Query()] = False,
) -> Response:
    """A published matter's guide: materials, limits, fees, places, hours, phones, steps."""
    matter = catalogue.get_published(session, matter_id=matter_id)
    return templates(request).render(
        request,
        "services/guide.html",
        {"m": matter, "v": catalogue.current(matter), "deps": _dep_names(session), "large": large, **LABELS},
    )


# -- staff ----------------------------------------------------------------------------------------


@router.get("/services/admin/matters")
def admin_list(
    request: Request,
    session: ReadSession,
    a: Manager,
    q: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=12)] = "",
    matter_type: Annotated[str, Query(max_length=24)] = "",
    department_id: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    st = _choice(status, STATUS_LABELS)
    f = search.MatterFilter(
        q=q or None,
        status=MatterStatus(st) if st else None,
        matter_type=_choice(matter_type, codes.LABELS[MatterType]),
        department_id=_opt_id(department_id),
    )
    rows, total = search.search(session, f, PageParams(limit=ADMIN_PAGE, offset=offset))
    deps = _dep_names(session)
    query = {"q": q, "status": status, "matter_type": matter_type, "department_id": department_id}
    return templates(request).render(
        request,
        "services/admin_list.html",
        {
            "rows": rows,
            "total": total,
            "limit": ADMIN_PAGE,
            "offset": offset,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "query": query,
            "deps": deps,
            "departments": sorted(deps.items(), key=lambda t: t[1]),
            **LABELS,
        },
    )


SCALAR_FIELDS = tuple(
    f
    for f in MatterIn.model_fields
    if f not in ("audiences", "handling_forms", "steps", "materials", "charged", "online")
)
FLAGS = ("charged", "online")


def _values_of(matter: Matter | None) -> dict[str, Any]:
    """What the form shows for a matter (its current version), as strings like a posted form."""
    if matter is None:
        return {"level": "county", "body_nature": "statutory", "legal_limit_unit": "working_days",
                "promised_limit_unit": "working_days", "application_kind": "promised", "scope": "none",
                "visits": "1", "audiences": [], "handling_forms": ["window"], "steps": [], "materials": []}  # fmt: skip
    data = catalogue.payload(catalogue.current(matter))
    out: dict[str, Any] = {k: ("" if v is None else str(v)) for k, v in data.items() if k in SCALAR_FIELDS}
    out.update(code=matter.code, basic_code=matter.basic_code or "")
    out.update({f: "1" if data[f] else "" for f in FLAGS})
    out["audiences"], out["handling_forms"] = data["audiences"], data["handling_forms"]
    out["steps"] = [{k: "" if v is None else str(v) for k, v in s.items()} for s in data["steps"]]
    out["materials"] = [
        {k: ("1" if v else "") if k == "required" else ("" if v is None else str(v)) for k, v in m.items()}
        for m in data["materials"]
    ]
    return out


def _rows(form: Any, prefix: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    """The table rows of the form (``step-0-name`` …), empty rows left out."""
    out = []
    for i in range(max(catalogue_rows_limit(), 0)):
        row = {n: str(form.get(f"{prefix}-{i}-{n}") or "").strip() for n in names}
        if row.get("name"):
            out.append(row)
    return out


def catalogue_rows_limit() -> int:
    from countyos.services.schemas import MAX_MATERIALS, MAX_STEPS

    return max(MAX_MATERIALS, MAX_STEPS) + EXTRA_ROWS


STEP_NAMES = ("name", "department_id", "time_share")
MATERIAL_NAMES = ("name", "issuer", "required", "originals", "copies", "note", "sample_url")


def _typed(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = forms.typed(form, SCALAR_FIELDS)
    values.update({f: "1" if form.get(f) == "1" else "" for f in FLAGS})
    values["audiences"] = [v for v in form.getlist("audiences") if isinstance(v, str)][: len(Audience)]
    values["handling_forms"] = [v for v in form.getlist("handling_forms") if isinstance(v, str)][: len(HandlingForm)]
    values["steps"] = _rows(form, "step", STEP_NAMES)
    values["materials"] = _rows(form, "mat", MATERIAL_NAMES)
    return values


def _parse(values: dict[str, Any]) -> MatterIn:
    data: dict[str, Any] = {k: v for k, v in values.items() if k in SCALAR_FIELDS and str(v).strip()}
    data.update({f: values[f] == "1" for f in FLAGS})
    data["audiences"], data["handling_forms"] = values["audiences"], values["handling_forms"]
    data["steps"] = [{k: v for k, v in s.items() if v} for s in values["steps"]]
    data["materials"] = [
        {**{k: v for k, v in m.items() if v and k != "required"}, "required": m.get("required") == "1"}
        for m in values["materials"]
    ]
    return MatterIn.model_validate(data)


def _edit_page(
    request: Request, session: Session, matter: Matter | None, *, form: Refused | None = None, status: int = 200
) -> Response:
    deps = _dep_names(session)
    values = form.values if form else _values_of(matter)
    versions = catalogue.versions(session, matter_id=matter.id) if matter else []
    return templates(request).render(
        request,
        "services/admin_edit.html",
        {
            "m": matter,
            "versions": versions,
            "actions": catalogue.actions_of(matter) if matter else [],
            "v": values,
            "errors": form.errors if form else {},
            "error": form.error if form else None,
            "departments": sorted(deps.items(), key=lambda t: t[1]),
            "deps": deps,
            "extra_rows": EXTRA_ROWS,
            "saved_by": _saved_by(request, session, versions),
            **LABELS,
        },
        status_code=status,
    )


def _saved_by(request: Request, session: Session, versions: list[MatterVersion]) -> dict[int, str]:
    """Version id → who saved it, as people read it: a person's name, or what a non-person actor is."""
    people = users.colleagues(session, user_ids=[v.created_by_id for v in versions])
    out = {}
    for v in versions:
        if v.created_by_id in people:
            out[v.id] = people[v.created_by_id].display_name
        else:
            label = audit.actor_label(v.created_by)
            out[v.id] = translate(request, label) if label else ""
    return out


@router.get("/services/admin/matters/new")
def new_form(request: Request, session: ReadSession, a: Manager) -> Response:
    return _edit_page(request, session, None)


@router.post("/services/admin/matters/new")
def create(request: Request, session: WriteSession, a: Manager, form: PostedForm) -> Response:
    values = _typed(form)
    try:
        matter = catalogue.create(session, actor=a.actor, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _edit_page(request, session, None, form=refused, status=refused.status)
    return redirect(f"/services/admin/matters/{matter.id}", flash=translate(request, "Saved"))


@router.get("/services/admin/matters/{matter_id}")
def edit_form(
    request: Request, matter_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: ReadSession, a: Manager
) -> Response:
    return _edit_page(request, session, catalogue.get(session, matter_id=matter_id))


@router.post("/services/admin/matters/{matter_id}")
def save(
    request: Request,
    matter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: WriteSession,
    a: Manager,
    form: PostedForm,
) -> Response:
    """A new version from the form (none when nothing changed)."""
    matter = catalogue.get(session, matter_id=matter_id)
    values = {**_typed(form), "code": matter.code}
    try:
        _, changed = catalogue.edit(session, actor=a.actor, matter_id=matter_id, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _edit_page(
            request, session, catalogue.get(session, matter_id=matter_id), form=refused, status=refused.status
        )
    message = "Saved as a new version" if changed else "Nothing changed"
    return redirect(f"/services/admin/matters/{matter_id}", flash=translate(request, message))


@router.post("/services/admin/matters/{matter_id}/status")
def change_status(
    request: Request,
    matter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: WriteSession,
    a: Manager,
    action: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if action == "publish":
        catalogue.publish(session, actor=a.actor, matter_id=matter_id)
        message = "Published"
    else:
        catalogue.withdraw(session, actor=a.actor, matter_id=matter_id)
        message = "Withdrawn"
    return redirect(f"/services/admin/matters/{matter_id}", flash=translate(request, message))


@router.get("/services/admin/import")
def import_page(request: Request, a: Manager) -> Response:
    return templates(request).render(request, "services/admin_import.html", {"report": None, **LABELS})


@router.post("/services/admin/import")
def import_file(
    request: Request,
    session: WriteSession,
    a: Manager,
    file: Annotated[UploadFile, File()],
    skip_bad_rows: Annotated[str, Form(max_length=2)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Import a catalogue workbook and show the per-row report."""
    try:
        data = forms.read_upload(file, excel.MAX_FILE_BYTES)
        report = excel.import_workbook(session, actor=a.actor, data=data, skip_bad_rows=skip_bad_rows == "1")
    except CountyError as exc:
        session.rollback()
        return templates(request).render(
            request,
            "services/admin_import.html",
            {"report": None, "error": exc.message, **LABELS},
            status_code=exc.status,
        )
    if not report.applied:
        session.rollback()
    return templates(request).render(
        request,
        "services/admin_import.html",
        {"report": report, **LABELS},
        status_code=200 if report.applied else 422,
    )
