"""Work lists of applications (办件) for staff: a department's 待办 and 已办, the supervision list, and the
counts of the home page. Reading only; who may see what follows ``applications``' rules.

* 待办: applications whose current step (表7 环节办理状态 待办) belongs to the person's department, the
  earliest due first (those without a due time last).
* 已办: the steps this department finished (已办), the newest first; one row per step visit.
* Supervision: every application, by state, department (responsible for it or holding one of its
  steps), 受理点 (the department of the window clerk or agent who took it in), matter, overdue only and
  the submission period (county days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.paging import PageParams
from countyos.core.settings import get_settings
from countyos.services import deadlines
from countyos.services.lifecycle import State, StepStatus
from countyos.services.models import Application, ApplicationStep
from countyos.services.service import applications

MAX_QUERY = 50  # a 办件编号 is at most 50 characters; names are searched by a part
MAX_TALLY = 1000  # the home page computes due levels for at most this many waiting applications
STEP_WAITING = (State.IN_PROGRESS, State.SPECIAL_PROCEDURE)  # a step stays 待办 while a procedure runs


Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


def _search(stmt: Q, q: str | None) -> Q:
    q = (q or "").strip()[:MAX_QUERY]
    if not q:
        return stmt
    return stmt.where(
        or_(
            Application.number.startswith(q, autoescape=True),
            Application.applicant_name.contains(q, autoescape=True),
        )
    )


def _page(session: Session, stmt: Select[Any], page: PageParams) -> tuple[list[Application], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    limit = min(page.limit, applications.MAX_PAGE)
    return list(session.scalars(stmt.limit(limit).offset(page.offset))), total


def _todo_stmt(department_id: int) -> Select[Any]:
    at_step = exists().where(
        ApplicationStep.application_id == Application.id,
        ApplicationStep.department_id == department_id,
        ApplicationStep.status == str(StepStatus.PENDING),
        ApplicationStep.position == Application.step,
    )
    return select(Application).where(Application.state.in_([str(s) for s in STEP_WAITING]), at_step)


def todo(
    session: Session, *, actor: Actor, page: PageParams, matter_id: int | None = None, q: str | None = None
) -> tuple[list[Application], int]:
    """待办: waiting at one of the actor's department's steps, the earliest due first."""
    if not actor.can(applications.HANDLE) or actor.department_id is None:
        return [], 0
    stmt = _todo_stmt(actor.department_id)
    if matter_id is not None:
        stmt = stmt.where(Application.matter_id == matter_id)
    stmt = _search(stmt, q).order_by(Application.due_at.is_(None), Application.due_at, Application.id)
    return _page(session, stmt, page)


def done(
    session: Session, *, actor: Actor, page: PageParams, matter_id: int | None = None, q: str | None = None
) -> tuple[list[tuple[ApplicationStep, Application]], int]:
    """已办: the steps the actor's department finished (each visit of a step), the newest first."""
    if not actor.can(applications.HANDLE) or actor.department_id is None:
        return [], 0
    stmt = (
        select(ApplicationStep, Application)
        .join(Application, Application.id == ApplicationStep.application_id)
        .where(
            ApplicationStep.department_id == actor.department_id,
            ApplicationStep.status == str(StepStatus.DONE),
        )
    )
    if matter_id is not None:
        stmt = stmt.where(Application.matter_id == matter_id)
    stmt = _search(stmt, q)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(ApplicationStep.ended_at.desc(), ApplicationStep.id.desc())
        .limit(min(page.limit, applications.MAX_PAGE))
        .offset(page.offset)
    )
    return [(r[0], r[1]) for r in rows], total


@dataclass(frozen=True)
class SupervisionFilter:
    state: State | None = None
    department_id: int | None = None  # responsible for it, or holding one of its steps
    intake_department_id: int | None = None  # 受理点: the window's or the agent's department
    matter_id: int | None = None
    overdue: bool = False
    submitted_from: date | None = None  # county days, both included
    submitted_to: date | None = None
    q: str | None = None


def county_day_start(day: date) -> datetime:
    """The start of a county day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(get_settings().timezone))


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Overdue now: the clock runs (办理中) and the 承诺办结时间 has passed."""
    return (Application.state == str(State.IN_PROGRESS)) & (Application.due_at < now)


def supervision(
    session: Session, *, actor: Actor, f: SupervisionFilter, page: PageParams, now: datetime | None = None
) -> tuple[list[Application], int]:
    """Every application matching the filter, the overdue ones first, each group the newest first."""
    if not actor.can(applications.SUPERVISE):
        return [], 0
    now = now or utcnow()
    stmt = select(Application)
    if f.state is not None:
        stmt = stmt.where(Application.state == str(f.state))
    if f.department_id is not None:
        stmt = stmt.where(
            or_(
                Application.department_id == f.department_id,
                exists().where(
                    ApplicationStep.application_id == Application.id,
                    ApplicationStep.department_id == f.department_id,
                ),
            )
        )
    if f.intake_department_id is not None:
        stmt = stmt.where(Application.submitted_by_department_id == f.intake_department_id)
    if f.matter_id is not None:
        stmt = stmt.where(Application.matter_id == f.matter_id)
    if f.overdue:
        stmt = stmt.where(overdue_clause(now))
    if f.submitted_from is not None:
        stmt = stmt.where(Application.submitted_at >= county_day_start(f.submitted_from))
    if f.submitted_to is not None:
        stmt = stmt.where(Application.submitted_at < county_day_start(f.submitted_to + timedelta(days=1)))
    stmt = _search(stmt, f.q)
    stmt = stmt.order_by(case((overdue_clause(now), 0), else_=1), Application.id.desc())
    return _page(session, stmt, page)


def level(session: Session, app: Application, now: datetime) -> deadlines.Level | None:
    """The due level (green, yellow, red, stopped) while the clock counts; None before 受理 and after 办结."""
    d = applications.deadline(session, app, now=now)
    return deadlines.level(d) if d is not None else None


@dataclass(frozen=True)
class Tally:
    count: int
    overdue: int = 0
    due_soon: int = 0


def todo_tally(session: Session, *, actor: Actor, now: datetime) -> Tally | None:
    """The 待办 of the actor's department: how many, overdue, nearly due (yellow)."""
    if not actor.can(applications.HANDLE) or actor.department_id is None:
        return None
    stmt = _todo_stmt(actor.department_id)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    waiting = session.scalars(
        stmt.where(Application.state == str(State.IN_PROGRESS)).order_by(Application.due_at).limit(MAX_TALLY)
    )
    levels = [level(session, app, now) for app in waiting]
    return Tally(count, levels.count(deadlines.Level.RED), levels.count(deadlines.Level.YELLOW))


def to_accept_tally(session: Session, *, actor: Actor) -> Tally | None:
    """待受理: submitted applications waiting for a window clerk."""
    if not actor.can(applications.WINDOW):
        return None
    stmt = select(func.count()).select_from(Application).where(Application.state == str(State.SUBMITTED))
    return Tally(session.scalar(stmt) or 0)


def overdue_tally(session: Session, *, actor: Actor, now: datetime) -> Tally | None:
    """Every overdue application, for a supervisor."""
    if not actor.can(applications.SUPERVISE):
        return None
    n = session.scalar(select(func.count()).select_from(Application).where(overdue_clause(now))) or 0
    return Tally(n, overdue=n)
