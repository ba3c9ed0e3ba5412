"""Pages of the plans part of the safety domain (``safety.emergency.read`` to see, ``…manage`` to change):

- ``/safety/plans``: the plans with their state and version in force; ``/safety/plans/new``, ``…/{id}/edit``.
- ``/safety/plans/{id}``: one plan: its versions, the sensing rules made for it, files, exercises; publish,
  retire, upload a file.
- ``/safety/plans/{id}/draft``: the draft's body as a form (per level: criteria, triggers, duties rows;
  the report schedule) and as JSON; every refusal beside its field.
- ``/safety/plans/{id}/versions/{n}``: one version's body and, in words, what changed from another.
- ``/safety/exercises``: the exercises, their count per year and the form for a new one.
- the resources pages: ``pages/resources.py`` (included here).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from countyos.core import i18n
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.org.models import Department
from countyos.org.service import audit, users
from countyos.safety.api.plans import attachment_response
from countyos.safety.models.plans import AttachmentKind, ExerciseKind, PlanState, PlanType, ResponseLevel
from countyos.safety.pages import resources
from countyos.safety.permissions import EMERGENCY_MANAGE, EMERGENCY_READ
from countyos.safety.schemas.plans import DraftIn, ExerciseIn, PlanBody, PlanIn, body_of
from countyos.safety.service import plans, plans_exercises, plans_files
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.errors import FIELD_MESSAGES
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

EMERGENCY = N_("Emergency")
router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(EMERGENCY, N_("Emergency plans"), "/safety/plans", EMERGENCY_READ, order=600),
    NavItem(EMERGENCY, N_("Exercises"), "/safety/exercises", EMERGENCY_READ, order=601),
    *resources.NAV,
]
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Keeper = Annotated[Auth, Depends(require(EMERGENCY_MANAGE))]
LEVELS = [ResponseLevel.IV, ResponseLevel.III, ResponseLevel.II, ResponseLevel.I]
PLAN_FIELDS = ("code", "name", "type", "lead_department_id", "summary")
EXERCISE_FIELDS = ("plan_id", "held_on", "kind", "title", "place", "summary", "problems")
BLANK_DUTIES = 3
BLANK_TRIGGERS = 1


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates(request).render(
        request,
        name,
        {
            "type_names": plans.TYPE_NAMES,
            "state_names": plans.STATE_NAMES,
            "version_state_names": plans.VERSION_STATE_NAMES,
            "level_names": plans.LEVEL_NAMES,
            "exercise_kind_names": plans.EXERCISE_KIND_NAMES,
            "file_kind_names": plans_files.KIND_NAMES,
            **context,
        },
        status_code=status,
    )


def _departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.is_active.is_(True)).order_by(Department.name)))


def _dept_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in session.scalars(select(Department))}


# --- plans --------------------------------------------------------------------------------------------


@router.get("/safety/plans")
def plan_list(request: Request, session: ReadSession, a: Reader) -> Response:
    rows = plans.list_plans(session)
    versions = {p.id: plans.published_body(session, p) for p in rows}
    return _render(
        request,
        "safety/plans/list.html",
        {
            "plans": rows,
            "in_force": {k: v[0] for k, v in versions.items() if v},
            "dept_names": _dept_names(session),
        },
    )


def _plan_form(request: Request, session: Session, plan: Any, form: Refused) -> Response:
    return _render(
        request,
        "safety/plans/plan_form.html",
        {
            "plan": plan,
            "form": form,
            "types": list(PlanType),
            "departments": _departments(session),
        },
        status=form.status,
    )


@router.get("/safety/plans/new")
def plan_new(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _plan_form(request, session, None, Refused({"type": "flood"}, {}, None, 200))


def _save_plan(request: Request, session: Session, a: Auth, form: PostedForm, plan_id: int | None) -> Response:
    values = forms.typed(form, PLAN_FIELDS)
    try:
        data = forms.parse(PlanIn, values)
        if plan_id is None:
            plan = plans.create_plan(session, actor=a.actor, data=data)
        else:
            plan = plans.update_plan(session, actor=a.actor, plan_id=plan_id, data=data)
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        current = plans.get_plan(session, plan_id=plan_id) if plan_id is not None else None
        return _plan_form(request, session, current, Refused.of(request, exc, values))
    return redirect(f"/safety/plans/{plan.id}", translate(request, "Saved"))


@router.post("/safety/plans/new")
def plan_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save_plan(request, session, a, form, None)


@router.get("/safety/plans/{plan_id}/edit")
def plan_edit(plan_id: int, request: Request, session: ReadSession, a: Keeper) -> Response:
    plan = plans.get_plan(session, plan_id=plan_id)
    values = {f: "" if getattr(plan, f) is None else str(getattr(plan, f)) for f in PLAN_FIELDS}
    return _plan_form(request, session, plan, Refused(values, {}, None, 200))


@router.post("/safety/plans/{plan_id}/edit")
def plan_update(plan_id: int, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save_plan(request, session, a, form, plan_id)


def _plan_page(request: Request, session: Session, plan_id: int, upload: Refused | None = None) -> Response:
    plan = plans.get_plan(session, plan_id=plan_id)
    versions = plans.versions_of(session, plan_id=plan.id)
    people = users.colleagues(
        session, user_ids=[v.published_by_id for v in versions] + [v.created_by_id for v in versions]
    )
    files = plans_files.list_for(session, plan_id=plan.id)
    people.update(users.colleagues(session, user_ids=[f.uploaded_by_id for f in files]))
    return _render(
        request,
        "safety/plans/plan.html",
        {
            "plan": plan,
            "versions": versions,
            "rules": plans.rules_of(session, plan_id=plan.id),
            "files": files,
            "exercises": plans_exercises.list_exercises(session, plan_id=plan.id),
            "people": people,
            "dept_names": _dept_names(session),
            "draft": plans.draft_of(session, plan_id=plan.id),
            "upload": upload or Refused.empty(),
            "file_kinds": list(AttachmentKind),
            "PlanState": PlanState,
        },
        status=upload.status if upload else 200,
    )


@router.get("/safety/plans/{plan_id}")
def plan_page(plan_id: int, request: Request, session: ReadSession, a: Reader) -> Response:
    return _plan_page(request, session, plan_id)


@router.post("/safety/plans/{plan_id}/publish")
def plan_publish(plan_id: int, request: Request, session: WriteSession, a: Keeper) -> Response:
    with i18n.use_locale(request.state.locale):
        try:
            v = plans.publish(session, actor=a.actor, plan_id=plan_id)
        except CountyError as exc:
            session.rollback()
            return redirect(f"/safety/plans/{plan_id}", exc.message, kind="error")
    return redirect(f"/safety/plans/{plan_id}", translate(request, "Version %(n)s is in force", n=v.number))


@router.post("/safety/plans/{plan_id}/retire")
def plan_retire(plan_id: int, request: Request, session: WriteSession, a: Keeper) -> Response:
    try:
        plans.retire(session, actor=a.actor, plan_id=plan_id)
    except CountyError as exc:
        session.rollback()
        return redirect(f"/safety/plans/{plan_id}", translate(request, exc.message_id, **exc.params), kind="error")
    return redirect(f"/safety/plans/{plan_id}", translate(request, "The plan is retired"))


@router.post("/safety/plans/{plan_id}/files")
def plan_upload(plan_id: int, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, ("kind",))
    file = form.get("file")
    try:
        if not isinstance(file, StarletteUpload) or not file.filename:
            raise CountyError(N_("Choose a file"))
        data = forms.read_upload(cast(UploadFile, file), plans_files.MAX_BYTES)
        kind = AttachmentKind(values["kind"]) if values["kind"] in set(AttachmentKind) else AttachmentKind.TEXT
        with i18n.use_locale(request.state.locale):
            plans_files.add(session, actor=a.actor, plan_id=plan_id, data=data, filename=file.filename, kind=kind)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        refused = Refused(
            values, {"file": refused.errors.get("file") or refused.error or ""}, refused.error, refused.status
        )
        return _plan_page(request, session, plan_id, refused)
    return redirect(f"/safety/plans/{plan_id}", translate(request, "The file is attached"))


@router.get("/safety/plans/files/{attachment_id}")
def plan_file(attachment_id: int, request: Request, session: WriteSession, a: Reader) -> Response:
    att, data = plans_files.open_for(session, actor=a.actor, attachment_id=attachment_id)
    return attachment_response(att.filename, att.media_type, data)


# --- the draft: as a form and as JSON -----------------------------------------------------------------


def _form_values(body: PlanBody | None, note: str = "") -> dict[str, str]:
    """The draft form's fields from a body."""
    v: dict[str, str] = {"note": note}
    if body is None:
        v.update({"first_minutes": "30", "followup_hours": "24", "final_hours": "72"})
        return v
    for spec in body.levels:
        lv = spec.level.value
        v[f"{lv}_on"] = "on"
        v[f"{lv}_criteria"] = spec.criteria
        for j, t in enumerate(spec.triggers):
            p = f"{lv}_t{j}_"
            v[p + "kind"] = t.kind
            v[p + "description"] = t.description
            if t.kind == "reading":
                v[p + "device"], v[p + "metric"] = t.device, t.metric
                v[p + "condition"] = json.dumps(t.condition, ensure_ascii=False)
            else:
                v[p + "category"] = t.category
        for j, d in enumerate(spec.duties):
            p = f"{lv}_d{j}_"
            v[p + "department"], v[p + "duty"], v[p + "deadline"] = d.department, d.duty, str(d.deadline_minutes)
    r = body.reports
    v.update(
        {
            "first_minutes": str(r.first_minutes),
            "followup_hours": str(r.followup_hours),
            "final_hours": str(r.final_hours),
            "to": r.to,
            "measures": body.measures,
        }
    )
    return v


