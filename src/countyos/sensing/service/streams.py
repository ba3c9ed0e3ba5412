"""What ingest needs to know of every datastream, cached in the process.

The cache is a :class:`core.hotcache.HotCache` over the datastream and thing tables: a write to
either in this process (a datastream created, patched, moved to another thing or deleted) empties it
at the flush and again at the commit or rollback, so the next request reads the change, and a load
that overlapped such a write is not kept; another process's write is seen within ``TTL`` seconds. A
session that has itself written those tables (a deep insert creating a datastream and its
observations) reads the one datastream it asks for, never the whole cache. An id or device/metric it
does not know (a datastream created a moment ago) reloads the cache at most every half second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.hotcache import HotCache
from countyos.sensing.models import Datastream, Thing

TTL = 15.0


@dataclass(frozen=True, slots=True)
class StreamInfo:
    id: int
    thing_id: int
    gateway_id: int | None
    device_key: str | None
    metric: str | None
    unit_symbol: str | None
    valid_min: float | None
    valid_max: float | None
    default_foi_id: int | None = None


@dataclass
class _Cache:
    by_id: dict[int, StreamInfo]
    by_key: dict[tuple[str, str], StreamInfo]
    loaded: float


_STREAMS: HotCache[_Cache] = HotCache(
    "ingest streams", tables=(Datastream.__tablename__, Thing.__tablename__), ttl=TTL, maxsize=8
)
_COLUMNS = (
    Datastream.id,
    Datastream.thing_id,
    Thing.gateway_id,
    Thing.device_key,
    Datastream.metric,
    Datastream.unit_symbol,
    Datastream.valid_min,
    Datastream.valid_max,
    Datastream.default_foi_id,
)


def invalidate() -> None:
    """Forget every datastream (after writes that bypass the ORM session); ORM writes to the
    datastream and thing tables empty the cache by themselves."""
    _STREAMS.clear()


def _load(session: Session) -> _Cache:
    rows = session.execute(select(*_COLUMNS).join(Thing, Thing.id == Datastream.thing_id)).all()
    by_id = {r[0]: StreamInfo(*r) for r in rows}
    by_key = {(s.device_key, s.metric): s for s in by_id.values() if s.device_key and s.metric}
    return _Cache(by_id, by_key, time.monotonic())


def _cache(session: Session, *, fresh: bool = False) -> _Cache:
    if fresh:
        _STREAMS.clear()
    return _STREAMS.get(session, "all", lambda: _load(session))


def _one(session: Session, datastream_id: int) -> StreamInfo | None:
    row = session.execute(
        select(*_COLUMNS).join(Thing, Thing.id == Datastream.thing_id).where(Datastream.id == datastream_id)
    ).first()
    return StreamInfo(*row) if row is not None else None


def by_id(session: Session, datastream_id: int) -> StreamInfo | None:
    if _STREAMS.written_by(session):
        return _one(session, datastream_id)
    c = _cache(session)
    info = c.by_id.get(datastream_id)
    if info is None and time.monotonic() - c.loaded > 0.5:
        info = _cache(session, fresh=True).by_id.get(datastream_id)
    return info


def by_key(session: Session, device_key: str, metric: str) -> StreamInfo | None:
    c = _cache(session)
    info = c.by_key.get((device_key, metric))
    if info is None and time.monotonic() - c.loaded > 0.5:
        info = _cache(session, fresh=True).by_key.get((device_key, metric))
    return info


def of_device(session: Session, device_key: str) -> dict[str, StreamInfo]:
    c = _cache(session)
    return {m: s for (d, m), s in c.by_key.items() if d == device_key}
