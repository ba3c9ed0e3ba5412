"""Suspected duplicates: a new case near an open case of the same category, reported shortly before.

The window is data-free but configurable per call (defaults: 100 m and 72 hours). The dispatcher
then merges (the duplicate's reporters move to the kept case and are told) or keeps them apart.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import Case

DEFAULT_RADIUS_M = 100.0
DEFAULT_WINDOW = timedelta(hours=72)
MAX_CANDIDATES = 50  # the most recent ones; a hotspot with hundreds of open cases must not slow intake
_M_PER_DEG_LAT = 111_320.0


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def candidates(
    session: Session, *, case: Case, radius_m: float = DEFAULT_RADIUS_M, window: timedelta = DEFAULT_WINDOW
) -> list[tuple[Case, float]]:
    """Open cases of the same category within the radius, reported within the window before this one."""
    if case.lon is None or case.lat is None:
        return []
    dlat = radius_m / _M_PER_DEG_LAT
    dlon = radius_m / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(case.lat))))
    stmt = (
        select(Case)
        .where(
            Case.id != case.id,
            Case.is_open.is_(True),
            Case.merged_into_id.is_(None),
            Case.category_id == case.category_id,
            Case.reported_at >= case.reported_at - window,
            Case.reported_at <= case.reported_at,
            Case.lat.between(case.lat - dlat, case.lat + dlat),
            Case.lon.between(case.lon - dlon, case.lon + dlon),
        )
        .order_by(Case.reported_at.desc())
        .limit(MAX_CANDIDATES)
    )
    out = []
    for other in session.scalars(stmt):
        assert other.lon is not None and other.lat is not None
        d = distance_m(case.lon, case.lat, other.lon, other.lat)
        if d <= radius_m:
            out.append((other, d))
    return sorted(out, key=lambda t: (t[1], t[0].id))


def find_for(session: Session, *, case: Case) -> Case | None:
    found = candidates(session, case=case)
    return found[0][0] if found else None
