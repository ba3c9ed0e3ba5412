"""Exercises (演练) of the plans: when, which plan and version, what kind, where, who took part, what
was found. Listed per plan and counted per year."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.safety.models.plans import Exercise
from countyos.safety.schemas.plans import ExerciseIn
from countyos.safety.service.plans import get_plan

MAX_LIST = 500


def create(session: Session, *, actor: Actor, data: ExerciseIn) -> Exercise:
    plan = get_plan(session, plan_id=data.plan_id)
    known = set(session.scalars(select(Department.name).where(Department.name.in_(data.participants))))
    unknown = [n for n in data.participants if n not in known]
    if unknown:
        raise ValidationFailed.on_field("participants", N_("There is no such department"))
    ex = Exercise(**data.model_dump(), version_id=plan.current_version_id, created_by_id=actor.id)
    session.add(ex)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.exercise",
        target_type="safety_plan_exercise",
        target_id=ex.id,
        detail={"plan": plan.id, "held_on": str(data.held_on), "kind": str(data.kind)},
    )
    return ex


def get(session: Session, *, exercise_id: int) -> Exercise:
    ex = session.get(Exercise, exercise_id)
    if ex is None:
        raise NotFound(N_("There is no such exercise"))
    return ex


def list_exercises(session: Session, *, plan_id: int | None = None, year: int | None = None) -> list[Exercise]:
    stmt = select(Exercise).order_by(Exercise.held_on.desc(), Exercise.id.desc()).limit(MAX_LIST)
    if plan_id is not None:
        stmt = stmt.where(Exercise.plan_id == plan_id)
    if year is not None:
        from datetime import date

        stmt = stmt.where(Exercise.held_on >= date(year, 1, 1), Exercise.held_on <= date(year, 12, 31))
    return list(session.scalars(stmt))


def count_by_year(session: Session, *, plan_id: int | None = None) -> dict[int, int]:
    """Exercises per year (the year of the date held)."""
    stmt = select(Exercise.held_on)
    if plan_id is not None:
        stmt = stmt.where(Exercise.plan_id == plan_id)
    out: dict[int, int] = {}
    for held in session.scalars(stmt.limit(100_000)):
        out[held.year] = out.get(held.year, 0) + 1
    return dict(sorted(out.items(), reverse=True))
