"""Read-only case queries for the operations view (ioc): one WHERE per measure, used for the count,
the grouped counts and the list alike, so that a number and the records behind it cannot disagree.

Populations follow the evaluation (``evaluation.py``, ``cases/README.md``):

* flow measures count the cases **reported** in ``[start, end)`` and not merged into another case;
  ``to_close`` = registered and not voided, ``closed`` / ``closed_on_time`` / ``reworked`` are parts
  of it, ``rated`` / ``satisfied`` as in the satisfaction rate;
* stock measures (``open``, ``overdue``, ``due_soon``, ``urgent``) are the state **now** of the cases
  reported before ``end`` (the period's start does not apply: a backlog is a backlog).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, Text, and_, case, cast, func, literal_column, not_, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from countyos.cases.models import Case, CaseEvent, Category, DispatchRecord, Priority
from countyos.cases.service import evaluation
from countyos.cases.service.cases import visibility
from countyos.core import commitorder
from countyos.core.actor import Actor
from countyos.core.clock import to_local


@dataclass(frozen=True)
class CaseSlice:
    start: datetime | None = None
    end: datetime | None = None
    township_code: str | None = None
    category_ids: tuple[int, ...] | None = None  # a category and its descendants
    department_id: int | None = None
    grid_code: str | None = None


def _population(s: CaseSlice) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [Case.merged_into_id.is_(None)]
    if s.start is not None:
        out.append(Case.reported_at >= s.start)
    if s.end is not None:
        out.append(Case.reported_at < s.end)
    return out


def _backlog(s: CaseSlice, now: datetime) -> list[ColumnElement[bool]]:
    # "= true", not "IS 1": SQLite then uses the (is_open, step_deadline) index. A period that ends
    # after now bounds nothing (every case was reported before now), so the condition is left out.
    out: list[ColumnElement[bool]] = [Case.is_open == true()]
    if s.end is not None and s.end <= now:
        out.append(Case.reported_at < s.end)
    return out


def _to_close(s: CaseSlice) -> list[ColumnElement[bool]]:
    return [*_population(s), Case.registered_at.is_not(None), Case.voided_at.is_(None)]


_CLOSED_ON_TIME = and_(Case.closed_at.is_not(None), Case.closed_in_time.is_(True))
_SATISFIED = Case.satisfaction.in_(evaluation.SATISFIED)

Where = Callable[[CaseSlice, datetime], list[ColumnElement[bool]]]

MEASURES: dict[str, Where] = {
    "reported": lambda s, now: _population(s),
    "to_close": lambda s, now: _to_close(s),
    "closed": lambda s, now: [*_to_close(s), Case.closed_at.is_not(None)],
    "not_closed": lambda s, now: [*_to_close(s), Case.closed_at.is_(None)],
    "closed_on_time": lambda s, now: [*_to_close(s), _CLOSED_ON_TIME],
    "not_closed_on_time": lambda s, now: [*_to_close(s), not_(_CLOSED_ON_TIME)],
    "reworked": lambda s, now: [*_to_close(s), Case.rework_count > 0],
    "rated": lambda s, now: [*_population(s), Case.satisfaction.is_not(None)],
    "satisfied": lambda s, now: [*_population(s), _SATISFIED],
    "dissatisfied": lambda s, now: [*_population(s), Case.satisfaction.is_not(None), not_(_SATISFIED)],
    "open": lambda s, now: _backlog(s, now),
    "overdue": lambda s, now: [*_backlog(s, now), Case.paused_at.is_(None), Case.step_deadline <= now],
    "due_soon": lambda s, now: [
        *_backlog(s, now),
        Case.paused_at.is_(None),
        Case.step_warn_at <= now,
        Case.step_deadline > now,
    ],
    "urgent": lambda s, now: [*_backlog(s, now), Case.priority.in_([Priority.URGENT, Priority.CRITICAL])],
}


def where(session: Session, *, actor: Actor, measure: str, s: CaseSlice, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions of ``measure`` in the slice, limited to the cases the actor may see."""
    conds = list(MEASURES[measure](s, now))
    if s.township_code:
        conds.append(Case.township_code == s.township_code)
    if s.category_ids is not None:
        conds.append(Case.category_id.in_(s.category_ids))
    if s.department_id is not None:
        conds.append(Case.department_id == s.department_id)
    if s.grid_code:
        conds.append(Case.grid_code == s.grid_code)
    vis = visibility(session, actor)
    if vis is not None:
        conds.append(vis)
    return conds


