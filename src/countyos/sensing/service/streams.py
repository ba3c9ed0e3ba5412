"""What ingest needs to know of every datastream, cached in the process.

The cache is reloaded when a datastream is written in this process (:func:`invalidate`) and at least
every ``TTL`` seconds (so that other workers' changes arrive), and for an id or device/metric it
does not know (a datastream created a moment ago).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

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


@dataclass
class _Cache:
    by_id: dict[int, StreamInfo]
    by_key: dict[tuple[str, str], StreamInfo]
    loaded: float
    version: int


_lock = threading.Lock()
_caches: dict[str, _Cache] = {}
_version = 0


def invalidate() -> None:
    global _version
    with _lock:
        _version += 1


def _load(session: Session) -> _Cache:
    rows = session.execute(
        select(
            Datastream.id,
            Datastream.thing_id,
            Thing.gateway_id,
            Thing.device_key,
            Datastream.metric,
            Datastream.unit_symbol,
            Datastream.valid_min,
            Datastream.valid_max,
        ).join(Thing, Thing.id == Datastream.thing_id)
    ).all()
    by_id = {r[0]: StreamInfo(*r) for r in rows}
    by_key = {(s.device_key, s.metric): s for s in by_id.values() if s.device_key and s.metric}
    return _Cache(by_id, by_key, time.monotonic(), _version)


def _cache(session: Session, *, fresh: bool = False) -> _Cache:
    key = str(session.get_bind().engine.url)
    c = _caches.get(key)
    if fresh or c is None or c.version != _version or time.monotonic() - c.loaded > TTL:
        c = _load(session)
        with _lock:
            _caches[key] = c
    return c


def by_id(session: Session, datastream_id: int) -> StreamInfo | None:
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
