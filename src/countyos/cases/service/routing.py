"""Routing as data: category × township/grid → responsible department (+ co-handling departments).

A rule matches when each of its non-empty fields matches the case (a category rule also matches the
category's children). The most specific match wins: a category before "any category", then a grid
before a township before the whole county. Dispatchers edit the rules; every edit is audited, and
every dispatch records the suggestion and the choice (``DispatchRecord``) so overrides are reportable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case as sa_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.models import Case, Category, DispatchRecord, RoutingRule
from countyos.cases.service import categories
from countyos.core.actor import Actor
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.org.models import Department
from countyos.org.service import audit, departments


@dataclass(frozen=True)
class Suggestion:
    department_id: int
    co_department_ids: list[int]
    rule_id: int


class _ActiveRule(NamedTuple):
    id: int
    category_id: int | None
    township_code: str | None
    grid_code: str | None
    department_id: int
    co_department_ids: list[int]


_RULES: HotCache[list[_ActiveRule]] = HotCache("routing rules", tables=(RoutingRule.__tablename__,))


def _active_rules(session: Session) -> list[_ActiveRule]:
    rows = session.scalars(select(RoutingRule).where(RoutingRule.is_active.is_(True)).order_by(RoutingRule.id))
    return [
        _ActiveRule(r.id, r.category_id, r.township_code, r.grid_code, r.department_id, list(r.co_department_ids or []))
        for r in rows
    ]


def suggest(
    session: Session,
    *,
    category: Category | categories.CategoryInfo,
    township_code: str | None,
    grid_code: str | None,
) -> Suggestion | None:
    chain = categories.chain_of(session, category)
    rows = [
        r
        for r in _RULES.get(session, None, lambda: _active_rules(session))
        if (r.category_id is None or r.category_id in chain)
        and (r.township_code is None or r.township_code == (township_code or ""))
        and (r.grid_code is None or r.grid_code == (grid_code or ""))
    ]
    if not rows:
        return None

    def rank(r: _ActiveRule) -> tuple[int, int, int, int]:
        cat_depth = chain.index(r.category_id) if r.category_id in chain else len(chain)
        return (cat_depth, 0 if r.grid_code else 1, 0 if r.township_code else 1, r.id)

    best = min(rows, key=rank)
    return Suggestion(best.department_id, list(best.co_department_ids), best.id)


def get(session: Session, *, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("Routing rule %(id)s does not exist", id=rule_id)
    return rule


def list_rules(session: Session, *, category_id: int | None = None) -> list[RoutingRule]:
    stmt = select(RoutingRule).order_by(RoutingRule.category_id, RoutingRule.township_code, RoutingRule.grid_code)
    if category_id is not None:
        stmt = stmt.where(RoutingRule.category_id == category_id)
    return list(session.scalars(stmt))


def _check(session: Session, department_id: int, co: list[int], township: str | None, grid: str | None) -> None:
    departments.get(session, department_id=department_id)
    for d in co:
        departments.get(session, department_id=d)
    if department_id in co:
        raise ValidationFailed("The responsible department cannot also be a co-handling department")
    if township and (len(township) != 9 or not township.isdigit()):
        raise ValidationFailed("A township code has 9 digits")
    if grid and len(grid) != 15:
        raise ValidationFailed("A grid code has 15 characters")


def save_rule(
    session: Session,
    *,
    actor: Actor,
    department_id: int,
    category_id: int | None = None,
    township_code: str | None = None,
    grid_code: str | None = None,
    co_department_ids: list[int] | None = None,
    note: str | None = None,
    rule_id: int | None = None,
) -> RoutingRule:
    co = sorted(set(co_department_ids or []))
    township_code, grid_code = township_code or None, grid_code or None
    _check(session, department_id, co, township_code, grid_code)
    if category_id is not None:
        categories.get(session, category_id=category_id)
    if rule_id is None:
        rule = RoutingRule()
        session.add(rule)
        before = None
    else:
        rule = get(session, rule_id=rule_id)
        before = _snapshot(rule)
    rule.category_id, rule.township_code, rule.grid_code = category_id, township_code, grid_code
    rule.department_id, rule.co_department_ids, rule.note = department_id, co, note
    rule.is_active, rule.updated_by = True, actor.name
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.routing.save",
        target_type="case_routing_rule",
        target_id=rule.id,
        detail={"before": before, "after": _snapshot(rule)},
    )
    return rule


def delete_rule(session: Session, *, actor: Actor, rule_id: int) -> None:
    rule = get(session, rule_id=rule_id)
    snap = _snapshot(rule)
    session.delete(rule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.routing.delete",
        target_type="case_routing_rule",
        target_id=rule_id,
        detail={"before": snap},
    )


def _snapshot(r: RoutingRule) -> dict[str, object]:
    return {
        "category_id": r.category_id,
        "township_code": r.township_code,
        "grid_code": r.grid_code,
        "department_id": r.department_id,
        "co_department_ids": list(r.co_department_ids or []),
    }


@dataclass(frozen=True)
class OverrideRow:
    department_id: int | None
    department_name: str
    dispatches: int
    overridden: int

    @property
    def rate(self) -> float:
        return self.overridden / self.dispatches if self.dispatches else 0.0


def override_report(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[OverrideRow]:
    """Per suggested department: how often the dispatcher chose another department."""
    stmt = select(
        DispatchRecord.suggested_department_id,
        func.count(),
        func.sum(sa_case((DispatchRecord.overridden.is_(True), 1), else_=0)),
    ).group_by(DispatchRecord.suggested_department_id)
    if since:
        stmt = stmt.where(DispatchRecord.at >= since)
    if until:
        stmt = stmt.where(DispatchRecord.at < until)
    names = {i: n for i, n in session.execute(select(Department.id, Department.name)).all()}
    out = [
        OverrideRow(dep, names.get(dep, "—") if dep else "—", int(n), int(o or 0))
        for dep, n, o in session.execute(stmt).all()
    ]
    return sorted(out, key=lambda r: (-r.overridden, r.department_name))


def overrides(session: Session, *, limit: int = 200) -> list[tuple[DispatchRecord, Case]]:
    stmt = (
        select(DispatchRecord, Case)
        .join(Case, Case.id == DispatchRecord.case_id)
        .where(DispatchRecord.overridden.is_(True))
        .order_by(DispatchRecord.at.desc())
        .limit(limit)
    )
    return [(d, c) for d, c in session.execute(stmt).all()]