def urgency_order(now: datetime) -> list[Any]:
    """Overdue first, then 特急 / 紧急 / 一般, then the nearest deadline, then the newest."""
    overdue = and_(Case.is_open.is_(True), Case.paused_at.is_(None), Case.step_deadline <= now)
    rank = case((Case.priority == Priority.CRITICAL, 0), (Case.priority == Priority.URGENT, 1), else_=2)
    return [overdue.desc(), rank, Case.step_deadline.asc().nulls_last(), Case.id.desc()]


def statement(session: Session, *, actor: Actor, measure: str, s: CaseSlice, now: datetime) -> Select[Any]:
    return select(Case).where(*where(session, actor=actor, measure=measure, s=s, now=now)).order_by(*urgency_order(now))


def count(session: Session, *, actor: Actor, measure: str, s: CaseSlice, now: datetime) -> int:
    stmt = select(func.count(Case.id)).where(*where(session, actor=actor, measure=measure, s=s, now=now))
    return int(session.scalar(stmt) or 0)


_CHUNK = 5000


def _urgent_ids(stmt: Select[Any], session: Session, now: datetime, limit: int, offset: int = 0) -> list[int]:
    """The ids of a page of the statement's cases, most urgent first. Sorting ids alone lets the
    database read the sort keys from an index (``ix_case_case_open_running``) instead of every row;
    only the page's rows are read afterwards."""
    return list(session.scalars(stmt.order_by(*urgency_order(now)).limit(limit).offset(offset)))


def rows(
    session: Session, *, actor: Actor, measure: str, s: CaseSlice, now: datetime, limit: int, offset: int = 0
) -> list[Case]:
    """The measure's cases, most urgent first (the order of ``statement``)."""
    ids_stmt = select(Case.id).where(*where(session, actor=actor, measure=measure, s=s, now=now))
    ids = _urgent_ids(ids_stmt, session, now, limit, offset)
    found: dict[int, Case] = {}
    for k in range(0, len(ids), _CHUNK):  # an export asks for up to 50 000: bound the IN list
        found.update((c.id, c) for c in session.scalars(select(Case).where(Case.id.in_(ids[k : k + _CHUNK]))))
    return [found[i] for i in ids if i in found]


def _local_bucket(session: Session, column: Any, fmt: str, tz: str) -> Any:
    """A text bucket of a UTC timestamp in local time: '%Y-%m-%d' (day) or '%H' (hour)."""
    if session.get_bind().dialect.name == "postgresql":
        pg = {"%Y-%m-%d": "YYYY-MM-DD", "%H": "HH24"}[fmt]
        return func.to_char(func.timezone(tz, column), pg)
    offset = to_local(datetime(2020, 1, 1, 0, 0), tz).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return func.strftime(fmt, column, f"{hours:+d} hours")


def _key(column: Any, default: Any) -> Any:
    """A grouping key the planner cannot read from an index in key order: SQLite would otherwise scan
    the whole table along the key's index to spare a sort of the few rows that match."""
    return func.coalesce(column, default)


GROUPS: dict[str, Callable[[Session, str], Any]] = {
    "day": lambda session, tz: _local_bucket(session, Case.reported_at, "%Y-%m-%d", tz),
    "hour": lambda session, tz: _local_bucket(session, Case.reported_at, "%H", tz),
    "category": lambda session, tz: _key(Case.category_id, 0),
    "township": lambda session, tz: _key(Case.township_code, ""),
    "department": lambda session, tz: _key(Case.department_id, 0),
    "grid": lambda session, tz: _key(Case.grid_code, ""),
    "state": lambda session, tz: _key(Case.state, ""),
    "step": lambda session, tz: _key(Case.step, ""),
    "priority": lambda session, tz: _key(Case.priority, ""),
}


def count_by(
    session: Session, *, actor: Actor, measure: str, s: CaseSlice, now: datetime, by: tuple[str, ...], tz: str
) -> dict[tuple[Any, ...], int]:
    """Counts of the measure grouped by the named keys (see ``GROUPS``)."""
    keys = [GROUPS[b](session, tz).label(f"k{i}") for i, b in enumerate(by)]
    stmt = (
        select(*keys, func.count(Case.id))
        .where(*where(session, actor=actor, measure=measure, s=s, now=now))
        .group_by(*keys)
    )
    return {tuple(r[:-1]): int(r[-1]) for r in session.execute(stmt)}


