"""Orchestration of the sensing domain: ingest → store → device health → rules → alarms → cases.

Every ingest channel (HTTP batch, SensorThings POST, MQTT) calls :func:`ingest` with a prepared batch
inside its own transaction; the caller commits (and, for MQTT, acknowledges only after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from countyos.cases.models import Case, Channel, Priority
from countyos.cases.service import cases, categories
from countyos.core.actor import SYSTEM, Actor
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, ValidationFailed
from countyos.org.service import audit
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmState, Datastream, Severity, Thing
from countyos.sensing.service import alarms, health, labels, rules, store, streams
from countyos.sensing.service.ingest import ItemError, Prepared
from countyos.sensing.service.times import from_us, now_us, to_us


@dataclass
class IngestOutcome:
    stored: int = 0
    duplicates: int = 0
    errors: list[ItemError] = field(default_factory=list)
    alarms: list[int] = field(default_factory=list)
    batch: store.Stored | None = None

    def new_rows(self) -> list[tuple[int, int, int, float]]:
        return self.batch.new_rows() if self.batch is not None else []

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "refused": len(self.errors),
            "errors": [e.as_dict() for e in self.errors],
            "alarms": self.alarms,
        }


def ingest(session: Session, prepared: Prepared, *, now: int | None = None) -> IngestOutcome:
    now = now or now_us()
    out = IngestOutcome(errors=list(prepared.errors))
    if not len(prepared):
        return out
    with store.paused_gc():
        stored = store.store(session, *prepared.columns(), reported_us=now, defer_shared=True)
    out.stored, out.duplicates, out.batch = stored.inserted, stored.duplicates, stored
    if stored.inserted:
        at = from_us(now)
        out.alarms = apply_firings(session, rules.evaluate(session, stored), at=at)
        shared_rows_last(session, thing_ids=prepared.things, datastream_ids=stored.touched, at=at)
    return out


def shared_rows_last(session: Session, *, thing_ids: set[int], datastream_ids: list[int], at: datetime) -> None:
    """The rows every writer of these datastreams and devices updates, as the last writes of the
    transaction and in a fixed order: rollups and latest values (``store.settle``), then the devices'
    last seen and health, then battery and signal. On PostgreSQL their locks are held from here to the
    commit only, so concurrent batches of one datastream do not queue for each other's whole work."""
    store.settle(session)
    for thing_id in health.reported(session, thing_ids=thing_ids, at=at):
        clear_offline(session, thing_id=thing_id, at=at)
    health.refresh_status(session, datastream_ids=datastream_ids)


# --- alarms from rules and device health -----------------------------------------------------------

SEVERITY_PRIORITY = {Severity.CRITICAL: Priority.CRITICAL, Severity.MAJOR: Priority.URGENT}


def apply_firings(session: Session, firings: list[rules.Firing], *, at: datetime | None = None) -> list[int]:
    """Raise or clear the alarms of rule firings; an alarm whose rule names a case category opens a case."""
    out = []
    for f in firings:
        ds = session.get(Datastream, f.datastream_id)
        if ds is None:
            continue
        thing = ds.thing
        if f.kind == "raise":
            value = None if f.value != f.value else f.value
            title = f"{f.rule.name} · {thing.name}" + (
                f" = {value:g} {ds.unit_symbol or ''}".rstrip() if value is not None else ""
            )
            alarm, created = alarms.raise_alarm(
                session,
                kind=AlarmKind.RULE,
                thing_id=thing.id,
                datastream_id=ds.id,
                rule_id=f.rule.id,
                severity=Severity(f.rule.severity),
                title=title,
                value=value,
                dedupe_seconds=f.rule.dedupe_seconds,
                observations=f.observations,
                context={"rule": f.rule.id, "datastream": ds.id, "cause": "sensing.rule"},
                at=at,
            )
            if created and f.rule.case_category_code:
                open_case(session, alarm=alarm, category_code=f.rule.case_category_code, thing=thing)
            alarms.ALARM_RAISED.send(session, alarm=alarm, created=created, rule_id=f.rule.id, at=at)
            out.append(alarm.id)
        else:
            alarm_ = alarms.open_alarm_for(
                session, kind=AlarmKind.RULE, rule_id=f.rule.id, thing_id=thing.id, datastream_id=ds.id
            )
            if alarm_ is not None and alarm_.state != AlarmState.CLEARED:
                clear(session, alarm=alarm_, actor=SYSTEM, note="the condition no longer holds", at=at)
    return out


