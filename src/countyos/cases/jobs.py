"""Scheduled work of the cases domain.

``sweep_deadlines`` raises each open case's warning level to yellow (80 % of its step's limit) or red
(overdue) and tells the people responsible, the 值班长 and the department leader. It is safe on several
workers at once: the level is raised by a conditional UPDATE (``… WHERE warn_level < new``), so only
the worker whose UPDATE changed the row queues the messages, and the messages' dedupe keys are
unique as a second guard. ``deliver_notifications`` sends queued external messages after commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from countyos.cases.models import Case
from countyos.cases.service import notify, people
from countyos.cases.service.transitions import responsible_user_ids
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.i18n import N_
from countyos.core.scheduler import Job

BATCH = 500
YELLOW, RED = 1, 2


def due(session: Session, now: datetime, limit: int = BATCH) -> list[Case]:
    stmt = (
        select(Case)
        .where(
            Case.is_open.is_(True),
            Case.paused_at.is_(None),
            or_(
                and_(Case.step_deadline <= now, Case.warn_level < RED),
                and_(Case.step_warn_at <= now, Case.warn_level < YELLOW),
            ),
        )
        .order_by(Case.step_deadline)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def sweep(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """One pass in the caller's transaction. Returns how many cases turned yellow and red."""
    now = now or utcnow()
    counts = {"yellow": 0, "red": 0}
    for case in due(session, now):
        assert case.step_deadline is not None
        level = RED if case.step_deadline <= now else YELLOW
        changed = session.execute(
            update(Case)
            .where(Case.id == case.id, Case.warn_level < level, Case.step_seq == case.step_seq)
            .values(warn_level=level)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            continue  # another worker got there first, or the case moved on
        name = "red" if level == RED else "yellow"
        counts[name] += 1
        recipients = responsible_user_ids(session, case)
        recipients += [u.id for u in people.holders(session, permission="case.shift")]
        if case.department_id is not None:
            recipients += [u.id for u in people.by_role(session, role="leader", department_id=case.department_id)]
        title = f"{case.number} {case.title}"
        body = N_("The time limit has passed") if level == RED else N_("80% of the time limit is used")
        notify.queue(
            session,
            key=f"sla:{case.id}:{case.step_seq}:{name}",
            kind=name,
            case_id=case.id,
            title=title,
            body=body,
            user_ids=recipients,
        )
    session.flush()
    return counts


def sweep_deadlines(db: Database) -> dict[str, int]:
    with db.unit_of_work() as session:
        return sweep(session)


def deliver_notifications(db: Database) -> int:
    with db.unit_of_work() as session:
        return notify.deliver_pending(session)


JOBS = [
    Job("cases.sweep_deadlines", 60, sweep_deadlines),
    Job("cases.deliver_notifications", 30, deliver_notifications),
]