def _rows(values: dict[str, str], prefix: str, extra: int) -> int:
    """How many rows of PREFIX (e.g. "IV_d") the form shows: those typed and EXTRA blank ones."""
    n = 0
    while any(k.startswith(f"{prefix}{n}_") and values[k] for k in values):
        n += 1
    return n + extra


class _Built:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.where: dict[tuple[int, str, int], str] = {}  # (level index, "duties"/"triggers", j) → form prefix
        self.levels: list[str] = []
        self.errors: dict[str, str] = {}


def _build(form: Any) -> tuple[dict[str, str], _Built]:
    """The body as data from the draft form, with where each row came from."""
    values: dict[str, str] = {k: v for k, v in form.items() if isinstance(v, str)}
    b = _Built()
    levels: list[dict[str, Any]] = []
    for lv in LEVELS:
        if values.get(f"{lv.value}_on") != "on":
            continue
        L = lv.value
        spec: dict[str, Any] = {"level": L, "criteria": values.get(f"{L}_criteria", ""), "triggers": [], "duties": []}
        i = len(levels)
        for row in range(_rows(values, f"{L}_t", 0)):
            p = f"{L}_t{row}_"
            kind = values.get(p + "kind", "reading")
            if kind == "reading" and not (values.get(p + "device") or values.get(p + "metric")):
                continue
            if kind == "case" and not values.get(p + "category"):
                continue
            trig: dict[str, Any] = {"kind": kind, "description": values.get(p + "description", "")}
            if kind == "reading":
                trig["device"], trig["metric"] = values.get(p + "device", ""), values.get(p + "metric", "")
                try:
                    trig["condition"] = json.loads(values.get(p + "condition") or "null")
                except ValueError:
                    trig["condition"] = None
                    b.errors[p + "condition"] = N_("Not valid JSON")
            else:
                trig["category"] = values.get(p + "category", "")
            b.where[(i, "triggers", len(spec["triggers"]))] = p
            spec["triggers"].append(trig)
        for row in range(_rows(values, f"{L}_d", 0)):
            p = f"{L}_d{row}_"
            if not (values.get(p + "department") or values.get(p + "duty")):
                continue
            b.where[(i, "duties", len(spec["duties"]))] = p
            spec["duties"].append(
                {
                    "department": values.get(p + "department", ""),
                    "duty": values.get(p + "duty", ""),
                    "deadline_minutes": values.get(p + "deadline") or None,
                }
            )
        if not spec["duties"]:
            b.errors[f"{L}_d0_department"] = N_("Each level needs at least one duty")
        levels.append(spec)
        b.levels.append(L)
    reports = {k: values.get(k) for k in ("first_minutes", "followup_hours", "final_hours") if values.get(k)}
    reports["to"] = values.get("to", "")
    b.data = {"levels": levels, "reports": reports, "measures": values.get("measures", "")}
    return values, b