def clear(
    session: Session, *, alarm: Alarm, actor: Actor, note: str | None = None, at: datetime | None = None
) -> Alarm:
    """Clear an alarm (by a person or because the condition ended) and note it on its case."""
    alarms.apply(session, alarm=alarm, action="clear", actor=actor, note=note, at=at)
    if alarm.case_id is not None:
        note_on_case(
            session,
            alarm=alarm,
            actor=actor,
            text=f"告警已清除 Alarm cleared: {alarm.title}" + (f" — {note}" if note else ""),
        )
    return alarm


def clear_offline(session: Session, *, thing_id: int, at: datetime) -> None:
    a = alarms.open_alarm_for(session, kind=AlarmKind.OFFLINE, rule_id=None, thing_id=thing_id, datastream_id=None)
    if a is not None and a.state != AlarmState.CLEARED:
        clear(session, alarm=a, actor=SYSTEM, note="the device reports again", at=at)


def health_sweep(session: Session, *, now: datetime | None = None) -> list[int]:
    """Devices silent for too long go offline and raise an offline alarm; no-data rules fire."""
    now = now or utcnow()
    out = []
    for thing in health.sweep(session, now=now):
        alarm, _ = alarms.raise_alarm(
            session,
            kind=AlarmKind.OFFLINE,
            thing_id=thing.id,
            datastream_id=None,
            rule_id=None,
            severity=Severity.MAJOR,
            title=labels.offline_title(thing.name),
            value=None,
            dedupe_seconds=3600,
            context={
                "cause": "sensing.health",
                "last_seen": thing.last_seen_at.isoformat() if thing.last_seen_at else None,
            },
            at=now,
        )
        out.append(alarm.id)
    out += apply_firings(session, rules.no_data_due(session, now=to_us(now)), at=now)
    return out


# --- the link to the cases domain --------------------------------------------------------------------


def open_case(
    session: Session,
    *,
    alarm: Alarm,
    category_code: str,
    thing: Thing,
    actor: Actor | None = None,
    raise_errors: bool = False,
) -> None:
    """Open a case at the device's location through the cases domain, linked both ways: the case's
    external id and first timeline entry name the alarm (its cause), the alarm keeps the case id.
    ACTOR is the person who asked for it (else the sensing rule); RAISE_ERRORS: a refusal is raised
    instead of kept on the alarm."""
    if thing.lon is None or thing.lat is None:
        if raise_errors:
            raise ValidationFailed("The device has no position, so the case cannot be placed")
        alarm.case_error = "the device has no location"
        return
    try:
        with session.begin_nested():
            cat = categories.get_by_service_code(session, code=category_code)
            if cat is None:
                raise ValidationFailed("There is no category with service code %(code)s", code=category_code)
            case, _, _ = cases.create(
                session,
                actor=actor or Actor(id=None, name="sensing"),
                new=cases.NewCase(
                    channel=Channel.IOT,
                    category_id=cat.id,
                    title=alarm.title[:200],
                    description=f"{alarm.title}\n告警 Alarm #{alarm.id} ({alarm.severity})",
                    lon=thing.lon,
                    lat=thing.lat,
                    priority=SEVERITY_PRIORITY.get(Severity(alarm.severity), Priority.NORMAL),
                    external_id=f"alarm:{alarm.id}",
                    idempotency_key=f"sensing-alarm-{alarm.id}",
                    reporter=cases.ReporterIn(device_id=thing.device_key or str(thing.id)),
                    context={
                        "cause": "sensing.alarm",
                        "alarm_id": alarm.id,
                        "thing_id": thing.id,
                        "parent": f"alarm:{alarm.id}",
                    },
                ),
            )
        alarm.case_id, alarm.case_number, alarm.case_error = case.id, case.number, None
        alarm.context = {**(alarm.context or {}), "case_id": case.id, "case_number": case.number}
    except CountyError as exc:
        if raise_errors:
            raise
        alarm.case_error = str(exc.message)[:300]
    session.flush()


