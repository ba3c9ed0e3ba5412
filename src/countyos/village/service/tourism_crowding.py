"""Crowding (拥挤度) of the scenic spots: levels, alarms, the manager's notice and the 限流 case.

Each evaluation (job ``village.tourism.crowding``, every minute) takes a spot's live 在园人数 as a share of
its instantaneous capacity and compares it with the levels of ``data/tourism_crowding.json``
(75 %, 90 %, 100 %):

    normal ──≥75 %──▶ l75 ──≥90 %──▶ l90 ──≥100 %──▶ l100      (up: at once, several steps at a time)
       ▲                                                │
       └────────────── < 75 % − hysteresis ─────────────┘      (down: only back to normal)

- Crossing up into a level raises ONE sensing alarm of kind ``crowding`` on the spot's entry counter
  (the alarm of the level below is cleared as "escalated"), notifies the spot's manager in the inbox and,
  at 90 % and 100 %, opens a 限流 case (category ``TOUR-LIMIT`` 景区限流, channel 物联感知). 75 % is a
  warning only: people are still comfortable and the manager can prepare.
- Staying in a level, or falling back between levels, does nothing: a spot that reached 100 % keeps its
  entry limited until it empties below the lowest threshold less the hysteresis (70 % by default), so
  the figure hovering around a threshold never raises alarm after alarm.
- Falling below that clears the open alarm and sets the spot back to ``normal``; the next crossing up is a
  new crossing with a new alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import CategoryKind, Channel, Priority
from countyos.cases.service import cases, categories, notify
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.settings import get_settings
from countyos.org.service import audit
from countyos.sensing.models import Alarm, AlarmKind, AlarmState, Severity
from countyos.sensing.service import alarms
from countyos.village.models.tourism import Crowding, Spot, SpotCounter
from countyos.village.service import tourism, tourism_flow

ACTOR = Actor(id=None, name="village")
ORDER = [Crowding.NORMAL, Crowding.WARN, Crowding.HIGH, Crowding.FULL]
PRIORITY = {Crowding.HIGH: Priority.URGENT, Crowding.FULL: Priority.CRITICAL}
NEW_ALARM_EACH_CROSSING = -1  # dedupe window (s): a crossing after a clear is always a new alarm


@dataclass(frozen=True)
class Change:
    spot_id: int
    before: Crowding
    after: Crowding
    in_park: int
    percent: float
    alarm_id: int | None = None
    case_id: int | None = None


def _levels() -> list[dict[str, Any]]:
    return list(tourism.crowding_config()["levels"])


def level_for(percent: float) -> Crowding:
    """The highest level whose threshold the share reaches."""
    reached = Crowding.NORMAL
    for lv in _levels():
        if percent >= lv["percent"]:
            reached = Crowding(lv["code"])
    return reached


def clear_below() -> float:
    lowest = min(float(lv["percent"]) for lv in _levels())
    return lowest - float(tourism.crowding_config()["hysteresis_points"])


def next_level(current: Crowding, percent: float) -> Crowding:
    """Up to the level reached when higher; back to normal below the hysteresis; else unchanged."""
    reached = level_for(percent)
    if ORDER.index(reached) > ORDER.index(current):
        return reached
    if current != Crowding.NORMAL and percent < clear_below():
        return Crowding.NORMAL
    return current


def _spec(level: Crowding) -> dict[str, Any]:
    return next(lv for lv in _levels() if lv["code"] == level.value)


def _title(spot: Spot, level: Crowding, in_park: int) -> str:
    with use_locale(get_settings().default_locale):
        return gettext(
            "%(spot)s: %(n)s visitors in the park, %(percent)s%% of its capacity (%(level)s)",
            spot=spot.name,
            n=in_park,
            percent=_spec(level)["percent"],
            level=gettext(tourism.CROWDING_NAMES[level]),
        )


def category_code(session: Session) -> str:
    """The service code of the 景区限流 case category, made (audited, as the system) when missing."""
    spec = tourism.crowding_config()["case_category"]
    kind = CategoryKind(spec["kind"])
    cat = categories.get_by_code(session, kind=kind, code=spec["code"])
    if cat is None:
        cat = categories.create(session, actor=ACTOR, kind=kind, code=spec["code"], name=spec["name"])
    return cat.service_code


def _open_case(
    session: Session, spot: Spot, level: Crowding, title: str, alarm_id: int
) -> tuple[int | None, str | None, str | None]:
    if spot.lon is None or spot.lat is None:
        return None, None, "the spot has no position"
    try:
        with session.begin_nested():
            cat = categories.get_by_service_code(session, code=category_code(session))
            assert cat is not None
            case, _, _ = cases.create(
                session,
                actor=ACTOR,
                new=cases.NewCase(
                    channel=Channel.IOT,
                    category_id=cat.id,
                    title=title[:200],
                    description=f"{title}\n告警 Alarm #{alarm_id}",
                    lon=spot.lon,
                    lat=spot.lat,
                    priority=PRIORITY.get(level, Priority.URGENT),
                    external_id=f"spot:{spot.id}:alarm:{alarm_id}"[:60],
                    idempotency_key=f"village-crowding-{alarm_id}",
                    context={"cause": "village.tourism.crowding", "spot_id": spot.id, "level": level.value},
                ),
            )
        return case.id, case.number, None
    except CountyError as exc:
        return None, None, str(exc.message)[:300]


def _clear_open(session: Session, *, thing_id: int, datastream_id: int, at: datetime, note: str) -> None:
    alarm = alarms.open_alarm_for(
        session, kind=AlarmKind.CROWDING, rule_id=None, thing_id=thing_id, datastream_id=datastream_id
    )
    if alarm is not None and alarm.state != AlarmState.CLEARED:
        alarms.apply(session, alarm=alarm, action="clear", actor=ACTOR, at=at, note=note)


def _raise(session: Session, spot: Spot, level: Crowding, in_park: int, percent: float, at: datetime) -> Change:
    where = tourism.entry_thing_id(session, spot_id=spot.id)
    if where is None:
        return Change(spot.id, spot.crowding, level, in_park, percent)
    thing_id, ds = where
    _clear_open(session, thing_id=thing_id, datastream_id=ds, at=at, note=N_("Escalated to a higher crowding level"))
    title = _title(spot, level, in_park)
    spec = _spec(level)
    alarm, _ = alarms.raise_alarm(
        session,
        kind=AlarmKind.CROWDING,
        thing_id=thing_id,
        datastream_id=ds,
        rule_id=None,
        severity=Severity(spec["severity"]),
        title=title,
        value=float(in_park),
        dedupe_seconds=NEW_ALARM_EACH_CROSSING,
        context={"spot_id": spot.id, "level": level.value, "percent": percent},
        at=at,
    )
    case_id = None
    if spec["opens_case"]:
        case_id, number, error = _open_case(session, spot, level, title, alarm.id)
        alarm.case_id, alarm.case_number, alarm.case_error = case_id, number, error
        if case_id is not None:
            alarm.context = {**(alarm.context or {}), "case_id": case_id, "case_number": number}
    if spot.manager_id is not None:
        notify.queue(
            session,
            key=f"village.crowding:{alarm.id}",
            kind="crowding",
            title=title,
            case_id=case_id,
            user_ids=[spot.manager_id],
        )
    session.flush()
    return Change(spot.id, spot.crowding, level, in_park, percent, alarm.id, case_id)


def evaluate(session: Session, *, now: datetime | None = None) -> list[Change]:
    """Evaluate every active spot with counters once; the level changes made."""
    now = now or utcnow()
    spots = [s for s in tourism.list_spots(session) if tourism_flow.has_counters(session, spot_id=s.id)]
    live = tourism_flow.live(session, spot_ids=[s.id for s in spots], now=now)
    changes: list[Change] = []
    for spot in spots:
        flow = live[spot.id]
        share = tourism_flow.percent(spot, flow.in_park)
        spot.in_park, spot.evaluated_at = flow.in_park, now
        after = next_level(spot.crowding, share)
        if after == spot.crowding:
            continue
        if ORDER.index(after) > ORDER.index(spot.crowding):
            change = _raise(session, spot, after, flow.in_park, share, now)
        else:
            where = tourism.entry_thing_id(session, spot_id=spot.id)
            if where is not None:
                _clear_open(
                    session,
                    thing_id=where[0],
                    datastream_id=where[1],
                    at=now,
                    note=N_("Back below the crowding levels"),
                )
            change = Change(spot.id, spot.crowding, after, flow.in_park, share)
        audit.record(
            session, actor=ACTOR, action="village.tourism.crowding", target_type="village_spot", target_id=spot.id,
            detail={"from": spot.crowding.value, "to": after.value, "in_park": flow.in_park, "percent": share,
                    "alarm": change.alarm_id, "case": change.case_id},
        )  # fmt: skip
        spot.crowding, spot.crowding_at = after, now
        changes.append(change)
    session.flush()
    return changes


def alarms_of(session: Session, *, spot_ids: list[int], open_only: bool = False, limit: int = 50) -> list[Alarm]:
    """The crowding alarms of these spots (raised on their entry counters), newest first."""
    entry = select(SpotCounter.entry_datastream_id).where(SpotCounter.spot_id.in_(spot_ids))
    stmt = (
        select(Alarm)
        .where(Alarm.kind == AlarmKind.CROWDING, Alarm.datastream_id.in_(entry))
        .order_by(Alarm.id.desc())
        .limit(limit)
    )
    if open_only:
        stmt = stmt.where(Alarm.state != AlarmState.CLEARED)
    return list(session.scalars(stmt))
