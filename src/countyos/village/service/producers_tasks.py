"""Tasks for producers from sensing alarms (frost, high temperature, soil drought …) on the devices
attached to their bases, and the latest values of those devices.

``make_tasks`` (the job ``village.producers.tasks``) turns each alarm raised on an attached device since
it was attached into ONE task for the base's producer (a task per alarm: a repeated or re-raised alarm is
the same alarm and makes no new task). A cleared alarm leaves its task open for the producer to close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.settings import get_settings
from countyos.org.service import audit
from countyos.sensing.models import Alarm, Datastream, Latest, Thing
from countyos.sensing.service.times import from_us
from countyos.village.models.producers import BaseDevice, ProductionBase, Task, TaskState
from countyos.village.service import scope

LOOKBACK = timedelta(days=7)  # alarms older than this when first seen make no task
MAX_PER_RUN = 1000
TASK_TITLE = N_("%(base)s: %(alarm)s — please check the base")


def _county_locale() -> str:
    return getattr(get_settings(), "default_locale", None) or "zh_CN"


def make_tasks(session: Session, *, now: datetime | None = None) -> int:
    """One task for each new alarm on a device attached to a base; the number made."""
    now = now or utcnow()
    stmt = (
        select(Alarm, BaseDevice.base_id, ProductionBase.entity_id, ProductionBase.name)
        .join(BaseDevice, BaseDevice.thing_id == Alarm.thing_id)
        .join(ProductionBase, ProductionBase.id == BaseDevice.base_id)
        .outerjoin(Task, Task.alarm_id == Alarm.id)
        .where(Task.id.is_(None), Alarm.raised_at >= BaseDevice.attached_at, Alarm.raised_at >= now - LOOKBACK)
        .order_by(Alarm.id)
        .limit(MAX_PER_RUN)
    )
    made = 0
    with use_locale(_county_locale()):
        for alarm, base_id, entity_id, base_name in session.execute(stmt).all():
            title = gettext(TASK_TITLE, base=base_name, alarm=alarm.title)[:300]
            session.add(Task(entity_id=entity_id, base_id=base_id, alarm_id=alarm.id, title=title, created_at=now))
            made += 1
    if made:
        session.flush()
        audit.record(session, actor=Actor(id=None, name="system"), action="village.producers.task.make",
                     target_type="village_task", detail={"made": made})  # fmt: skip
    return made


def list_tasks(
    session: Session,
    *,
    actor: Actor,
    state: TaskState | None = TaskState.OPEN,
    base_id: int | None = None,
    entity_id: int | None = None,
    limit: int = 100,
) -> list[Task]:
    """The tasks of the entities this person acts for (everyone's for the bureau)."""
    stmt = select(Task)
    if not scope.sees_all(actor) or (entity_id is None and base_id is None):
        stmt = stmt.where(Task.entity_id.in_(scope.entity_ids_of(session, actor) or [0]))
    if state is not None:
        stmt = stmt.where(Task.state == state)
    if base_id is not None:
        stmt = stmt.where(Task.base_id == base_id)
    if entity_id is not None:
        stmt = stmt.where(Task.entity_id == entity_id)
    return list(session.scalars(stmt.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)))


def open_count(session: Session, *, actor: Actor) -> int:
    """Open tasks of the entities this person acts for (the home page's queue)."""
    ids = scope.entity_ids_of(session, actor)
    if not ids:
        return 0
    stmt = select(func.count()).where(Task.entity_id.in_(ids), Task.state == TaskState.OPEN)
    return session.scalar(stmt) or 0


def done(session: Session, *, actor: Actor, task_id: int, note: str | None = None) -> Task:
    t = session.get(Task, task_id)
    if t is None:
        raise NotFound(N_("No such task"))
    try:
        scope.require_member(session, actor, t.entity_id)
    except Exception as exc:
        raise NotFound(N_("No such task")) from exc
    if t.state == TaskState.DONE:
        raise Conflict(N_("This task is done already"))
    t.state, t.done_at, t.done_by = TaskState.DONE, utcnow(), actor.id
    t.note = (note or "").strip()[:500] or None
    session.flush()
    audit.record(session, actor=actor, action="village.producers.task.done", target_type="village_task",
                 target_id=t.id, detail={"base": t.base_id, "alarm": t.alarm_id})  # fmt: skip
    return t


@dataclass(frozen=True)
class Reading:
    metric: str | None
    name: str
    value: float | None
    unit: str | None
    at: datetime | None


def latest_values(session: Session, *, thing_ids: list[int]) -> dict[int, list[Reading]]:
    """The latest value of each datastream of these devices, by device."""
    if not thing_ids:
        return {}
    stmt = (
        select(Datastream.thing_id, Datastream.metric, Datastream.name, Datastream.unit_symbol, Latest)
        .outerjoin(Latest, Latest.datastream_id == Datastream.id)
        .where(Datastream.thing_id.in_(thing_ids))
        .order_by(Datastream.thing_id, Datastream.metric)
    )
    out: dict[int, list[Reading]] = {}
    for thing_id, metric, name, unit, latest in session.execute(stmt).all():
        if metric == "battery":
            continue
        at = from_us(latest.phenomenon_us) if latest is not None else None
        out.setdefault(thing_id, []).append(
            Reading(metric, name, latest.result if latest is not None else None, unit, at)
        )
    return out


def things(session: Session, thing_ids: list[int]) -> dict[int, Thing]:
    if not thing_ids:
        return {}
    return {t.id: t for t in session.scalars(select(Thing).where(Thing.id.in_(thing_ids)))}
