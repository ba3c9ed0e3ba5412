"""Platform usage: store the drained counters, and report them per module, role and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from countyos.core.usage import ActiveKey, UsageKey
from countyos.ioc.models import UsageDaily, UsageUserDaily

KEEP_ACTIVE_DAYS = 400  # who was active: kept this many days


def store(session: Session, *, counts: dict[UsageKey, int]) -> int:
    """Add counts to the daily rows (upsert); returns the number of rows touched."""
    if not counts:
        return 0
    rows = [{"day": d, "module": m[:40], "role": r[:40], "kind": k, "count": n} for (d, m, r, k), n in counts.items()]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(UsageDaily).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "module", "role", "kind"],
        set_={"count": UsageDaily.count + stmt.excluded.count},
    )
    session.execute(stmt)
    return len(rows)


def store_active(session: Session, *, seen: set[ActiveKey]) -> int:
    """Remember who was active (insert if absent); returns the number of rows offered."""
    if not seen:
        return 0
    rows = [{"day": d, "module": m[:40], "user_id": u, "role": r[:40]} for d, m, u, r in seen]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), 5000):
        stmt = insert(UsageUserDaily).values(rows[start : start + 5000])
        session.execute(stmt.on_conflict_do_nothing(index_elements=["day", "module", "user_id", "role"]))
    return len(rows)


def prune_active(session: Session, *, before: date) -> int:
    """Forget who was active before ``before``; returns the number of rows removed."""
    result = session.execute(delete(UsageUserDaily).where(UsageUserDaily.day < before))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class UsageReport:
    days: list[date]
    modules: list[str]
    by_module_day: dict[str, list[int]]  # module → counts aligned with days
    by_module_role: list[tuple[str, str, int, int, int]]  # module, role, views, api, actions
    total: int


def report(session: Session, *, since: date, until: date) -> UsageReport:
    """Counts from ``since`` to ``until`` inclusive."""
    base = select(UsageDaily).where(UsageDaily.day >= since, UsageDaily.day <= until)
    per_day = session.execute(
        select(UsageDaily.module, UsageDaily.day, func.sum(UsageDaily.count))
        .where(UsageDaily.day >= since, UsageDaily.day <= until)
        .group_by(UsageDaily.module, UsageDaily.day)
    ).all()
    days = [date.fromordinal(o) for o in range(since.toordinal(), until.toordinal() + 1)]
    index = {d: i for i, d in enumerate(days)}
    by_module_day: dict[str, list[int]] = {}
    for module, day, n in per_day:
        by_module_day.setdefault(module, [0] * len(days))[index[day]] += int(n)
    per_role: dict[tuple[str, str], list[int]] = {}
    for row in session.scalars(base):
        slot = per_role.setdefault((row.module, row.role), [0, 0, 0])
        slot[{"view": 0, "api": 1, "action": 2}.get(row.kind, 1)] += row.count
    table: list[tuple[str, str, int, int, int]] = [(m, r, v[0], v[1], v[2]) for (m, r), v in per_role.items()]
    table.sort(key=lambda t: -(t[2] + t[3] + t[4]))
    modules = sorted(by_module_day, key=lambda m: -sum(by_module_day[m]))
    return UsageReport(
        days=days,
        modules=modules,
        by_module_day=by_module_day,
        by_module_role=[(m, r, a, b, c) for m, r, a, b, c in table],
        total=sum(sum(v) for v in by_module_day.values()),
    )
