"""Active users: the distinct people who used the platform (or a module of it, in a role) in a period.

Read from ``ioc_usage_user_daily`` (one row per county day, module, person and role; ``core.usage`` collects
them, ``ioc.jobs.flush_usage`` stores them, 400 days kept). ``count`` is the number, ``rows`` the people
behind it (for a records list): ONE condition list makes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session

from countyos.core.i18n import N_
from countyos.core.listing import ListedRecord
from countyos.ioc.models import UsageUserDaily
from countyos.org.service import departments, users

MAX_ROWS = 1000


def where(
    since: date, until: date, module: str | Sequence[str] | None = None, role: str | None = None
) -> list[ColumnElement[bool]]:
    """The conditions: county days ``since``..``until`` inclusive; a usage module (path segment) or several;
    a role code."""
    cond: list[ColumnElement[bool]] = [UsageUserDaily.day >= since, UsageUserDaily.day <= until]
    if isinstance(module, str):
        cond.append(UsageUserDaily.module == module)
    elif module is not None:
        cond.append(UsageUserDaily.module.in_(list(module)))
    if role is not None:
        cond.append(UsageUserDaily.role == role)
    return cond


def count(
    session: Session, since: date, until: date, module: str | Sequence[str] | None = None, role: str | None = None
) -> int:
    """How many distinct people were active in the period."""
    stmt = select(func.count(distinct(UsageUserDaily.user_id))).where(*where(since, until, module, role))
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class ActiveUser:
    user_id: int
    display_name: str
    department: str
    roles: tuple[str, ...]  # role codes they were active in
    days: int  # county days active in the period
    last_day: date

    @property
    def id(self) -> int:
        return self.user_id


def rows(
    session: Session,
    since: date,
    until: date,
    module: str | Sequence[str] | None = None,
    role: str | None = None,
    *,
    limit: int = 200,
    offset: int = 0,
) -> list[ActiveUser]:
    """The people ``count`` counts, the most days active first, with their name, department and roles."""
    cond = where(since, until, module, role)
    days = func.count(distinct(UsageUserDaily.day))
    stmt = (
        select(UsageUserDaily.user_id, days, func.max(UsageUserDaily.day))
        .where(*cond)
        .group_by(UsageUserDaily.user_id)
        .order_by(days.desc(), UsageUserDaily.user_id)
        .limit(min(max(limit, 0), MAX_ROWS))
        .offset(max(offset, 0))
    )
    found = session.execute(stmt).all()
    ids = [r[0] for r in found]
    if not ids:
        return []
    roles: dict[int, set[str]] = {}
    for uid, code in session.execute(
        select(UsageUserDaily.user_id, UsageUserDaily.role).where(*cond, UsageUserDaily.user_id.in_(ids)).distinct()
    ):
        roles.setdefault(uid, set()).add(code)
    people = users.colleagues(session, user_ids=ids)
    deps = {d.id: d.name for d in departments.all_active(session)}
    out = []
    for uid, n, last in found:
        p = people.get(uid)
        dep = deps.get(p.department_id, "") if p is not None and p.department_id is not None else ""
        out.append(ActiveUser(uid, p.display_name if p else "", dep, tuple(sorted(roles.get(uid, ()))), int(n), last))
    return out


def describe(row: ActiveUser) -> ListedRecord:
    """One person of the list, as the operations view's records list shows it (opening the user's page)."""
    return ListedRecord(
        row.user_id, "", row.display_name, row.department, N_("Active user"), "", "none", None, row.department,
        f"/admin/users/{row.user_id}",
    )  # fmt: skip
