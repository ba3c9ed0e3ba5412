"""Read-only tourism queries for the operations view (ioc): one WHERE per measure, used for the count and
the list alike, so that a number and the records behind it agree (the same shape as
``eco.service.ioc_queries``).

Measures:
- ``spots_crowded``: active scenic spots at a crowding level (75 % of capacity or more), now;
- ``crowding_alarms_open``: crowding alarms not cleared, now (each opens its spot);
- ``spot_days``: spot-days with counted visitors in the period (their entries are the visitors);
- ``homestay_reports``: homestay occupancy reports of days in the period.
``visitors`` gives the sum of entries over the same spot-days as ``spot_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from countyos.core.i18n import N_
from countyos.sensing.models import Alarm, AlarmKind, AlarmState
from countyos.village.models.tourism import Crowding, Homestay, HomestayReport, Spot, SpotCounter, SpotDaily
from countyos.village.service import tourism

MEASURES = ("spots_crowded", "crowding_alarms_open", "spot_days", "homestay_reports")
LABELS = {
    "spots_crowded": N_("Scenic spots at a crowding level now"),
    "crowding_alarms_open": N_("Open crowding alarms"),
    "spot_days": N_("Scenic spot-days with counted visitors"),
    "homestay_reports": N_("Homestay occupancy reports"),
}


@dataclass(frozen=True)
class TourismSlice:
    start: date | None = None  # local days, inclusive
    end: date | None = None  # exclusive


def _query(measure: str, s: TourismSlice, what: Any) -> Select[Any]:
    if measure == "spots_crowded":
        return select(what).select_from(Spot).where(Spot.active, Spot.crowding != Crowding.NORMAL)
    if measure == "crowding_alarms_open":
        entries = select(SpotCounter.entry_datastream_id)
        return (
            select(what)
            .select_from(Alarm)
            .where(Alarm.kind == AlarmKind.CROWDING, Alarm.state != AlarmState.CLEARED)
            .where(Alarm.datastream_id.in_(entries))
        )
    if measure == "spot_days":
        stmt = select(what).select_from(SpotDaily).where(SpotDaily.entries > 0)
        if s.start is not None:
            stmt = stmt.where(SpotDaily.day >= s.start)
        if s.end is not None:
            stmt = stmt.where(SpotDaily.day < s.end)
        return stmt
    if measure == "homestay_reports":
        stmt = select(what).select_from(HomestayReport)
        if s.start is not None:
            stmt = stmt.where(HomestayReport.day >= s.start)
        if s.end is not None:
            stmt = stmt.where(HomestayReport.day < s.end)
        return stmt
    raise ValueError(measure)


_ENTITY = {
    "spots_crowded": Spot,
    "crowding_alarms_open": Alarm,
    "spot_days": SpotDaily,
    "homestay_reports": HomestayReport,
}
_ORDER: dict[str, tuple[Any, ...]] = {
    "spots_crowded": (Spot.crowding.desc(), Spot.name),
    "crowding_alarms_open": (Alarm.raised_at.desc(), Alarm.id.desc()),
    "spot_days": (SpotDaily.day.desc(), SpotDaily.spot_id),
    "homestay_reports": (HomestayReport.day.desc(), HomestayReport.homestay_id),
}


def count(session: Session, *, measure: str, s: TourismSlice) -> int:
    return int(session.scalar(_query(measure, s, func.count())) or 0)


def visitors(session: Session, *, s: TourismSlice) -> int:
    return int(session.scalar(_query("spot_days", s, func.coalesce(func.sum(SpotDaily.entries), 0))) or 0)


def rows(session: Session, *, measure: str, s: TourismSlice, limit: int, offset: int = 0) -> list[Any]:
    stmt = _query(measure, s, _ENTITY[measure]).order_by(*_ORDER[measure]).limit(limit).offset(offset)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class TourismRecord:
    """What the operations view's list shows of one tourism record."""

    id: int
    ref: str
    title: str
    place: str
    kind: str  # message id
    status: str  # message id or plain text
    level: str  # green / red / yellow / none
    at: datetime | None
    owner: str
    url: str


def describe(session: Session, row: Any) -> TourismRecord:
    """One record of a measure's list, each opening its own page."""
    if isinstance(row, Spot):
        return TourismRecord(
            row.id, row.a_level.value, row.name, "", N_("Scenic spot"), tourism.CROWDING_NAMES[row.crowding],
            "red" if row.crowding in (Crowding.HIGH, Crowding.FULL) else "yellow", row.crowding_at, "",
            f"/village/tourism/spots/{row.id}",
        )  # fmt: skip
    if isinstance(row, Alarm):
        spot_id = (row.context or {}).get("spot_id")
        url = f"/cases/{row.case_id}" if row.case_id else f"/village/tourism/spots/{spot_id}"
        return TourismRecord(
            row.id, row.case_number or "", row.title, "", N_("Crowding alarm"), N_("Open"), "red", row.raised_at, "",
            url,
        )  # fmt: skip
    if isinstance(row, SpotDaily):
        spot = session.get(Spot, row.spot_id)
        return TourismRecord(
            row.id, row.day.isoformat(), spot.name if spot else "", "", N_("Visitors of a day"), str(row.entries),
            "none", row.peak_at, "", f"/village/tourism/spots/{row.spot_id}",
        )  # fmt: skip
    if isinstance(row, HomestayReport):
        h = session.get(Homestay, row.homestay_id)
        return TourismRecord(
            row.id, row.day.isoformat(), h.name if h else "", h.village_name if h else "", N_("Occupancy report"),
            f"{row.rooms_occupied}/{h.rooms if h else '?'}", "none", row.reported_at, "", "/village/tourism/homestays",
        )  # fmt: skip
    raise TypeError(type(row).__name__)
