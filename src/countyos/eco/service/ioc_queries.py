"""Read-only ecology queries of the operations view (ioc): one WHERE per measure, used for the count and
the list alike, so that a number and the records behind it agree.

Measures:
- ``air_days`` (station-days with a valid daily AQI in the period) and ``air_good_days`` (of those, AQI ≤ 100:
  优良), the 空气质量优良率 of the county's stations;
- ``water_sections`` (active sections with a sample, now) and ``water_meeting`` (their latest sample meets the
  section's target class), the 水质达标率;
- ``patrols`` (河长/林长 patrols finished in the period, not flagged) and ``problems_open`` (problems found on
  patrols whose case is not closed, now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from countyos.cases.models import Case
from countyos.core.clock import to_local
from countyos.core.i18n import N_
from countyos.core.listing import ListedRecord
from countyos.eco.models.air import AirDaily, AirStation
from countyos.eco.models.rivers import PatrolState, RiverArea, RiverPatrol, RiverProblem
from countyos.eco.models.water import WaterSection

MEASURES = ("air_days", "air_good_days", "water_sections", "water_meeting", "patrols", "problems_open")
LABELS = {
    "air_days": N_("Station-days with a valid daily AQI"),
    "air_good_days": N_("Station-days of good or moderate air (AQI ≤ 100)"),
    "water_sections": N_("Water sections with a sample"),
    "water_meeting": N_("Water sections meeting their target class"),
    "patrols": N_("River and forest patrols"),
    "problems_open": N_("Problems found on patrols, not yet closed"),
}
GOOD_AQI = 100


@dataclass(frozen=True)
class EcoSlice:
    start: datetime | None = None
    end: datetime | None = None
    township_code: str | None = None


def _in_town(column: Any, code: str | None) -> ColumnElement[bool]:
    return column.startswith(code) if code else true()


def _query(measure: str, s: EcoSlice, what: Any) -> Select[Any]:
    if measure in ("air_days", "air_good_days"):
        stmt = select(what).select_from(AirDaily).join(AirStation, AirStation.id == AirDaily.station_id)
        stmt = stmt.where(
            AirDaily.valid, AirDaily.aqi.is_not(None), _in_town(AirStation.division_code, s.township_code)
        )
        if s.start is not None:
            stmt = stmt.where(AirDaily.start >= s.start)
        if s.end is not None:
            stmt = stmt.where(AirDaily.start < s.end)
        return stmt.where(AirDaily.aqi <= GOOD_AQI) if measure == "air_good_days" else stmt
    if measure in ("water_sections", "water_meeting"):
        stmt = select(what).select_from(WaterSection)
        stmt = stmt.where(WaterSection.active, WaterSection.last_class.is_not(None))
        stmt = stmt.where(_in_town(WaterSection.division_code, s.township_code))
        return stmt.where(WaterSection.last_meets.is_(True)) if measure == "water_meeting" else stmt
    if measure == "patrols":
        stmt = select(what).select_from(RiverPatrol).join(RiverArea, RiverArea.id == RiverPatrol.area_id)
        stmt = stmt.where(RiverPatrol.state == PatrolState.FINISHED, RiverPatrol.flagged.is_(False))
        stmt = stmt.where(_in_town(RiverArea.township_code, s.township_code))
        if s.start is not None:
            stmt = stmt.where(RiverPatrol.finished_at >= s.start)
        if s.end is not None:
            stmt = stmt.where(RiverPatrol.finished_at < s.end)
        return stmt
    if measure == "problems_open":
        stmt = select(what).select_from(RiverProblem).join(RiverArea, RiverArea.id == RiverProblem.area_id)
        stmt = stmt.outerjoin(Case, Case.id == RiverProblem.case_id)
        stmt = stmt.where(_in_town(RiverArea.township_code, s.township_code))
        return stmt.where(Case.id.is_(None) | (Case.is_open == true()))
    raise ValueError(measure)


_ENTITY = {
    "air_days": AirDaily,
    "air_good_days": AirDaily,
    "water_sections": WaterSection,
    "water_meeting": WaterSection,
    "patrols": RiverPatrol,
    "problems_open": RiverProblem,
}
_ORDER: dict[str, tuple[Any, ...]] = {
    "air_days": (AirDaily.start.desc(), AirDaily.station_id),
    "air_good_days": (AirDaily.start.desc(), AirDaily.station_id),
    "water_sections": (WaterSection.last_meets.asc(), WaterSection.code),
    "water_meeting": (WaterSection.code,),
    "patrols": (RiverPatrol.finished_at.desc(), RiverPatrol.id.desc()),
    "problems_open": (RiverProblem.found_at.asc(), RiverProblem.id),
}


def count(session: Session, *, measure: str, s: EcoSlice) -> int:
    return int(session.scalar(_query(measure, s, func.count())) or 0)


def rows(session: Session, *, measure: str, s: EcoSlice, limit: int, offset: int = 0) -> list[Any]:
    stmt = _query(measure, s, _ENTITY[measure]).order_by(*_ORDER[measure]).limit(limit).offset(offset)
    return list(session.scalars(stmt))


CLASS_LABELS = {"I": "Ⅰ类", "II": "Ⅱ类", "III": "Ⅲ类", "IV": "Ⅳ类", "V": "Ⅴ类", "劣V": "劣Ⅴ类"}


def describe(session: Session, row: Any) -> ListedRecord:
    """One record of a measure's list, each opening its own page."""
    if isinstance(row, AirDaily):
        st = session.get(AirStation, row.station_id)
        name = st.name if st else str(row.station_id)
        title = f"{name} {to_local(row.start).date().isoformat()}"
        good = row.aqi is not None and row.aqi <= GOOD_AQI
        return ListedRecord(
            row.station_id, st.code if st else "", title, st.place if st else "", N_("Daily AQI"),
            f"AQI {row.aqi}", "green" if good else "red", row.start, "", f"/eco/air/stations/{row.station_id}",
        )  # fmt: skip
    if isinstance(row, WaterSection):
        cls = CLASS_LABELS.get(row.last_class or "", row.last_class or "")
        return ListedRecord(
            row.id, row.code, row.name, row.water_name, N_("Water section"), cls,
            "green" if row.last_meets else "red", row.last_sampled_at, "", f"/eco/water/sections/{row.id}",
        )  # fmt: skip
    from countyos.eco.service import rivers, rivers_patrols

    if isinstance(row, RiverPatrol):
        area = session.get(RiverArea, row.area_id)
        who = rivers.names(session, [row.user_id]).get(row.user_id, "")
        return ListedRecord(
            row.id, f"#{row.id}", area.name if area else "", (area.township_name or "") if area else "",
            N_("Patrol"), N_("Finished"), "none", row.finished_at, who, f"/eco/rivers/patrols/{row.id}",
        )  # fmt: skip
    if isinstance(row, RiverProblem):
        area = session.get(RiverArea, row.area_id)
        kind = rivers_patrols.problem_kinds().get(row.kind, {})
        url = f"/cases/{row.case_id}" if row.case_id else f"/eco/rivers/patrols/{row.patrol_id}"
        return ListedRecord(
            row.id, row.case_number or "", area.name if area else "", (area.township_name or "") if area else "",
            kind.get("label") or N_("Patrol problem"), N_("Open"), "yellow", row.found_at, "", url,
        )  # fmt: skip
    raise TypeError(type(row).__name__)
