"""Suspected duplicates: a new case near an open case of the same category, reported shortly before.

The window is data-free but configurable per call (defaults: 100 m and 72 hours). The dispatcher
then merges (the duplicate's reporters move to the kept case and are told) or keeps them apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session

from countyos.cases.models import Case

DEFAULT_RADIUS_M = 100.0
DEFAULT_WINDOW = timedelta(hours=72)
MAX_CANDIDATES = 50  # at most this many are compared; a hotspot with hundreds of open cases must not slow intake
_M_PER_DEG_LAT = 111_320.0


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _half_box(lat: float, radius_m: float) -> tuple[float, float]:
    """Half the side of the bounding box of the radius, in degrees of latitude and longitude."""
    return radius_m / _M_PER_DEG_LAT, radius_m / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(lat))))


def _box(case: Case, radius_m: float, window: timedelta) -> list[ColumnElement[bool]]:
    """Open cases of the same category in the bounding box of the radius, reported within the window before."""
    assert case.lon is not None and case.lat is not None
    dlat, dlon = _half_box(case.lat, radius_m)
    return [
        Case.id != case.id,
        Case.is_open.is_(True),
        Case.merged_into_id.is_(None),
        Case.category_id == case.category_id,
        Case.reported_at >= case.reported_at - window,
        Case.reported_at <= case.reported_at,
        Case.lat.between(case.lat - dlat, case.lat + dlat),
        Case.lon.between(case.lon - dlon, case.lon + dlon),
    ]


def candidates(
    session: Session, *, case: Case, radius_m: float = DEFAULT_RADIUS_M, window: timedelta = DEFAULT_WINDOW
) -> list[tuple[Case, float]]:
    """Open cases of the same category within the radius, reported within the window before this one."""
    if case.lon is None or case.lat is None:
        return []
    stmt = select(Case).where(*_box(case, radius_m, window)).order_by(Case.reported_at.desc()).limit(MAX_CANDIDATES)
    out = []
    for other in session.scalars(stmt):
        assert other.lon is not None and other.lat is not None
        d = distance_m(case.lon, case.lat, other.lon, other.lat)
        if d <= radius_m:
            out.append((other, d))
    return sorted(out, key=lambda t: (t[1], t[0].id))


@dataclass(frozen=True)
class Suspected:
    """The case a new report is suspected to duplicate."""

    id: int
    number: str | None


# The query of find_for, built once (intake runs it for every report). Unordered, so that the database
# reads the box from ``ix_case_case_category_box`` (ordered by time, SQLite would walk every case of the
# category in the window to spare a sort); find_for picks the nearest of what it returns.
_NEAREST = (
    select(Case.id, Case.number, Case.lon, Case.lat)
    .where(
        Case.id != bindparam("case_id"),
        Case.is_open.is_(True),
        Case.merged_into_id.is_(None),
        Case.category_id == bindparam("category_id"),
        Case.reported_at >= bindparam("since"),
        Case.reported_at <= bindparam("until"),
        Case.lat.between(bindparam("lat_min"), bindparam("lat_max")),
        Case.lon.between(bindparam("lon_min"), bindparam("lon_max")),
    )
    .limit(MAX_CANDIDATES)
)


def find_for(session: Session, *, case: Case) -> Suspected | None:
    """The nearest candidate (as ``candidates``), read as plain columns: intake calls this for every report."""
    lon0, lat0 = case.lon, case.lat
    if lon0 is None or lat0 is None:
        return None
    dlat, dlon = _half_box(lat0, DEFAULT_RADIUS_M)
    rows = session.execute(
        _NEAREST,
        {
            "case_id": case.id,
            "category_id": case.category_id,
            "since": case.reported_at - DEFAULT_WINDOW,
            "until": case.reported_at,
            "lat_min": lat0 - dlat,
            "lat_max": lat0 + dlat,
            "lon_min": lon0 - dlon,
            "lon_max": lon0 + dlon,
        },
    ).all()
    near = [
        (d, cid, number)
        for cid, number, lon, lat in rows
        if lon is not None and lat is not None and (d := distance_m(lon0, lat0, lon, lat)) <= DEFAULT_RADIUS_M
    ]
    if not near:
        return None
    _, cid, number = min(near)
    return Suspected(cid, number)


# -- related cases (the case page) -------------------------------------------------------------------

NEARBY_RADIUS_M = 100.0
NEARBY_WINDOW = timedelta(days=30)
MAX_RELATED = 20  # of each kind on the case page


@dataclass(frozen=True)
class Related:
    """The cases a dispatcher looks at beside one case: the one it is suspected to duplicate, those
    suspected to duplicate it, the one it was merged into, those merged into it, and open cases of any
    category at the same place (within ``NEARBY_RADIUS_M``) reported in the last ``NEARBY_WINDOW``."""

    duplicate_of: Case | None
    suspected_duplicates: list[Case]
    merged_into: Case | None
    merged_in: list[Case]
    nearby: list[tuple[Case, float]]

    def __bool__(self) -> bool:
        return bool(self.duplicate_of or self.suspected_duplicates or self.merged_into or self.merged_in or self.nearby)


def related(
    session: Session,
    *,
    case: Case,
    visible: ColumnElement[bool] | None,
    now: datetime,
    radius_m: float = NEARBY_RADIUS_M,
    window: timedelta = NEARBY_WINDOW,
) -> Related:
    """The related cases the viewer may see (VISIBLE: their visibility clause, None for all)."""

    def seen(*conds: ColumnElement[bool]) -> list[Case]:
        stmt = select(Case).where(*conds)
        if visible is not None:
            stmt = stmt.where(visible)
        return list(session.scalars(stmt.order_by(Case.reported_at.desc(), Case.id.desc()).limit(MAX_RELATED)))

    def one(case_id: int | None) -> Case | None:
        found = seen(Case.id == case_id) if case_id is not None else []
        return found[0] if found else None

    nearby: list[tuple[Case, float]] = []
    listed = {case.duplicate_of_id, case.merged_into_id}
    suspected = seen(Case.duplicate_of_id == case.id, Case.merged_into_id.is_(None))
    merged_in = seen(Case.merged_into_id == case.id)
    listed |= {c.id for c in suspected + merged_in}
    if case.lon is not None and case.lat is not None:
        dlat, dlon = _half_box(case.lat, radius_m)
        box = seen(
            Case.id != case.id,
            Case.is_open.is_(True),
            Case.merged_into_id.is_(None),
            Case.reported_at >= now - window,
            Case.lat.between(case.lat - dlat, case.lat + dlat),
            Case.lon.between(case.lon - dlon, case.lon + dlon),
        )
        for other in box:
            if other.id in listed or other.lon is None or other.lat is None:
                continue
            d = distance_m(case.lon, case.lat, other.lon, other.lat)
            if d <= radius_m:
                nearby.append((other, d))
        nearby.sort(key=lambda t: (t[1], t[0].id))
    return Related(
        duplicate_of=one(case.duplicate_of_id),
        suspected_duplicates=suspected,
        merged_into=one(case.merged_into_id),
        merged_in=merged_in,
        nearby=nearby,
    )
