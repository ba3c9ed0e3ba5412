"""Phases of the county's programme (一期 急用先行, 二期, 三期 …) and the roadmap they make.

A phase has a number (unique; 1 is 急用先行, built first), a name, a goal and its dates. Its status is
computed from the dates and the county's today: 已完成 (ended), 进行中 (started, not ended), 计划中 (not
started, or no dates). A phase is deleted only while no module and no project is placed on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit, users
from countyos.programme.models.modules import ModuleState, Phase
from countyos.programme.models.projects import Project
from countyos.programme.schemas.modules import PhaseIn
from countyos.programme.service import modules


class PhaseStatus(StrEnum):
    DONE = "done"  # 已完成
    RUNNING = "running"  # 进行中
    PLANNED = "planned"  # 计划中


STATUS_NAMES = {
    PhaseStatus.DONE: N_("Phase completed"),
    PhaseStatus.RUNNING: N_("Phase in progress"),
    PhaseStatus.PLANNED: N_("Phase planned"),
}


def status(phase: Phase, today: date | None = None) -> PhaseStatus:
    """The phase's status on TODAY (the county's day): ended, under way, or not begun."""
    today = today or county_today()
    if phase.ends_on is not None and phase.ends_on < today:
        return PhaseStatus.DONE
    if phase.starts_on is not None and phase.starts_on <= today:
        return PhaseStatus.RUNNING
    return PhaseStatus.PLANNED


def list_phases(session: Session) -> list[Phase]:
    return list(session.scalars(select(Phase).order_by(Phase.number)))


def get(session: Session, *, phase_id: int) -> Phase:
    phase = session.get(Phase, phase_id)
    if phase is None:
        raise NotFound(N_("No phase %(id)s"), id=phase_id)
    return phase


def _check(session: Session, data: PhaseIn, phase_id: int | None) -> None:
    if data.starts_on is not None and data.ends_on is not None and data.starts_on > data.ends_on:
        raise ValidationFailed.on_field("ends_on", N_("A phase ends on or after the day it starts"))
    taken = session.scalar(select(Phase.id).where(Phase.number == data.number))
    if taken is not None and taken != phase_id:
        raise ValidationFailed.on_field("number", N_("Another phase has this number"))


def _detail(phase: Phase) -> dict[str, object]:
    return {
        "number": phase.number,
        "name": phase.name,
        "starts_on": phase.starts_on.isoformat() if phase.starts_on else None,
        "ends_on": phase.ends_on.isoformat() if phase.ends_on else None,
    }


def create(session: Session, *, actor: Actor, data: PhaseIn) -> Phase:
    _check(session, data, None)
    phase = Phase(**data.model_dump())
    session.add(phase)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.modules.phase_create",
        target_type="programme_phase",
        target_id=phase.id,
        detail=_detail(phase),
    )
    return phase


def update(session: Session, *, actor: Actor, phase_id: int, data: PhaseIn) -> Phase:
    phase = get(session, phase_id=phase_id)
    _check(session, data, phase.id)
    before = _detail(phase)
    for key, value in data.model_dump().items():
        setattr(phase, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.modules.phase_update",
        target_type="programme_phase",
        target_id=phase.id,
        detail={"before": before, "after": _detail(phase)},
    )
    return phase


def users_of(session: Session, *, phase_id: int) -> tuple[int, int]:
    """How many modules and how many projects are placed on the phase."""
    on_modules = session.scalar(select(func.count()).where(ModuleState.phase_id == phase_id)) or 0
    on_projects = session.scalar(select(func.count()).where(Project.phase_id == phase_id)) or 0
    return on_modules, on_projects


def delete(session: Session, *, actor: Actor, phase_id: int) -> None:
    phase = get(session, phase_id=phase_id)
    on_modules, on_projects = users_of(session, phase_id=phase.id)
    if on_modules or on_projects:
        raise Conflict(
            N_("%(name)s has %(modules)s modules and %(projects)s projects on it: move them to another phase first"),
            name=phase.name,
            modules=on_modules,
            projects=on_projects,
        )
    detail = _detail(phase)
    session.delete(phase)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.modules.phase_delete",
        target_type="programme_phase",
        target_id=phase_id,
        detail=detail,
    )


# --- the roadmap ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """A phase on the roadmap with its status and the modules placed on it (by planned date)."""

    phase: Phase
    status: PhaseStatus
    modules: list[modules.ModuleView]


@dataclass(frozen=True)
class Roadmap:
    stages: list[Stage]
    unplaced: list[modules.ModuleView]  # modules on no phase


def _by_date(v: modules.ModuleView) -> tuple[date, int]:
    planned = v.state.planned_on if v.state is not None else None
    return (planned or date.max, modules.SPECS.index(v.spec))


def roadmap(session: Session, *, today: date | None = None) -> Roadmap:
    """The phases in order (急用先行 first), each with its status and modules; the modules on no phase."""
    today = today or county_today()
    views = modules.views(session)
    stages = []
    for phase in list_phases(session):
        mine = sorted((v for v in views if v.phase is not None and v.phase.id == phase.id), key=_by_date)
        stages.append(Stage(phase, status(phase, today), mine))
    return Roadmap(stages, [v for v in views if v.phase is None])


def switched_by_names(session: Session, views: list[modules.ModuleView]) -> dict[int, str]:
    """The display names of the people who last switched these modules, by user id."""
    ids = [v.state.switched_by_id for v in views if v.state is not None]
    return {i: c.display_name for i, c in users.colleagues(session, user_ids=ids).items()}
