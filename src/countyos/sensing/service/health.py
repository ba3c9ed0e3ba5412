"""Device health: online while a device reports within its expected interval, offline after
``OFFLINE_AFTER`` intervals of silence; battery and signal come from its ``battery``/``signal``
datastreams when it has them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, select, update
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.sensing.models import Datastream, Health, Latest, Thing
from countyos.sensing.service import streams

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


def reported(session: Session, *, thing_ids: set[int], at: datetime) -> list[int]:
    """These things reported at ``at``: each one's last seen moves and every one that was not online
    is online from ``at`` on, in one UPDATE (a Core statement: the ORM's synchronisation would cost
    more than the statement); returns those that were not online (their offline alarms clear). What
    :func:`devices.last_seen` and :func:`back_online` do together.

    The statement returns each thing's ``health_changed_at`` after the update: it is ``at`` exactly
    when the thing was not online before, so no SELECT is needed to know which ones changed."""
    if not thing_ids:
        return []
    ids = sorted(thing_ids)
    things = cast(Table, Thing.__table__)
    changed = things.c.health != Health.ONLINE.value
    rows = (
        session.connection()
        .execute(
            update(things)
            .where(things.c.id.in_(ids))
            .values(
                last_seen_at=at,
                updated_at=things.c.updated_at,
                health=Health.ONLINE.value,
                health_changed_at=case((changed, at), else_=things.c.health_changed_at),
            )
            .returning(things.c.id, things.c.health_changed_at)
        )
        .all()
    )
    came_back = sorted(i for i, when in rows if when is not None and _same_instant(when, at))
    if session.identity_map:  # objects of these things loaded earlier in the session read the new values
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Thing) and obj.id in thing_ids:
                session.expire(obj, ["last_seen_at", "health", "health_changed_at"])
    return came_back


def _same_instant(a: datetime, b: datetime) -> bool:
    if a.tzinfo is None:  # a driver that hands back naive UTC
        a = a.replace(tzinfo=b.tzinfo)
    return a == b


def refresh_status(session: Session, *, datastream_ids: list[int]) -> None:
    """Copy the latest battery/signal values onto their devices. Which datastreams are battery or
    signal is known from the ingest cache (``streams``), so a batch without them costs no query."""
    datastream_ids = [d for d in datastream_ids if _maybe_status(session, d)]
    if not datastream_ids:
        return
    rows = session.execute(
        select(Datastream.thing_id, Datastream.metric, Latest.result)
        .join(Latest, Latest.datastream_id == Datastream.id)
        .where(Datastream.id.in_(datastream_ids), Datastream.metric.in_(list(STATUS_METRICS)))
    ).all()
    things = cast(Table, Thing.__table__)
    conn = session.connection()  # Core: a reading is not a change of the device's description
    for thing_id, metric, value in rows:
        if metric is None:
            continue
        conn.execute(
            update(things)
            .where(things.c.id == thing_id)
            .values({STATUS_METRICS[metric]: value, "updated_at": things.c.updated_at})
        )


def _maybe_status(session: Session, datastream_id: int) -> bool:
    info = streams.by_id(session, datastream_id)
    return info is None or info.metric in STATUS_METRICS
