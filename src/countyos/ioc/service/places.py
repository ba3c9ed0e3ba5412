"""Where things are: the county's townships (for the filter) and the township of every device.

Devices carry a position but no division code, so the township filter finds them by locating their
positions with geo's point lookup. The answer is kept per process and recomputed when a device is
added, removed or moved, or when the county's geometry changes. The category filter finds a
category's devices through the alarm rules that raise cases of it.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from countyos.geo import service as geo
from countyos.geo.service import divisions
from countyos.geo.service.lookup import current_stamp
from countyos.sensing.service import ioc_queries as sensing_q
from countyos.sensing.service import rules, streams


def townships(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the county's townships, in code order."""
    county = divisions.the_county(session)
    if county is None:
        return []
    return [(d.code, d.name) for d in divisions.children(session, parent_code=county.code)]


def township_name(session: Session, code: str | None) -> str | None:
    if not code:
        return None
    return divisions.names_by_code(session, [code]).get(code, code)


_lock = threading.Lock()
_cache: dict[str, tuple[object, dict[int, str | None]]] = {}


def thing_townships(session: Session) -> dict[int, str | None]:
    """thing id → township code (None when it has no position or lies outside the county)."""
    key = str(session.get_bind().engine.url)
    version = (sensing_q.things_version(session), current_stamp(session))
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
    positions = sensing_q.thing_positions(session)
    out: dict[int, str | None] = {tid: None for tid, _, _ in positions}
    located = [(tid, lon, lat) for tid, lon, lat in positions if lon is not None and lat is not None]
    if located and divisions.the_county(session) is not None:
        batch = geo.locate_many(session, [p[1] for p in located], [p[2] for p in located])
        for i, (tid, _, _) in enumerate(located):
            place = batch[i]
            out[tid] = place.township_code if place is not None else None
    with _lock:
        _cache[key] = (version, out)
    return out


def things_in(session: Session, township_code: str) -> tuple[int, ...]:
    return tuple(sorted(tid for tid, code in thing_townships(session).items() if code == township_code))


def things_watched_for(session: Session, category_codes: tuple[str, ...]) -> tuple[int, ...]:
    """The things whose datastreams a rule raising cases of these categories (Open311 service codes)
    watches — the devices that belong to a category. A handful of rules: no cache needed."""
    wanted = set(category_codes)
    out: set[int] = set()
    for rule in rules.list_rules(session):
        if rule.case_category_code not in wanted:
            continue
        for ds in rules.datastreams_of(session, rule):
            info = streams.by_id(session, ds)
            if info is not None:
                out.add(info.thing_id)
    return tuple(sorted(out))
