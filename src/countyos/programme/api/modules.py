"""API of the modules part, under /api/v1/programme.

- ``GET /modules`` (programme.read or programme.modules): every module with its state, phase and plan.
- ``POST /modules/{code}`` ``{on, note}`` (programme.modules): switch it on or off; a refusal (what it needs,
  what needs it, a platform module, the configuration) is a 409.
- ``PUT /modules/{code}/plan`` ``{phase_id, planned_on, note}`` (programme.modules): place it on the roadmap.
- ``GET /phases``, ``GET /phases/{id}`` (programme.read or programme.modules); ``POST /phases``,
  ``PUT /phases/{id}``, ``DELETE /phases/{id}`` (programme.manage; a phase with modules or projects on it is
  a 409).

Errors are problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from countyos.core.i18n import gettext, use_locale
from countyos.programme.models.modules import Phase
from countyos.programme.permissions import MANAGE, MODULES, READ
from countyos.programme.schemas.modules import MAX_ID, ModuleOut, PhaseIn, PhaseOut, PlanIn, SwitchIn
from countyos.programme.service import modules
from countyos.programme.service import modules_phases as phases
from countyos.web.deps import Auth, ReadSession, WriteSession, require, require_any

router = APIRouter(tags=["programme"])
Reader = Annotated[Auth, Depends(require_any(READ, MODULES))]
Keeper = Annotated[Auth, Depends(require(MANAGE))]
Admin = Annotated[Auth, Depends(require(MODULES))]
Code = Annotated[str, Path(min_length=2, max_length=20, pattern=r"^[a-z]+$")]
PhaseId = Annotated[int, Path(ge=1, le=MAX_ID)]


def module_out(view: modules.ModuleView, names: dict[int, str]) -> ModuleOut:
    state = view.state
    by = state.switched_by_id if state is not None else None
    return ModuleOut(
        code=view.spec.code,
        label=gettext(view.spec.label),
        pillar=gettext(view.spec.pillar),
        summary=gettext(view.spec.summary),
        required=view.spec.required,
        needs=list(view.spec.needs),
        on=view.on,
        locked=view.locked,
        phase_id=view.phase.id if view.phase is not None else None,
        planned_on=state.planned_on if state is not None else None,
        switched_at=state.switched_at if state is not None else None,
        switched_by=names.get(by) if by is not None else None,
        note=state.note if state is not None else "",
    )


def phase_out(phase: Phase, codes: list[str]) -> PhaseOut:
    return PhaseOut(
        id=phase.id,
        number=phase.number,
        name=phase.name,
        goal=phase.goal,
        starts_on=phase.starts_on,
        ends_on=phase.ends_on,
        status=phases.status(phase).value,
        modules=codes,
    )


def _one(request: Request, session: Any, code: str) -> ModuleOut:
    view = next(v for v in modules.views(session) if v.spec.code == code)
    with use_locale(request.state.locale):
        return module_out(view, phases.switched_by_names(session, [view]))


@router.get("/modules")
def list_modules(request: Request, session: ReadSession, a: Reader) -> list[ModuleOut]:
    views = modules.views(session)
    names = phases.switched_by_names(session, views)
    with use_locale(request.state.locale):  # names and summaries in the reader's language
        return [module_out(v, names) for v in views]


@router.post("/modules/{code}")
def switch_module(request: Request, code: Code, body: SwitchIn, session: WriteSession, a: Admin) -> ModuleOut:
    modules.switch(session, actor=a.actor, code=code, on=body.on, note=body.note)
    return _one(request, session, code)


@router.put("/modules/{code}/plan")
def plan_module(request: Request, code: Code, body: PlanIn, session: WriteSession, a: Admin) -> ModuleOut:
    modules.plan(session, actor=a.actor, code=code, phase_id=body.phase_id, planned_on=body.planned_on,
                 note=body.note)  # fmt: skip
    return _one(request, session, code)


def _codes(session: Any) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for v in modules.views(session):
        if v.phase is not None:
            out.setdefault(v.phase.id, []).append(v.spec.code)
    return out


@router.get("/phases")
def list_phases(session: ReadSession, a: Reader) -> list[PhaseOut]:
    codes = _codes(session)
    return [phase_out(p, codes.get(p.id, [])) for p in phases.list_phases(session)]


@router.get("/phases/{phase_id}")
def get_phase(phase_id: PhaseId, session: ReadSession, a: Reader) -> PhaseOut:
    return phase_out(phases.get(session, phase_id=phase_id), _codes(session).get(phase_id, []))


@router.post("/phases", status_code=201)
def create_phase(body: PhaseIn, session: WriteSession, a: Keeper) -> PhaseOut:
    return phase_out(phases.create(session, actor=a.actor, data=body), [])


@router.put("/phases/{phase_id}")
def update_phase(phase_id: PhaseId, body: PhaseIn, session: WriteSession, a: Keeper) -> PhaseOut:
    phase = phases.update(session, actor=a.actor, phase_id=phase_id, data=body)
    return phase_out(phase, _codes(session).get(phase_id, []))


@router.delete("/phases/{phase_id}", status_code=204, response_class=Response)
def delete_phase(phase_id: PhaseId, session: WriteSession, a: Keeper) -> Response:
    phases.delete(session, actor=a.actor, phase_id=phase_id)
    return Response(status_code=204)