def _form_field(b: _Built, path: list[Any]) -> str:
    """The form field of an error's path (``levels.0.duties.1.department`` → ``IV_d1_department``)."""
    if len(path) >= 2 and path[0] == "levels" and str(path[1]).isdigit() and int(path[1]) < len(b.levels):
        i = int(path[1])
        if len(path) >= 4 and path[2] in ("duties", "triggers") and str(path[3]).isdigit():
            prefix = b.where.get((i, str(path[2]), int(path[3])))
            if prefix is not None:
                last = str(path[-1])
                last = {"deadline_minutes": "deadline", "reading": "device", "case": "category"}.get(last, last)
                return prefix + last
        return f"{b.levels[i]}_criteria"
    if path and path[0] == "reports":
        return str(path[-1])
    if path and path[0] == "levels":
        return "levels"
    return str(path[-1]) if path else ""


def _draft_page(
    request: Request,
    session: Session,
    plan_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    error: str | None,
    status: int = 200,
    json_text: str | None = None,
) -> Response:
    plan = plans.get_plan(session, plan_id=plan_id)
    rows = {}
    for lv in LEVELS:
        L = lv.value
        rows[L] = {"t": _rows(values, f"{L}_t", BLANK_TRIGGERS), "d": _rows(values, f"{L}_d", BLANK_DUTIES)}
    return _render(
        request,
        "safety/plans/draft.html",
        {
            "plan": plan,
            "draft": plans.draft_of(session, plan_id=plan.id),
            "levels": LEVELS,
            "rows": rows,
            "form": Refused(values, errors, error, status),
            "departments": _departments(session),
            "json_text": json_text if json_text is not None else "",
        },
        status=status,
    )


