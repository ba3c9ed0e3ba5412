"""Pages of the modules part.

- ``/programme/modules`` (programme.modules, the system administrator): every module with its pillar,
  state (on, off, off by configuration; the platform's own: 平台基础, no switch), phase, planned date and
  who switched it last.
- ``/programme/modules/{code}``: one module — switch it on or off with a note (a refusal comes back beside
  the form with the note kept), and place it on the roadmap (phase, planned date).
- ``/programme/roadmap`` (programme.read or programme.modules): the phases in order (急用先行 first) with their
  goal, dates, status and modules; the modules on no phase apart. The programme office (programme.manage)
  adds phases here and edits or deletes one at ``/programme/roadmap/phases/{id}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import county_today
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme.permissions import MANAGE, MODULES, READ
from countyos.programme.schemas.modules import MAX_ID, PhaseIn, PlanIn, SwitchIn
from countyos.programme.service import modules
from countyos.programme.service import modules_phases as phases
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require, require_any
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
SECTION = N_("Programme")
NAV = [
    NavItem(SECTION, N_("Programme roadmap"), "/programme/roadmap", READ, order=900),
    NavItem(SECTION, N_("Programme roadmap"), "/programme/roadmap", MODULES, order=900),
    NavItem(SECTION, N_("Platform modules"), "/programme/modules", MODULES, order=901),
]
Admin = Annotated[Auth, Depends(require(MODULES))]
Reader = Annotated[Auth, Depends(require_any(READ, MODULES))]
Keeper = Annotated[Auth, Depends(require(MANAGE))]
Code = Annotated[str, Path(min_length=2, max_length=20, pattern=r"^[a-z]+$")]
PhaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
PHASE_FIELDS = ("number", "name", "goal", "starts_on", "ends_on")
PLAN_FIELDS = ("phase_id", "planned_on", "note")
STATUS_CLASS = {phases.PhaseStatus.DONE: "ok", phases.PhaseStatus.RUNNING: "info", phases.PhaseStatus.PLANNED: ""}

audit.name_codes(
    actions={
        "programme.modules.switch": N_("Module switched on or off"),
        "programme.modules.plan": N_("Module placed on the roadmap"),
        "programme.modules.phase_create": N_("Programme phase added"),
        "programme.modules.phase_update": N_("Programme phase changed"),
        "programme.modules.phase_delete": N_("Programme phase deleted"),
    },
    targets={"module": N_("Platform module"), "programme_phase": N_("Programme phase")},
)


def _common(session: Session) -> dict[str, Any]:
    return {
        "status_names": phases.STATUS_NAMES,
        "status_class": STATUS_CLASS,
        "specs": modules.BY_CODE,
        "phases": phases.list_phases(session),
    }


# --- the modules -----------------------------------------------------------------------------------


@router.get("/programme/modules")
def module_list(request: Request, session: ReadSession, a: Admin) -> Response:
    views = modules.views(session)
    return templates(request).render(
        request,
        "programme/modules/list.html",
        {**_common(session), "views": views, "names": phases.switched_by_names(session, views)},
    )


def _module_page(
    request: Request, session: Session, code: str, *, form: Refused | None = None, status: int = 200
) -> Response:
    modules.spec(code)
    view = next(v for v in modules.views(session) if v.spec.code == code)
    values: dict[str, Any] = {}
    if view.state is not None:
        values = {
            "phase_id": str(view.state.phase_id or ""),
            "planned_on": view.state.planned_on.isoformat() if view.state.planned_on else "",
            "note": view.state.note,
        }
    return templates(request).render(
        request,
        "programme/modules/module.html",
        {
            **_common(session),
            "view": view,
            "names": phases.switched_by_names(session, [view]),
            "needs": [modules.BY_CODE[n] for n in view.spec.needs],
            "needed_by": [s for s in modules.SPECS if code in s.needs],
            "form": form or Refused.empty(),
            "saved": values,
        },
        status_code=status,
    )


@router.get("/programme/modules/{code}")
def module_page(request: Request, code: Code, session: ReadSession, a: Admin) -> Response:
    return _module_page(request, session, code)


@router.post("/programme/modules/{code}/switch")
def module_switch(request: Request, code: Code, session: WriteSession, a: Admin, form: PostedForm) -> Response:
    values = forms.typed(form, ("on", "note"))
    try:
        body = forms.parse(SwitchIn, values)
        modules.switch(session, actor=a.actor, code=code, on=body.on, note=body.note)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="switch")
        return _module_page(request, session, code, form=refused, status=refused.status)
    done = N_("Module switched on") if body.on else N_("Module switched off")
    return redirect("/programme/modules", flash=translate(request, done))


@router.post("/programme/modules/{code}/plan")
def module_plan(request: Request, code: Code, session: WriteSession, a: Admin, form: PostedForm) -> Response:
    values = forms.typed(form, PLAN_FIELDS)
    try:
        body = forms.parse(PlanIn, values)
        modules.plan(session, actor=a.actor, code=code, phase_id=body.phase_id, planned_on=body.planned_on,
                     note=body.note)  # fmt: skip
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="plan")
        return _module_page(request, session, code, form=refused, status=refused.status)
    return redirect(f"/programme/modules/{code}", flash=translate(request, N_("Module placed on the roadmap")))


# --- the roadmap and its phases ----------------------------------------------------------------------


def _roadmap(request: Request, session: Session, *, form: Refused | None = None, status: int = 200) -> Response:
    return templates(request).render(
        request,
        "programme/modules/roadmap.html",
        {
            **_common(session),
            "roadmap": phases.roadmap(session),
            "today": county_today(),
            "form": form or Refused.empty(),
        },
        status_code=status,
    )


@router.get("/programme/roadmap")
def roadmap_page(request: Request, session: ReadSession, a: Reader) -> Response:
    return _roadmap(request, session)


@router.post("/programme/roadmap/phases")
def phase_create(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, PHASE_FIELDS)
    try:
        phases.create(session, actor=a.actor, data=forms.parse(PhaseIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="phase")
        return _roadmap(request, session, form=refused, status=refused.status)
    return redirect("/programme/roadmap", flash=translate(request, N_("Programme phase added")))


def _phase_page(
    request: Request, session: Session, phase_id: int, *, form: Refused | None = None, status: int = 200
) -> Response:
    phase = phases.get(session, phase_id=phase_id)
    on_modules, on_projects = phases.users_of(session, phase_id=phase.id)
    saved = {
        "number": str(phase.number),
        "name": phase.name,
        "goal": phase.goal,
        "starts_on": phase.starts_on.isoformat() if phase.starts_on else "",
        "ends_on": phase.ends_on.isoformat() if phase.ends_on else "",
    }
    return templates(request).render(
        request,
        "programme/modules/phase.html",
        {
            **_common(session),
            "phase": phase,
            "saved": saved,
            "on_modules": on_modules,
            "on_projects": on_projects,
            "form": form or Refused.empty(),
        },
        status_code=status,
    )


@router.get("/programme/roadmap/phases/{phase_id}")
def phase_page(request: Request, phase_id: PhaseId, session: ReadSession, a: Keeper) -> Response:
    return _phase_page(request, session, phase_id)


@router.post("/programme/roadmap/phases/{phase_id}")
def phase_update(request: Request, phase_id: PhaseId, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, PHASE_FIELDS)
    try:
        phases.update(session, actor=a.actor, phase_id=phase_id, data=forms.parse(PhaseIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="phase")
        return _phase_page(request, session, phase_id, form=refused, status=refused.status)
    return redirect("/programme/roadmap", flash=translate(request, N_("Programme phase changed")))


@router.post("/programme/roadmap/phases/{phase_id}/delete")
def phase_delete(request: Request, phase_id: PhaseId, session: WriteSession, a: Keeper) -> Response:
    try:
        phases.delete(session, actor=a.actor, phase_id=phase_id)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {}, which="delete")
        return _phase_page(request, session, phase_id, form=refused, status=refused.status)
    return redirect("/programme/roadmap", flash=translate(request, N_("Programme phase deleted")))