def map_points(session: Session, *, actor: Actor, measure: str, s: CaseSlice, now: datetime, limit: int) -> list[Any]:
    """Position, step, priority and clock of the measure's cases (most urgent first), for a map layer."""
    ids_stmt = select(Case.id).where(*where(session, actor=actor, measure=measure, s=s, now=now), Case.lon.is_not(None))
    ids = _urgent_ids(ids_stmt, session, now, limit)
    if not ids:
        return []
    stmt = select(
        Case.id,
        Case.number,
        Case.title,
        Case.lon,
        Case.lat,
        Case.state,
        Case.step,
        Case.priority,
        Case.paused_at,
        Case.step_warn_at,
        Case.step_deadline,
        Case.is_open,
        Case.grid_code,
    ).where(Case.id.in_(ids))
    found = {r.id: r for r in session.execute(stmt)}
    return [found[i] for i in ids if i in found]


def _const(text: str) -> Any:
    """A constant string written into the statement (no parameter: PostgreSQL's json_build_object
    cannot tell the type of an untyped one)."""
    return literal_column("'" + text.replace("'", "''") + "'", String)


def map_features_json(
    session: Session,
    *,
    actor: Actor,
    measure: str,
    s: CaseSlice,
    now: datetime,
    limit: int,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[int, str]:
    """The measure's cases with a position (most urgent first, at most ``limit``; only those inside
    ``bbox`` = west, south, east, north when given) as the text of a JSON array of GeoJSON point
    features with step, priority and clock level, and their number — built by the database
    (SQLite ``json_object``/``json_group_array``, PostgreSQL ``json_build_object``/``json_agg``), so
    that no row becomes a Python object. The same conditions and order as ``map_points`` and the
    lists."""
    conds = [*where(session, actor=actor, measure=measure, s=s, now=now), Case.lon.is_not(None)]
    if bbox is not None:
        west, south, east, north = bbox
        conds += [Case.lon >= west, Case.lon <= east, Case.lat >= south, Case.lat <= north]
    order = urgency_order(now)
    ids = select(Case.id).where(*conds).order_by(*order).limit(limit)
    level = case(
        (Case.paused_at.is_not(None), _const("paused")),
        (Case.step_deadline <= now, _const("red")),
        (Case.step_warn_at <= now, _const("yellow")),
        else_=_const("green"),
    )
    rows = (
        select(
            Case.id,
            Case.number,
            Case.title,
            Case.lon,
            Case.lat,
            Case.state,
            func.coalesce(Case.step, _const("")).label("step"),
            Case.priority,
            level.label("level"),
            func.row_number().over(order_by=order).label("k"),
        )
        .where(Case.id.in_(ids))
        .order_by(*order)
        .subquery()
    )
    pg = session.get_bind().dialect.name == "postgresql"
    obj, arr = (func.json_build_object, func.json_build_array) if pg else (func.json_object, func.json_array)
    c = rows.c
    feature = obj(
        _const("type"), _const("Feature"),
        _const("id"), c.id,
        _const("geometry"), obj(_const("type"), _const("Point"), _const("coordinates"), arr(c.lon, c.lat)),
        _const("properties"), obj(
            _const("id"), c.id,
            _const("number"), c.number,
            _const("title"), c.title,
            _const("state"), c.state,
            _const("step"), c.step,
            _const("priority"), c.priority,
            _const("level"), c.level,
            _const("url"), _const("/cases/") + cast(c.id, String),
        ),
    )  # fmt: skip
    # SQLite (before 3.44) has no ORDER BY inside an aggregate: it aggregates the ordered subquery's
    # rows as they come, which is their order (an aggregate's subquery with ORDER BY is not flattened).
    agg = func.json_agg(aggregate_order_by(feature, c.k)) if pg else func.json_group_array(feature)
    n, text = session.execute(select(func.count(), cast(agg, Text))).one()
    return int(n or 0), text or "[]"


# --- categories, for the filter ------------------------------------------------------------------


def category_choices(session: Session) -> list[tuple[int, str, str, int | None, bool]]:
    """(id, code, name, parent id, is group) of the active categories that have cases."""
    used = select(Case.category_id).distinct().scalar_subquery()
    leaf = session.execute(
        select(Category.id, Category.service_code, Category.name, Category.parent_id, Category.is_group).where(
            Category.id.in_(used)
        )
    ).all()
    parent_ids = {r.parent_id for r in leaf if r.parent_id is not None}
    parents = (
        session.execute(
            select(Category.id, Category.service_code, Category.name, Category.parent_id, Category.is_group).where(
                Category.id.in_(parent_ids)
            )
        ).all()
        if parent_ids
        else []
    )
    out = {r.id: (r.id, r.service_code, r.name, r.parent_id, r.is_group) for r in [*leaf, *parents]}
    return sorted(out.values(), key=lambda t: t[1])


def category_with_descendants(session: Session, *, category_id: int) -> tuple[int, ...]:
    ids = {category_id}
    frontier = {category_id}
    while frontier:
        kids = set(session.scalars(select(Category.id).where(Category.parent_id.in_(frontier))))
        frontier = kids - ids
        ids |= kids
    return tuple(sorted(ids))


def service_codes(session: Session, *, ids: set[int]) -> list[str]:
    """The Open311 service codes of these categories (alarm rules name the category they raise)."""
    if not ids:
        return []
    return sorted(session.scalars(select(Category.service_code).where(Category.id.in_(ids))))


def category_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Category.id, Category.name).where(Category.id.in_(ids))).all())