@router.get("/safety/plans/{plan_id}/draft")
def draft_edit(plan_id: int, request: Request, session: ReadSession, a: Keeper) -> Response:
    plan = plans.get_plan(session, plan_id=plan_id)
    draft = plans.draft_of(session, plan_id=plan.id)
    base = plans.published_body(session, plan)
    body = body_of(draft.body) if draft is not None else (base[1] if base else None)
    values = _form_values(body, draft.note if draft is not None else "")
    text = json.dumps(body.model_dump(mode="json"), ensure_ascii=False, indent=2) if body else ""
    return _draft_page(request, session, plan_id, values, {}, None, json_text=text)


def _refusal_fields(request: Request, b: _Built, exc: Exception) -> dict[str, str]:
    out: dict[str, str] = {}
    with i18n.use_locale(request.state.locale):
        if isinstance(exc, PydanticValidationError):
            for e in exc.errors():
                name = _form_field(b, list(e["loc"])) if e["loc"] else ""
                message = str(e.get("ctx", {}).get("error") or "") if e["type"] == "value_error" else ""
                out.setdefault(name, i18n.gettext(message or FIELD_MESSAGES.get(e["type"], "Not valid")))
        elif isinstance(exc, CountyError):
            for e in getattr(exc, "errors", None) or []:
                out.setdefault(_form_field(b, str(e.get("field", "")).split(".")), str(e.get("message", "")))
            if not out:
                out[""] = exc.message
    return out


