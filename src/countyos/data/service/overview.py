"""数据沉淀: what the county keeps of its own data, per department and over time.

Per provider department: resources described and published, rows held (the current loads), loads run,
the last load, quality (the mean score of the current loads), resources stale against their declared
更新周期 (``codes.STALE_AFTER_DAYS``), sharing calls served and refused, downloads of its open resources.
Per month: loads, rows loaded and downloads.
Each figure is computed from the same conditions its list uses (``stale_ids``, the catalogue's filters),
so a number opens the records behind it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.settings import get_settings
from countyos.data.lifecycle import State
from countyos.data.models import CallResult, Load, LoadState, Resource, ShareCall
from countyos.data.service import downloads, ioc_queries
from countyos.org.models import Department


@dataclass
class DepartmentFigures:
    department_id: int
    name: str
    resources: int = 0
    published: int = 0
    rows: int = 0
    loads: int = 0
    failed_loads: int = 0
    last_load: datetime | None = None
    quality: float | None = None
    stale: int = 0
    calls_served: int = 0
    calls_refused: int = 0
    downloads: int = 0  # of its open resources, from the portal (downloads.Filter(provider_id=…))
    _scores: list[float] = field(default_factory=list, repr=False)


def stale_ids(session: Session, *, now: datetime, provider_id: int | None = None) -> list[int]:
    """Published resources whose last successful load is older than their update cycle allows (or that
    have never been loaded): ``ioc_queries.where("stale")``."""
    return ioc_queries.ids(session, measure="stale", now=now, provider_id=provider_id)


def by_department(session: Session, *, now: datetime) -> list[DepartmentFigures]:
    figures: dict[int, DepartmentFigures] = {}
    rows = session.execute(
        select(Resource.provider_id, Department.name, Resource.state, Load.rows_loaded, Load.quality_score)
        .join(Department, Department.id == Resource.provider_id)
        .outerjoin(Load, Load.id == Resource.current_load_id)
    )
    for dept, name, state, loaded, score in rows:
        f = figures.setdefault(dept, DepartmentFigures(dept, name))
        f.resources += 1
        f.published += state == State.PUBLISHED
        f.rows += loaded or 0
        if score is not None:
            f._scores.append(score)
    loads = session.execute(
        select(Resource.provider_id, Load.state, func.count(Load.id), func.max(Load.finished_at))
        .join(Resource, Resource.id == Load.resource_id)
        .group_by(Resource.provider_id, Load.state)
    )
    for dept, load_state, n, last in loads:
        f = figures[dept]
        f.loads += n
        if load_state != LoadState.LOADED:
            f.failed_loads += n
        elif last is not None and (f.last_load is None or last > f.last_load):
            f.last_load = last
    calls = session.execute(
        select(Resource.provider_id, ShareCall.result, func.count(ShareCall.id))
        .join(Resource, Resource.id == ShareCall.resource_id)
        .group_by(Resource.provider_id, ShareCall.result)
    )
    for dept, result, n in calls:
        if result == CallResult.SERVED:
            figures[dept].calls_served += n
        else:
            figures[dept].calls_refused += n
    for dept, n in downloads.per_department(session).items():
        if dept in figures:
            figures[dept].downloads += n
    stale = stale_ids(session, now=now)
    if stale:
        for (dept,) in session.execute(select(Resource.provider_id).where(Resource.id.in_(stale))):
            figures[dept].stale += 1
    for f in figures.values():
        f.quality = sum(f._scores) / len(f._scores) if f._scores else None
    return sorted(figures.values(), key=lambda f: (-f.rows, f.name))


def by_month(session: Session, *, now: datetime, months: int = 12) -> list[dict[str, Any]]:
    """Loads, rows loaded and downloads per month (county time), the last MONTHS months, oldest first. The
    downloads of a month are counted with the conditions of its list (``downloads.Filter(month=…)``)."""
    tz = ZoneInfo(get_settings().timezone)
    local = now.astimezone(tz)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for started, state, rows in session.execute(
        select(Load.started_at, Load.state, Load.rows_loaded).where(Load.started_at >= first.astimezone(UTC))
    ):
        key = started.astimezone(tz).strftime("%Y-%m")
        counts[key][0] += 1
        counts[key][1] += rows if state == LoadState.LOADED else 0
    out = []
    month = first
    for _ in range(months):
        key = month.strftime("%Y-%m")
        out.append(
            {
                "month": key,
                "loads": counts[key][0],
                "rows": counts[key][1],
                "downloads": downloads.count(session, downloads.Filter(month=key)),
            }
        )
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def totals(session: Session, *, now: datetime) -> dict[str, Any]:
    """The county's figures for the operations view's tile."""
    published = session.scalar(select(func.count(Resource.id)).where(Resource.state == State.PUBLISHED)) or 0
    rows = (
        session.scalar(
            select(func.coalesce(func.sum(Load.rows_loaded), 0)).join(Resource, Resource.current_load_id == Load.id)
        )
        or 0
    )
    return {"published": published, "rows": int(rows), "stale": ioc_queries.count(session, measure="stale", now=now)}
