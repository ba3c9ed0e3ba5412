"""Read-only application (办件) queries shared by the leader statistics and the operations view (ioc):
one WHERE per measure, used for the count, the grouped counts and the list alike, so that a number and
the records behind it cannot disagree.

Populations:

* flow measures count the applications **submitted** (申请时间) in ``[start, end)`` (drafts never
  count): ``submitted`` (办件量), ``accepted`` (受理) and its part ``immediate`` (concluded at the moment
  of acceptance: 即办), ``concluded`` (办结, 准予 or 不予) and its parts ``on_time`` (concluded by the
  承诺办结时间) and ``late``, ``online`` (申报来源 电脑端 or 移动端), ``rejected`` (不予受理), ``rated``
  (with at least one 好差评) and its part ``rated_good`` (rated, and every rating of it 非常满意, 满意 or
  基本满意: 好评; the 好评率 is ``rated_good`` ÷ ``rated``);
* stock measures are the state **now** of the applications submitted before ``end``: ``open`` (submitted
  and not yet concluded, rejected or withdrawn) and ``overdue`` (being processed, clock running, past
  its 承诺办结时间).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from countyos.core.i18n import N_
from countyos.org.models import Department, DepartmentKind
from countyos.services.codes import HandlingForm, Satisfaction
from countyos.services.lifecycle import OPEN_STATES, State
from countyos.services.models import Application, MatterVersion, Rating

ONLINE = (HandlingForm.ONLINE_PC, HandlingForm.ONLINE_MOBILE)
WAITING = tuple(sorted(str(s) for s in OPEN_STATES - {State.DRAFT}))
MAX_IDS = 50_000  # a page of records never reads more ids than this


@dataclass(frozen=True)
class AppSlice:
    """Which applications: submitted in ``[start, end)``, of a responsible department, submitted at
    one of ``places`` (department ids of a township's windows and its villages' agents; the empty tuple
    is the county centre and online), of one matter."""

    start: datetime | None = None
    end: datetime | None = None
    department_id: int | None = None
    places: tuple[int, ...] | None = None
    matter_id: int | None = None


def _population(s: AppSlice) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [Application.submitted_at.is_not(None)]
    if s.start is not None:
        out.append(Application.submitted_at >= s.start)
    if s.end is not None:
        out.append(Application.submitted_at < s.end)
    return out


def _backlog(s: AppSlice, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [Application.state.in_(WAITING)]
    if s.end is not None and s.end <= now:
        out.append(Application.submitted_at < s.end)
    return out


def _accepted(s: AppSlice) -> list[ColumnElement[bool]]:
    return [*_population(s), Application.accepted_at.is_not(None)]


def _concluded(s: AppSlice) -> list[ColumnElement[bool]]:
    return [*_population(s), Application.decided_at.is_not(None)]


_BAD = (Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED)
_RATED = exists().where(Rating.application_id == Application.id)
_RATED_BAD = exists().where(Rating.application_id == Application.id, Rating.level.in_(_BAD))

_ON_TIME = or_(Application.due_at.is_(None), Application.decided_at <= Application.due_at)

MEASURES: dict[str, Any] = {
    "submitted": lambda s, now: _population(s),
    "accepted": lambda s, now: _accepted(s),
    "immediate": lambda s, now: [*_accepted(s), Application.decided_at == Application.accepted_at],
    "concluded": lambda s, now: _concluded(s),
    "on_time": lambda s, now: [*_concluded(s), _ON_TIME],
    "late": lambda s, now: [
        *_concluded(s),
        Application.due_at.is_not(None),
        Application.decided_at > Application.due_at,
    ],
    "online": lambda s, now: [*_population(s), Application.source.in_(ONLINE)],
    "rejected": lambda s, now: [*_population(s), Application.state == str(State.REJECTED)],
    "rated": lambda s, now: [*_population(s), _RATED],
    "rated_good": lambda s, now: [*_population(s), _RATED, ~_RATED_BAD],
    "open": lambda s, now: _backlog(s, now),
    "overdue": lambda s, now: [
        *_backlog(s, now),
        Application.state == str(State.IN_PROGRESS),
        Application.due_at.is_not(None),
        Application.due_at <= now,
    ],
}

LABELS: dict[str, str] = {
    "submitted": N_("Applications submitted"),
    "accepted": N_("Applications accepted"),
    "immediate": N_("Applications concluded on the spot"),
    "concluded": N_("Applications concluded"),
    "on_time": N_("Applications concluded on time"),
    "late": N_("Applications concluded late"),
    "online": N_("Applications submitted online"),
    "rejected": N_("Applications not accepted"),
    "rated": N_("Applications rated"),
    "rated_good": N_("Applications rated good"),
    "open": N_("Applications in progress"),
    "overdue": N_("Overdue applications"),
}


def where(measure: str, s: AppSlice, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions of ``measure`` in the slice."""
    conds = list(MEASURES[measure](s, now))
    if s.department_id is not None:
        conds.append(Application.department_id == s.department_id)
    if s.places is not None:
        if s.places:
            conds.append(Application.submitted_by_department_id.in_(s.places))
        else:  # the county centre and online: not submitted at a township's window or a village
            conds.append(or_(Application.submitted_by_department_id.is_(None),
                             Application.submitted_by_department_id.not_in(_local_places())))  # fmt: skip
    if s.matter_id is not None:
        conds.append(Application.matter_id == s.matter_id)
    return conds