@router.post("/safety/plans/{plan_id}/draft")
def draft_save(plan_id: int, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values, b = _build(form)
    errors = {k: translate(request, v) for k, v in b.errors.items()}
    if not errors:
        try:
            body = PlanBody.model_validate(b.data)
            with i18n.use_locale(request.state.locale):
                plans.save_draft(session, actor=a.actor, plan_id=plan_id, body=body, note=values.get("note", "")[:2000])
        except (PydanticValidationError, CountyError) as exc:
            session.rollback()
            errors = _refusal_fields(request, b, exc)
    if errors:
        top = errors.pop("", None) or translate(request, "Please correct the marked fields")
        return _draft_page(request, session, plan_id, values, errors, top, 422)
    return redirect(f"/safety/plans/{plan_id}", translate(request, "The draft is saved"))


@router.post("/safety/plans/{plan_id}/draft/json")
def draft_save_json(plan_id: int, request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, ("body_json", "note"))
    problems: list[str] = []
    try:
        data = json.loads(values["body_json"] or "null")
        draft = DraftIn.model_validate({"body": data, "note": values["note"][:2000]})
        with i18n.use_locale(request.state.locale):
            plans.save_draft(session, actor=a.actor, plan_id=plan_id, body=draft.body, note=draft.note)
    except ValueError as exc:
        session.rollback()
        with i18n.use_locale(request.state.locale):
            if isinstance(exc, PydanticValidationError):
                problems = [
                    ".".join(str(p) for p in e["loc"]) + ": " + i18n.gettext(FIELD_MESSAGES.get(e["type"], "Not valid"))
                    for e in exc.errors()[:20]
                ]
            else:
                problems = [i18n.gettext("Not valid JSON")]
    except CountyError as exc:
        session.rollback()
        problems = [f"{e.get('field')}: {e.get('message')}" for e in getattr(exc, "errors", [])] or [exc.message]
    if problems:
        plan = plans.get_plan(session, plan_id=plan_id)
        draft_row = plans.draft_of(session, plan_id=plan.id)
        base = plans.published_body(session, plan)
        body = body_of(draft_row.body) if draft_row is not None else (base[1] if base else None)
        return _draft_page(
            request,
            session,
            plan_id,
            _form_values(body),
            {"body_json": "；".join(problems)},
            translate(request, "Please correct the marked fields"),
            422,
            json_text=values["body_json"],
        )
    return redirect(f"/safety/plans/{plan_id}", translate(request, "The draft is saved"))


@router.get("/safety/plans/{plan_id}/versions/{number}")
def version_page(
    plan_id: int,
    number: int,
    request: Request,
    session: ReadSession,
    a: Reader,
    against: Annotated[int | None, Query(ge=1, le=10000)] = None,
) -> Response:
    plan = plans.get_plan(session, plan_id=plan_id)
    v = plans.get_version(session, plan_id=plan.id, number=number)
    versions = plans.versions_of(session, plan_id=plan.id)
    other_number = against if against is not None else (number - 1 if number > 1 else None)
    other = next((x for x in versions if x.number == other_number), None)
    with i18n.use_locale(request.state.locale):
        changes = plans.diff(body_of(other.body), body_of(v.body)) if other is not None else []
    people = users.colleagues(session, user_ids=[v.published_by_id, v.created_by_id])
    return _render(
        request,
        "safety/plans/version.html",
        {
            "plan": plan,
            "v": v,
            "body": body_of(v.body),
            "versions": versions,
            "other": other,
            "changes": changes,
            "people": people,
        },
    )


# --- exercises ----------------------------------------------------------------------------------------


def _exercises_page(request: Request, session: Session, form: Refused, year: int | None = None) -> Response:
    rows = plans_exercises.list_exercises(session, year=year)
    files: dict[int, list[Any]] = {}
    for att in plans_files.list_for_exercises(session, exercise_ids=[e.id for e in rows]):
        files.setdefault(att.exercise_id or 0, []).append(att)
    return _render(
        request,
        "safety/plans/exercises.html",
        {
            "exercises": rows,
            "counts": plans_exercises.count_by_year(session),
            "year": year,
            "plans": {p.id: p for p in plans.list_plans(session)},
            "kinds": list(ExerciseKind),
            "departments": _departments(session),
            "form": form,
            "files": files,
        },
        status=form.status,
    )


@router.get("/safety/exercises")
def exercise_list(
    request: Request, session: ReadSession, a: Reader, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    return _exercises_page(request, session, Refused({"held_on": date.today().isoformat()}, {}, None, 200), year)


@router.post("/safety/exercises")
def exercise_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values: dict[str, Any] = forms.typed(form, EXERCISE_FIELDS)
    participants = [p for p in form.getlist("participants") if isinstance(p, str) and p][:40]
    try:
        data = forms.parse(ExerciseIn, {**values, "participants": participants})
        with i18n.use_locale(request.state.locale):
            ex = plans_exercises.create(session, actor=a.actor, data=data)
            file = form.get("file")
            if isinstance(file, StarletteUpload) and file.filename:  # a photo or a file, optional
                content = forms.read_upload(cast(UploadFile, file), plans_files.MAX_BYTES)
                kind = (
                    AttachmentKind.PHOTO
                    if plans_files.sniff(content) in ("image/jpeg", "image/png")
                    else AttachmentKind.OTHER
                )
                plans_files.add(
                    session,
                    actor=a.actor,
                    plan_id=ex.plan_id,
                    data=content,
                    filename=file.filename,
                    kind=kind,
                    exercise_id=ex.id,
                )
    except (PydanticValidationError, CountyError) as exc:
        session.rollback()
        return _exercises_page(request, session, Refused.of(request, exc, {**values, "participants": participants}))
    return redirect("/safety/exercises", translate(request, "Saved"))


router.include_router(resources.router)

audit.name_codes(
    actions={
        "safety.plans.create": N_("Emergency plan added"),
        "safety.plans.update": N_("Emergency plan changed"),
        "safety.plans.draft": N_("Emergency plan draft saved"),
        "safety.plans.publish": N_("Emergency plan version published"),
        "safety.plans.retire": N_("Emergency plan retired"),
        "safety.plans.attach": N_("File attached to an emergency plan"),
        "safety.plans.download": N_("Emergency plan file downloaded"),
        "safety.plans.exercise": N_("Emergency exercise recorded"),
        "safety.resources.save": N_("Emergency resource saved"),
        "safety.resources.stock": N_("Stock line added to a warehouse"),
        "safety.resources.stock_remove": N_("Stock line removed from a warehouse"),
        "safety.resources.phone": N_("Unmasked phone number viewed"),
        "safety.resources.import": N_("Emergency resources imported"),
    },
    targets={
        "safety_plan": N_("Emergency plan"),
        "safety_plan_attachment": N_("Emergency plan file"),
        "safety_plan_exercise": N_("Emergency exercise"),
        "safety_res_warehouse": N_("Emergency warehouse"),
        "safety_res_team": N_("Rescue team"),
        "safety_res_team_member": N_("Rescue team member"),
        "safety_res_shelter": N_("Emergency shelter"),
        "safety_res_expert": N_("Emergency expert"),
    },
)
