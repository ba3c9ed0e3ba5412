"""Read-only alarm and device queries for the operations view (ioc): one WHERE per measure, used for
the count, the grouped counts and the list alike.

* ``active`` alarms: not cleared (active or acknowledged) and raised before the period's end;
  ``active_<severity>`` the same for one severity; ``raised``: raised in ``[start, end)``.
* devices (things): ``devices`` all of them, ``online`` / ``offline`` / ``unknown`` by health.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from countyos.core import commitorder
from countyos.core.errors import NotFound
from countyos.sensing.models import Alarm, AlarmEvent, AlarmState, Health, Rule, Severity, Thing

OPEN_ALARM = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


@dataclass(frozen=True)
class SensingSlice:
    start: datetime | None = None
    end: datetime | None = None
    thing_ids: tuple[int, ...] | None = None  # e.g. the things in one township
    category_codes: tuple[str, ...] | None = None  # alarms of rules that raise cases of these categories


def _active(s: SensingSlice) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [Alarm.state.in_(OPEN_ALARM)]
    if s.end is not None:
        out.append(Alarm.raised_at < s.end)
    return out


def _raised(s: SensingSlice) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if s.start is not None:
        out.append(Alarm.raised_at >= s.start)
    if s.end is not None:
        out.append(Alarm.raised_at < s.end)
    return out


AlarmWhere = Callable[[SensingSlice], list[ColumnElement[bool]]]


def _active_of(severity: Severity) -> AlarmWhere:
    return lambda s: [*_active(s), Alarm.severity == severity]


ALARM_MEASURES: dict[str, AlarmWhere] = {
    "active": _active,
    "raised": _raised,
    **{f"active_{sev}": _active_of(sev) for sev in Severity},
}

DEVICE_MEASURES: dict[str, list[ColumnElement[bool]]] = {
    "devices": [],
    "online": [Thing.health == Health.ONLINE],
    "offline": [Thing.health == Health.OFFLINE],
    "unknown": [Thing.health == Health.UNKNOWN],
}


def alarm_where(*, measure: str, s: SensingSlice) -> list[ColumnElement[bool]]:
    conds = list(ALARM_MEASURES[measure](s))
    if s.thing_ids is not None:
        conds.append(Alarm.thing_id.in_(s.thing_ids))
    if s.category_codes is not None:
        conds.append(Alarm.rule_id.in_(select(Rule.id).where(Rule.case_category_code.in_(s.category_codes))))
    return conds


def alarm_statement(*, measure: str, s: SensingSlice) -> Select[Any]:
    rank = case(*((Alarm.severity == sev, i) for i, sev in enumerate(Severity)), else_=9)
    return (
        select(Alarm).where(*alarm_where(measure=measure, s=s)).order_by(rank, Alarm.raised_at.desc(), Alarm.id.desc())
    )


def alarm_count(session: Session, *, measure: str, s: SensingSlice) -> int:
    return int(session.scalar(select(func.count(Alarm.id)).where(*alarm_where(measure=measure, s=s))) or 0)


def alarm_rows(session: Session, *, measure: str, s: SensingSlice, limit: int, offset: int = 0) -> list[Alarm]:
    return list(session.scalars(alarm_statement(measure=measure, s=s).limit(limit).offset(offset)))


def alarm_count_by(
    session: Session, *, measure: str, s: SensingSlice, by: str, tz_offset_hours: int, dialect: str, tz: str
) -> dict[Any, int]:
    """Counts grouped by ``severity``, ``thing`` or the local ``hour`` / ``day`` of raising."""
    key: Any
    if by in ("hour", "day"):
        fmt = "%Y-%m-%d %H" if by == "hour" else "%Y-%m-%d"
        if dialect == "postgresql":
            key = func.to_char(func.timezone(tz, Alarm.raised_at), "YYYY-MM-DD HH24" if by == "hour" else "YYYY-MM-DD")
        else:
            key = func.strftime(fmt, Alarm.raised_at, f"{tz_offset_hours:+d} hours")
    else:
        key = {"severity": Alarm.severity, "thing": Alarm.thing_id}[by]
    stmt = select(key.label("k"), func.count(Alarm.id)).where(*alarm_where(measure=measure, s=s)).group_by(key)
    return {r[0]: int(r[1]) for r in session.execute(stmt)}


def device_where(*, measure: str, s: SensingSlice) -> list[ColumnElement[bool]]:
    conds = list(DEVICE_MEASURES[measure])
    if s.thing_ids is not None:
        conds.append(Thing.id.in_(s.thing_ids))
    return conds


def device_count(session: Session, *, measure: str, s: SensingSlice) -> int:
    return int(session.scalar(select(func.count(Thing.id)).where(*device_where(measure=measure, s=s))) or 0)


def device_rows(session: Session, *, measure: str, s: SensingSlice, limit: int, offset: int = 0) -> list[Thing]:
    order = case((Thing.health == Health.OFFLINE, 0), (Thing.health == Health.UNKNOWN, 1), else_=2)
    stmt = select(Thing).where(*device_where(measure=measure, s=s)).order_by(order, Thing.name, Thing.id)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def thing_positions(session: Session) -> list[tuple[int, float | None, float | None]]:
    return [(r.id, r.lon, r.lat) for r in session.execute(select(Thing.id, Thing.lon, Thing.lat))]


def things_version(session: Session) -> tuple[int, int, str]:
    """Changes when a thing is added, removed or moved (for caches of where things are)."""
    n, top, changed = session.execute(
        select(func.count(Thing.id), func.max(Thing.id), func.max(Thing.updated_at))
    ).one()
    return int(n or 0), int(top or 0), str(changed)


def device_points(session: Session, *, s: SensingSlice) -> list[dict[str, Any]]:
    """Every positioned device with its health and the most severe of its active alarms."""
    worst: dict[int, str] = {}
    ranks = {str(sev): i for i, sev in enumerate(Severity)}
    for thing_id, sev in session.execute(
        select(Alarm.thing_id, Alarm.severity).where(*alarm_where(measure="active", s=s))
    ):
        if thing_id not in worst or ranks.get(sev, 9) < ranks.get(worst[thing_id], 9):
            worst[thing_id] = str(sev)
    stmt = select(Thing.id, Thing.name, Thing.device_class, Thing.health, Thing.lon, Thing.lat).where(
        Thing.lon.is_not(None), *device_where(measure="devices", s=s)
    )
    return [
        {
            "id": r.id,
            "name": r.name,
            "device_class": r.device_class,
            "health": str(r.health),
            "lon": r.lon,
            "lat": r.lat,
            "alarm": worst.get(r.id),
        }
        for r in session.execute(stmt)
    ]


def last_alarm_event_position(session: Session) -> commitorder.Position:
    """Where the alarm timeline ends now, in commit order (``core.commitorder``)."""
    return commitorder.last(session, AlarmEvent.xact, AlarmEvent.id)


def alarm_events_after(session: Session, *, after: commitorder.Position, limit: int = 200) -> list[Any]:
    """Alarm timeline entries committed after position ``after`` (raised, acknowledged, cleared…),
    oldest first (commit order, ``core.commitorder``)."""
    where, order = commitorder.after(session, AlarmEvent.xact, AlarmEvent.id, after)
    stmt = (
        select(
            AlarmEvent.id,
            AlarmEvent.xact,
            AlarmEvent.at,
            AlarmEvent.action,
            AlarmEvent.to_state,
            Alarm.id.label("alarm_id"),
            Alarm.title,
            Alarm.severity,
            Alarm.case_id,
            Alarm.case_number,
            Thing.id.label("thing_id"),
            Thing.name.label("thing_name"),
            Thing.lon,
            Thing.lat,
        )
        .join(Alarm, Alarm.id == AlarmEvent.alarm_id)
        .join(Thing, Thing.id == Alarm.thing_id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
    )
    return list(session.execute(stmt))


def thing_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {r.id: r.name for r in session.execute(select(Thing.id, Thing.name).where(Thing.id.in_(ids)))}


def alarm_with_events(session: Session, *, alarm_id: int) -> tuple[Alarm, list[AlarmEvent]]:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound("Alarm %(id)s does not exist", id=alarm_id)
    events = list(session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)))
    return alarm, events


def device_with_alarms(session: Session, *, thing_id: int, limit: int = 100) -> tuple[Thing, list[Alarm]]:
    thing = session.get(Thing, thing_id)
    if thing is None:
        raise NotFound("Device %(id)s does not exist", id=thing_id)
    open_first = case((Alarm.state.in_(OPEN_ALARM), 0), else_=1)
    alarms = session.scalars(
        select(Alarm).where(Alarm.thing_id == thing_id).order_by(open_first, Alarm.raised_at.desc()).limit(limit)
    )
    return thing, list(alarms)
