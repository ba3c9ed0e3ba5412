"""Device health: online while a device reports within its expected interval, offline after
``OFFLINE_AFTER`` intervals of silence; battery and signal come from its ``battery``/``signal``
datastreams when it has them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.sensing.models import Datastream, Health, Latest, Thing

OFFLINE_AFTER = 3  # expected intervals without a report
STATUS_METRICS = {"battery": "battery", "signal": "signal"}


def sweep(session: Session, *, now: datetime | None = None) -> list[Thing]:
    """Mark silent devices offline; returns the ones that just went offline."""
    now = now or utcnow()
    went: list[Thing] = []
    things = session.scalars(
        select(Thing).where(Thing.expected_interval_s.is_not(None), Thing.health != Health.OFFLINE)
    ).all()
    for t in things:
        assert t.expected_interval_s is not None
        limit = timedelta(seconds=t.expected_interval_s * OFFLINE_AFTER)
        seen = t.last_seen_at or t.created_at
        if now - seen > limit:
            t.health = Health.OFFLINE
            t.health_changed_at = now
            went.append(t)
    session.flush()
    return went


def back_online(session: Session, *, thing_ids: list[int], now: datetime | None = None) -> list[int]:
    """Devices that reported again; returns those that were offline (their offline alarms clear)."""
    if not thing_ids:
        return []
    now = now or utcnow()
    was_offline = list(session.scalars(select(Thing.id).where(Thing.id.in_(thing_ids), Thing.health == Health.OFFLINE)))
    session.execute(
        update(Thing)
        .where(Thing.id.in_(thing_ids), Thing.health != Health.ONLINE)
        .values(health=Health.ONLINE, health_changed_at=now, updated_at=Thing.updated_at)
    )
    return was_offline


def refresh_status(session: Session, *, datastream_ids: list[int]) -> None:
    """Copy the latest battery/signal values onto their devices."""
    rows = session.execute(
        select(Datastream.thing_id, Datastream.metric, Latest.result)
        .join(Latest, Latest.datastream_id == Datastream.id)
        .where(Datastream.id.in_(datastream_ids), Datastream.metric.in_(list(STATUS_METRICS)))
    ).all()
    for thing_id, metric, value in rows:
        if metric is None:
            continue
        session.execute(
            update(Thing)
            .where(Thing.id == thing_id)
            .values({STATUS_METRICS[metric]: value, "updated_at": Thing.updated_at})
        )
