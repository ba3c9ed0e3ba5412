"""Alarms: one transition table, one function that applies it, and a dedupe window.

    active ──acknowledge──▶ acknowledged
      │  ▲                       │
    clear└──reraise (within      clear
      ▼       the dedupe window) ▼
    cleared ◀────────────────────┘

``repeat`` (the condition fires again while the alarm is open) keeps the state and counts. A rule
that fires again within its dedupe window after its alarm was cleared re-opens that alarm instead of
making a new one, so a flapping sensor makes one alarm, not hundreds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import SYSTEM, Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound
from countyos.core.i18n import N_
from countyos.core.signals import Signal
from countyos.org.service import audit
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmObservation, AlarmState, Severity

A, K, C = AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED, AlarmState.CLEARED

TRANSITIONS: dict[tuple[AlarmState, str], AlarmState] = {
    (A, "acknowledge"): K,
    (A, "clear"): C,
    (K, "clear"): C,
    (A, "repeat"): A,
    (K, "repeat"): K,
    (C, "reraise"): A,
}
HUMAN_ACTIONS = ("acknowledge", "clear")

# Sent when a rule raises, repeats or re-raises an alarm, in the ingest transaction: ``alarm``,
# ``created`` (a new alarm), ``rule_id``, ``at``. Other domains connect to it in their ``receivers.py``
# (``core.signals``), e.g. emergency plans whose response levels are triggered by a rule.
ALARM_RAISED = Signal("sensing.alarm_raised")


class AlarmTransitionNotAllowed(Conflict):
    code = "alarm_transition_not_allowed"


def allowed(state: AlarmState | str, action: str) -> bool:
    return (AlarmState(state), action) in TRANSITIONS


def get(session: Session, *, alarm_id: int) -> Alarm:
    a = session.get(Alarm, alarm_id)
    if a is None:
        raise NotFound("Alarm %(id)s does not exist", id=alarm_id)
    return a


def apply(
    session: Session, *, alarm: Alarm, action: str, actor: Actor, note: str | None = None, at: datetime | None = None
) -> Alarm:
    """The only way an alarm changes state."""
    at = at or utcnow()
    to = TRANSITIONS.get((AlarmState(alarm.state), action))
    if to is None:
        raise AlarmTransitionNotAllowed(
            "An alarm that is %(state)s cannot be %(action)s", state=str(alarm.state), action=action
        )
    before = alarm.state
    alarm.state = to
    if action == "acknowledge":
        alarm.acknowledged_at, alarm.acknowledged_by = at, actor.name
    elif action == "clear":
        alarm.cleared_at, alarm.cleared_by = at, actor.name
    elif action in ("repeat", "reraise"):
        alarm.times += 1
        alarm.last_raised_at = at
        if action == "reraise":
            alarm.cleared_at = alarm.cleared_by = None
            alarm.acknowledged_at = alarm.acknowledged_by = None
    session.add(
        AlarmEvent(
            alarm_id=alarm.id,
            at=at,
            action=action,
            from_state=str(before),
            to_state=str(to),
            actor_name=actor.name,
            note=note,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"sensing.alarm.{action}",
        target_type="alarm",
        target_id=alarm.id,
        detail={"from": str(before), "to": str(to), "note": note} if note else {"from": str(before), "to": str(to)},
    )
    return alarm


def open_alarm_for(
    session: Session, *, kind: AlarmKind, rule_id: int | None, thing_id: int, datastream_id: int | None
) -> Alarm | None:
    """The most recent alarm of this source (rule + datastream, or the device for offline alarms)."""
    stmt = select(Alarm).where(Alarm.kind == kind, Alarm.thing_id == thing_id)
    stmt = stmt.where(Alarm.rule_id == rule_id) if rule_id is not None else stmt.where(Alarm.rule_id.is_(None))
    if datastream_id is not None:
        stmt = stmt.where(Alarm.datastream_id == datastream_id)
    return session.scalar(stmt.order_by(Alarm.id.desc()).limit(1))


def raise_alarm(
    session: Session,
    *,
    kind: AlarmKind,
    thing_id: int,
    datastream_id: int | None,
    rule_id: int | None,
    severity: Severity,
    title: str,
    value: float | None,
    dedupe_seconds: int,
    observations: list[tuple[int, int, float]] | None = None,
    context: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> tuple[Alarm, bool]:
    """A new alarm, or the existing one repeated / re-opened inside the dedupe window.
    Returns (alarm, created)."""
    at = at or utcnow()
    last = open_alarm_for(session, kind=kind, rule_id=rule_id, thing_id=thing_id, datastream_id=datastream_id)
    created = False
    if last is not None and last.state != C:
        apply(session, alarm=last, action="repeat", actor=SYSTEM, at=at)
        alarm = last
    elif last is not None and last.cleared_at and at - last.cleared_at <= timedelta(seconds=dedupe_seconds):
        note = N_("Raised again inside the dedupe window")
        apply(session, alarm=last, action="reraise", actor=SYSTEM, at=at, note=note)
        alarm = last
    else:
        alarm = Alarm(
            kind=kind,
            rule_id=rule_id,
            thing_id=thing_id,
            datastream_id=datastream_id,
            severity=severity,
            state=A,
            title=title[:300],
            value=value,
            raised_at=at,
            last_raised_at=at,
            times=1,
            context=context or {},
        )
        session.add(alarm)
        session.flush()
        session.add(
            AlarmEvent(
                alarm_id=alarm.id, at=at, action="raise", from_state=None, to_state=str(A), actor_name=SYSTEM.name
            )
        )
        audit.record(
            session,
            actor=SYSTEM,
            action="sensing.alarm.raise",
            target_type="alarm",
            target_id=alarm.id,
            detail={"kind": str(kind), "thing": thing_id, "rule": rule_id, "severity": str(severity)},
        )
        created = True
    alarm.value = value
    for oid, t, v in (observations or [])[:5]:
        if session.get(AlarmObservation, (alarm.id, oid)) is None:
            session.add(AlarmObservation(alarm_id=alarm.id, observation_id=oid, phenomenon_us=t, result=v))
    session.flush()
    return alarm, created


def observations_of(session: Session, *, alarm_id: int) -> list[AlarmObservation]:
    return list(
        session.scalars(
            select(AlarmObservation)
            .where(AlarmObservation.alarm_id == alarm_id)
            .order_by(AlarmObservation.phenomenon_us)
        )
    )


def events_of(session: Session, *, alarm_id: int) -> list[AlarmEvent]:
    return list(session.scalars(select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)))


def list_alarms(session: Session, *, states: list[str] | None = None, limit: int = 200) -> list[Alarm]:
    stmt = select(Alarm).order_by(Alarm.last_raised_at.desc()).limit(limit)
    if states:
        stmt = stmt.where(Alarm.state.in_(states))
    return list(session.scalars(stmt))


def waiting_counts(session: Session) -> tuple[int, int]:
    """Active (not yet acknowledged) alarms, and how many of them are critical: one grouped query."""
    from sqlalchemy import func

    rows = session.execute(
        select(Alarm.severity, func.count()).where(Alarm.state == AlarmState.ACTIVE).group_by(Alarm.severity)
    ).all()
    total = sum(int(n) for _, n in rows)
    critical = sum(int(n) for sev, n in rows if sev == Severity.CRITICAL)
    return total, critical
