"""Read-only data-catalogue queries shared by the 数据沉淀 view and the operations view (ioc): one WHERE per
measure, used for the count and the list alike, so that a number and the records behind it agree.

Measures (stock, now): ``published`` (resources in the catalogue, 已发布), ``stale`` (published and
past their 更新周期: the last successful load older than ``codes.STALE_AFTER_DAYS`` allows, or none) and
``fresh`` (published and not stale: within their update cycle, or of a cycle without a deadline — 不定期,
其他). ``fresh`` + ``stale`` = ``published``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from countyos.core.i18n import N_
from countyos.data.codes import STALE_AFTER_DAYS
from countyos.data.lifecycle import State
from countyos.data.models import Load, Resource

MEASURES = ("published", "stale", "fresh")
LABELS = {
    "published": N_("Published data resources"),
    "stale": N_("Data resources past their update cycle"),
    "fresh": N_("Data resources within their update cycle"),
}


def where(measure: str, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [Resource.state == State.PUBLISHED]
    if measure == "stale":
        late = [
            and_(
                Resource.update_cycle == cycle,
                or_(Load.finished_at.is_(None), Load.finished_at < now - timedelta(days=days)),
            )
            for cycle, days in STALE_AFTER_DAYS.items()
            if days is not None
        ]
        out.append(or_(*late) if late else false())
    elif measure == "fresh":
        timed = [cycle for cycle, days in STALE_AFTER_DAYS.items() if days is not None]
        in_time = [
            and_(
                Resource.update_cycle == cycle,
                Load.finished_at.is_not(None),
                Load.finished_at >= now - timedelta(days=days),
            )
            for cycle, days in STALE_AFTER_DAYS.items()
            if days is not None
        ]
        out.append(or_(Resource.update_cycle.not_in(timed), *in_time))
    return out


def _base(stmt: Select[Any]) -> Select[Any]:
    return stmt.outerjoin(Load, Load.id == Resource.current_load_id)


def count(session: Session, *, measure: str, now: datetime, provider_id: int | None = None) -> int:
    cond = where(measure, now) + ([Resource.provider_id == provider_id] if provider_id is not None else [])
    return int(session.scalar(_base(select(func.count(Resource.id)).select_from(Resource)).where(*cond)) or 0)


def ids(session: Session, *, measure: str, now: datetime, provider_id: int | None = None) -> list[int]:
    cond = where(measure, now) + ([Resource.provider_id == provider_id] if provider_id is not None else [])
    return list(session.scalars(_base(select(Resource.id)).where(*cond)))


def rows(session: Session, *, measure: str, now: datetime, limit: int, offset: int = 0) -> list[Resource]:
    """Oldest data first."""
    stmt = _base(select(Resource)).where(*where(measure, now))
    stmt = stmt.order_by(Load.finished_at.asc().nulls_first(), Resource.id).limit(limit).offset(offset)
    return list(session.scalars(stmt))