def open_case_from_alarm(session: Session, *, actor: Actor, alarm_id: int, category_id: int) -> Alarm:
    """A person opens a case from an active alarm that has none ("open a case from this alarm"):
    through the same alarm→case path as a rule (category chosen, place, title and description from
    the alarm), linked both ways, audited; refused when the alarm has a case or is cleared."""
    from countyos.core.errors import Conflict

    alarm = alarms.get(session, alarm_id=alarm_id)
    if alarm.case_id is not None:
        raise Conflict("This alarm already has case %(number)s", number=alarm.case_number or str(alarm.case_id))
    if alarm.state == AlarmState.CLEARED:
        raise Conflict("Only an alarm that is still open can open a case")
    thing = session.get(Thing, alarm.thing_id)
    if thing is None:
        raise ValidationFailed("The device of this alarm no longer exists")
    cat = categories.get(session, category_id=category_id)
    if cat.is_group or not cat.is_active:
        raise ValidationFailed(
            "Category %(name)s cannot be reported; choose one of its sub-categories",
            name=cat.name,
            errors=[{"field": "category_id", "message": "Choose one of its sub-categories"}],
        )
    open_case(session, alarm=alarm, category_code=cat.service_code, thing=thing, actor=actor, raise_errors=True)
    session.add(
        AlarmEvent(
            alarm_id=alarm.id,
            at=utcnow(),
            action="open_case",
            from_state=str(alarm.state),
            to_state=str(alarm.state),
            actor_name=actor.name,
            note=alarm.case_number,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="sensing.alarm.open_case",
        target_type="alarm",
        target_id=alarm.id,
        detail={"case": alarm.case_number, "category": cat.service_code},
    )
    session.flush()
    return alarm


def note_on_case(session: Session, *, alarm: Alarm, actor: Actor, text: str) -> None:
    case = session.get(Case, alarm.case_id)
    if case is None:
        return
    cases.add_event(
        session,
        case=case,
        actor=actor,
        role=None,
        action="comment",
        from_state=str(case.state),
        to_state=str(case.state),
        comment=text,
        internal=True,
        context={"cause": "sensing.alarm", "alarm_id": alarm.id, "alarm_state": str(alarm.state)},
    )


# --- notifications after commit (SensorThings MQTT subscribers) ------------------------------------

Notifier = Any  # callable(list[(entity set, id)]) -> None, set by the MQTT bridge
_notifiers: list[Any] = []


def add_notifier(fn: Any) -> None:
    _notifiers.append(fn)


def remove_notifier(fn: Any) -> None:
    if fn in _notifiers:
        _notifiers.remove(fn)


def after_sta_write(
    session: Session, created: list[tuple[str, int]], batches: list[store.Stored] | None = None
) -> None:
    """After SensorThings writes: observations count for device health and rules like any other
    ingest; subscribers are told once the transaction has committed."""
    if batches:
        at = utcnow()
        ds_ids = sorted({d for b in batches for d in b.touched})
        things = {info.thing_id for d in ds_ids if (info := streams.by_id(session, d)) is not None}
        for b in batches:
            apply_firings(session, rules.evaluate(session, b), at=at)
        shared_rows_last(session, thing_ids=things, datastream_ids=ds_ids, at=at)
    if created and _notifiers:
        session.info.setdefault("sensing_created", []).extend(created)


def after_sta_update(session: Session, *, plural: str, entity_id: int, fields: list[str]) -> None:
    """After a SensorThings update: subscribers of the entity's topic are told once it has committed."""
    if _notifiers:
        session.info.setdefault("sensing_updated", []).append((plural, entity_id, fields))


@event.listens_for(Session, "after_commit")
def _notify_after_commit(session: Session) -> None:
    created = session.info.pop("sensing_created", None)
    updated = session.info.pop("sensing_updated", None)
    if created or updated:
        for fn in list(_notifiers):
            fn(created or [], updated or [])


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("sensing_created", None)
    session.info.pop("sensing_updated", None)
