"""Orchestration of the sensing domain: ingest → store → device health → rules → alarms → cases.

Every ingest channel (HTTP batch, SensorThings POST, MQTT) calls :func:`ingest` with a prepared batch
inside its own transaction; the caller commits (and, for MQTT, acknowledges only after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.sensing.service import devices, store
from countyos.sensing.service.ingest import ItemError, Prepared
from countyos.sensing.service.times import from_us, now_us


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


_after_store: list[Any] = []


def ingest(session: Session, prepared: Prepared, *, now: int | None = None) -> IngestOutcome:
    now = now or now_us()
    out = IngestOutcome(errors=list(prepared.errors))
    if not len(prepared):
        return out
    with store.paused_gc():
        stored = store.store(session, prepared.datastream_ids, prepared.times, prepared.values, reported_us=now)
    out.stored, out.duplicates, out.batch = stored.inserted, stored.duplicates, stored
    if stored.inserted:
        devices.last_seen(session, thing_ids=prepared.things, at=from_us(now) if now else utcnow())
        for hook in _after_store:
            out.alarms.extend(hook(session, stored, now))
    return out


# --- notifications after commit (SensorThings MQTT subscribers) ------------------------------------

Notifier = Any  # callable(list[(entity set, id)]) -> None, set by the MQTT bridge
_notifiers: list[Any] = []


def add_notifier(fn: Any) -> None:
    _notifiers.append(fn)


def remove_notifier(fn: Any) -> None:
    if fn in _notifiers:
        _notifiers.remove(fn)


def after_sta_write(session: Session, created: list[tuple[str, int]]) -> None:
    """Remember what was created; subscribers are told once the transaction has committed."""
    if created and _notifiers:
        session.info.setdefault("sensing_created", []).extend(created)


@event.listens_for(Session, "after_commit")
def _notify_after_commit(session: Session) -> None:
    created = session.info.pop("sensing_created", None)
    if created:
        for fn in list(_notifiers):
            fn(created)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("sensing_created", None)