# --- evaluation of a slice (rankings) -----------------------------------------------------------

_EVAL_COLUMNS = (
    Case.id,
    Case.department_id,
    Case.township_code,
    Case.township_name,
    Case.grid_code,
    Case.village_name,
    Case.reporter_user_id,
    Case.registered_at,
    Case.register_deadline,
    Case.voided_at,
    Case.self_handled,
    Case.closed_at,
    Case.closed_in_time,
    Case.rework_count,
    Case.public_report,
    Case.dispatched_at,
    Case.dispatch_deadline,
    Case.handled_in_time,
    Case.satisfaction,
)


def evaluate_slice(
    session: Session, *, actor: Actor, subject: str, s: CaseSlice, now: datetime
) -> list[evaluation.Row]:
    """``evaluation.evaluate`` for the cases of a slice (township / category filters applied): the
    same counters, rates, composite scores and grades, from the needed columns only."""
    conds = where(session, actor=actor, measure="reported", s=s, now=now)
    population = select(Case.id).where(*conds).scalar_subquery()
    dispatches = dict(
        session.execute(
            select(DispatchRecord.case_id, func.count())
            .where(DispatchRecord.case_id.in_(population))
            .group_by(DispatchRecord.case_id)
        ).all()
    )
    groups: dict[str, evaluation.Counts] = defaultdict(evaluation.Counts)
    sample: dict[str, Any] = {}
    for row in session.execute(select(*_EVAL_COLUMNS).where(*conds)):
        k = evaluation._key(row, subject, {})  # type: ignore[arg-type]  # rankings: departments, townships
        if k is None:
            continue
        groups[k].add(row, int(dispatches.get(row.id, 0)))  # type: ignore[arg-type]
        sample.setdefault(k, row)
    weights, grades = evaluation.scheme(session, subject=subject)
    names = evaluation._names(session, subject, groups.keys(), sample)
    out = []
    for k, counts in groups.items():
        rates = evaluation.rates_of(counts)
        score = evaluation.composite(rates, weights)
        out.append(evaluation.Row(k, names.get(k, k), counts, rates, score, evaluation.grade(score, grades)))
    return sorted(out, key=lambda r: (-(r.score or -1), r.name))


# --- the live feed ------------------------------------------------------------------------------

FEED_ACTIONS = ("report", "dispatch", "redispatch", "close", "self_close", "check_fail", "supervise")


def last_event_position(session: Session) -> commitorder.Position:
    """Where the timeline ends now, in commit order (``core.commitorder``)."""
    return commitorder.last(session, CaseEvent.xact, CaseEvent.id)


def events_after(session: Session, *, after: commitorder.Position, limit: int = 200) -> list[Any]:
    """Timeline entries committed after position ``after`` that the operations view shows (new cases,
    dispatches, closures, rework, supervision), oldest first (commit order, ``core.commitorder``),
    with the case's place and category."""
    where, order = commitorder.after(session, CaseEvent.xact, CaseEvent.id, after)
    stmt = (
        select(
            CaseEvent.id,
            CaseEvent.xact,
            CaseEvent.at,
            CaseEvent.action,
            CaseEvent.to_state,
            CaseEvent.actor_name,
            Case.id.label("case_id"),
            Case.number,
            Case.title,
            Case.lon,
            Case.lat,
            Case.township_code,
            Case.township_name,
            Case.category_id,
            Case.priority,
            Case.department_id,
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*where, CaseEvent.action.in_(FEED_ACTIONS))
        .order_by(*order)
        .limit(limit)
    )
    return list(session.execute(stmt))


def visible_case_ids(session: Session, *, actor: Actor, ids: set[int]) -> set[int]:
    vis = visibility(session, actor)
    if vis is None or not ids:
        return set(ids)
    return set(session.scalars(select(Case.id).where(Case.id.in_(ids), vis)))