def _local_places() -> Any:
    """Ids of the township departments and their villages (where 便民服务中心 and 代办点 are)."""
    parent = Department.__table__.alias("parent")
    return (
        select(Department.id)
        .outerjoin(parent, parent.c.id == Department.parent_id)
        .where(or_(Department.kind == DepartmentKind.TOWNSHIP,
                   and_(Department.kind == DepartmentKind.VILLAGE, parent.c.kind == DepartmentKind.TOWNSHIP)))
    )  # fmt: skip


def townships(session: Session) -> dict[int, tuple[str, tuple[int, ...]]]:
    """Every township department: id → (name, the ids of itself and its villages)."""
    deps = list(session.scalars(select(Department).where(Department.kind.in_([DepartmentKind.TOWNSHIP,
                                                                               DepartmentKind.VILLAGE]))))  # fmt: skip
    towns = {d.id: (d.name, [d.id]) for d in deps if d.kind == DepartmentKind.TOWNSHIP}
    for d in deps:
        if d.kind == DepartmentKind.VILLAGE and d.parent_id in towns:
            towns[d.parent_id][1].append(d.id)
    return {k: (name, tuple(sorted(ids))) for k, (name, ids) in sorted(towns.items(), key=lambda kv: kv[1][0])}


def places_of_division(session: Session, code: str) -> tuple[int, ...]:
    """The township departments placed in a geo division (its code) and their villages."""
    return tuple(i for tid, (_n, ids) in townships(session).items() for i in ids if _division(session, tid) == code)


def _division(session: Session, department_id: int) -> str | None:
    dep = session.get(Department, department_id)
    return dep.division_code if dep is not None else None


def count(session: Session, *, measure: str, s: AppSlice, now: datetime) -> int:
    return int(session.scalar(select(func.count(Application.id)).where(*where(measure, s, now))) or 0)


def ids(session: Session, *, measure: str, s: AppSlice, now: datetime) -> list[int]:
    """Every id the measure counts (for grouping and tests), oldest submission first."""
    stmt = select(Application.id).where(*where(measure, s, now)).order_by(Application.submitted_at, Application.id)
    return list(session.scalars(stmt.limit(MAX_IDS)))


def facts(session: Session, *, measure: str, s: AppSlice, now: datetime) -> list[tuple[Any, ...]]:
    """(id, responsible department, submitting department, submitted at, 到现场次数) of each application
    the measure counts: what the statistics group and sum."""
    stmt = (
        select(
            Application.id,
            Application.department_id,
            Application.submitted_by_department_id,
            Application.submitted_at,
            MatterVersion.visits,
        )
        .join(MatterVersion, MatterVersion.id == Application.matter_version_id)
        .where(*where(measure, s, now))
        .order_by(Application.id)
    )
    return [tuple(r) for r in session.execute(stmt)]


def rows(session: Session, *, measure: str, s: AppSlice, now: datetime, limit: int, offset: int = 0) -> list[Any]:
    """The measure's applications: overdue first, then the nearest due time, then the newest."""
    overdue = and_(Application.state == str(State.IN_PROGRESS), Application.due_at <= now)
    stmt = (
        select(Application)
        .where(*where(measure, s, now))
        .order_by(overdue.desc(), Application.due_at.asc().nulls_last(), Application.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def matter_names(session: Session, version_ids: set[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    stmt = select(MatterVersion.id, MatterVersion.name).where(MatterVersion.id.in_(version_ids))
    return {i: n for i, n in session.execute(stmt)}
