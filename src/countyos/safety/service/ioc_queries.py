"""Read-only queries of the operations view (ioc) for the safety domain: one WHERE per measure, used for the
count and the list alike, so that a number and the records behind it agree.

Measures:
- ``events_active``: emergency events whose response is running now (started before the period's end);
- ``tasks_overdue``: departments' emergency tasks past their deadline and not done, of running events;
- ``hazards_found``: 隐患 found by inspections in the period;
- ``hazards_open``: 隐患 not closed (found before the period's end);
- ``hazards_overdue``: 隐患 not closed and past their rectification deadline (the county's day);
- ``camera_cases``: camera events that became cases in the period;
- ``incidents_live``: road incidents published and in force now (county-wide);
- ``parking_full``: parking lots at 90 % of their spaces or more now, by a value younger than the stale interval
  (county-wide);
- ``parking_live``: parking lots with a sensor that reported within the stale interval (the whole of the rate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.orm import Session

from countyos.core.clock import county_day, utcnow
from countyos.core.i18n import N_
from countyos.core.listing import ListedRecord
from countyos.org.models import Department
from countyos.safety.models.cameras import Camera, CameraEvent, EventOutcome
from countyos.safety.models.events import EmergencyEvent, EventState, EventTask, TaskState
from countyos.safety.models.inspections import Hazard, HazardState, Place
from countyos.safety.models.traffic import IncidentState, ParkingLot, RoadIncident
from countyos.safety.service import traffic_parking
from countyos.sensing.models import Latest
from countyos.sensing.service.times import to_us

MEASURES = (
    "events_active",
    "tasks_overdue",
    "hazards_found",
    "hazards_open",
    "hazards_overdue",
    "camera_cases",
    "incidents_live",
    "parking_full",
    "parking_live",
)
LABELS = {
    "events_active": N_("Emergency responses running"),
    "tasks_overdue": N_("Emergency tasks past their deadline"),
    "hazards_found": N_("Hidden dangers found"),
    "hazards_open": N_("Hidden dangers not yet closed"),
    "hazards_overdue": N_("Hidden dangers past their rectification deadline"),
    "camera_cases": N_("Camera detections that became cases"),
    "incidents_live": N_("Road incidents in force"),
    "parking_full": N_("Parking lots nearly full"),
    "parking_live": N_("Parking lots reporting"),
}
OPEN_TASK = (TaskState.ISSUED, TaskState.ACKNOWLEDGED)
FULL_SHARE = 0.9


@dataclass(frozen=True)
class SafetySlice:
    start: datetime | None = None
    end: datetime | None = None
    township_code: str | None = None
    now: datetime = field(default_factory=utcnow)


def _in_town(column: Any, code: str | None) -> ColumnElement[bool]:
    return column.startswith(code) if code else true()


def _period(column: Any, s: SafetySlice) -> list[ColumnElement[bool]]:
    out = []
    if s.start is not None:
        out.append(column >= s.start)
    if s.end is not None:
        out.append(column < s.end)
    return out


def _before_end(column: Any, s: SafetySlice) -> list[ColumnElement[bool]]:
    return [column < s.end] if s.end is not None else []


def _fresh(s: SafetySlice) -> ColumnElement[bool]:
    stale = timedelta(minutes=int(traffic_parking.config()["stale_minutes"]))
    return Latest.phenomenon_us >= to_us(s.now - stale)


def _query(measure: str, s: SafetySlice, what: Any) -> Select[Any]:
    if measure == "events_active":
        stmt = select(what).select_from(EmergencyEvent).where(EmergencyEvent.state == EventState.ACTIVE)
        return stmt.where(
            _in_town(EmergencyEvent.township_code, s.township_code), *_before_end(EmergencyEvent.started_at, s)
        )
    if measure == "tasks_overdue":
        stmt = (
            select(what)
            .select_from(EventTask)
            .join(EmergencyEvent, EmergencyEvent.id == EventTask.event_id)
            .where(EmergencyEvent.state == EventState.ACTIVE, EventTask.state.in_(OPEN_TASK))
            .where(EventTask.deadline_at < s.now)
        )
        return stmt.where(_in_town(EmergencyEvent.township_code, s.township_code))
    if measure == "hazards_found":
        stmt = select(what).select_from(Hazard).where(*_period(Hazard.found_at, s))
        return stmt.where(_in_town(Hazard.township_code, s.township_code))
    if measure in ("hazards_open", "hazards_overdue"):
        stmt = (
            select(what).select_from(Hazard).where(Hazard.state != HazardState.CLOSED, *_before_end(Hazard.found_at, s))
        )
        if measure == "hazards_overdue":
            stmt = stmt.where(Hazard.deadline_on < county_day(s.now))
        return stmt.where(_in_town(Hazard.township_code, s.township_code))
    if measure == "camera_cases":
        stmt = select(what).select_from(CameraEvent).join(Camera, Camera.id == CameraEvent.camera_id)
        stmt = stmt.where(CameraEvent.outcome == EventOutcome.CASE, *_period(CameraEvent.received_at, s))
        return stmt.where(_in_town(Camera.township_code, s.township_code))
    if measure == "incidents_live":
        stmt = select(what).select_from(RoadIncident).where(RoadIncident.state == IncidentState.PUBLISHED)
        stmt = stmt.where(RoadIncident.starts_at <= s.now)
        stmt = stmt.where((RoadIncident.ends_at.is_(None)) | (RoadIncident.ends_at > s.now))
        return stmt.where(false()) if s.township_code else stmt
    if measure in ("parking_full", "parking_live"):
        stmt = select(what).select_from(ParkingLot).join(Latest, Latest.datastream_id == ParkingLot.datastream_id)
        stmt = stmt.where(_fresh(s))
        if measure == "parking_full":
            stmt = stmt.where(Latest.result >= ParkingLot.capacity * FULL_SHARE)
        return stmt.where(false()) if s.township_code else stmt
    raise ValueError(measure)


_ENTITY: dict[str, Any] = {
    "events_active": EmergencyEvent,
    "tasks_overdue": EventTask,
    "hazards_found": Hazard,
    "hazards_open": Hazard,
    "hazards_overdue": Hazard,
    "camera_cases": CameraEvent,
    "incidents_live": RoadIncident,
    "parking_full": ParkingLot,
    "parking_live": ParkingLot,
}
_ORDER: dict[str, tuple[Any, ...]] = {
    "events_active": (EmergencyEvent.started_at.desc(), EmergencyEvent.id.desc()),
    "tasks_overdue": (EventTask.deadline_at.asc(), EventTask.id),
    "hazards_found": (Hazard.found_at.desc(), Hazard.id.desc()),
    "hazards_open": (Hazard.deadline_on.asc(), Hazard.id),
    "hazards_overdue": (Hazard.deadline_on.asc(), Hazard.id),
    "camera_cases": (CameraEvent.received_at.desc(), CameraEvent.id.desc()),
    "incidents_live": (RoadIncident.starts_at.desc(), RoadIncident.id.desc()),
    "parking_full": (ParkingLot.name, ParkingLot.id),
    "parking_live": (ParkingLot.name, ParkingLot.id),
}


def count(session: Session, *, measure: str, s: SafetySlice) -> int:
    return int(session.scalar(_query(measure, s, func.count())) or 0)


def rows(session: Session, *, measure: str, s: SafetySlice, limit: int, offset: int = 0) -> list[Any]:
    stmt = _query(measure, s, _ENTITY[measure]).order_by(*_ORDER[measure]).limit(limit).offset(offset)
    return list(session.scalars(stmt))


HAZARD_STATE_LABELS = {
    HazardState.OPEN: N_("Hidden danger open"),
    HazardState.RECTIFIED: N_("Rectified, awaiting re-inspection"),
    HazardState.CLOSED: N_("Hidden danger closed"),
}
LEVEL_WORDS = {"I": N_("Level I"), "II": N_("Level II"), "III": N_("Level III"), "IV": N_("Level IV")}


def _department(session: Session, department_id: int | None) -> str:
    d = session.get(Department, department_id) if department_id else None
    return d.name if d else ""


def describe(session: Session, row: Any, *, now: datetime | None = None) -> ListedRecord:
    """One record of a measure's list, each opening its own page."""
    now = now or utcnow()
    if isinstance(row, EmergencyEvent):
        return ListedRecord(
            row.id, row.number or "", row.title, row.place, N_("Emergency event"),
            LEVEL_WORDS.get(str(row.level), N_("Running")), "red", row.started_at, "",
            f"/safety/events/{row.id}",
        )  # fmt: skip
    if isinstance(row, EventTask):
        ev = session.get(EmergencyEvent, row.event_id)
        return ListedRecord(
            row.id, ev.number or "" if ev else "", row.duty[:120], ev.place if ev else "", N_("Emergency task"),
            N_("Task overdue"), "red", row.deadline_at, _department(session, row.department_id),
            f"/safety/events/{row.event_id}",
        )  # fmt: skip
    if isinstance(row, Hazard):
        place = session.get(Place, row.place_id)
        late = row.state != HazardState.CLOSED and row.deadline_on < county_day(now)
        level = "green" if row.state == HazardState.CLOSED else ("red" if late else "yellow")
        return ListedRecord(
            row.id, row.case_number or "", row.item_text, place.name if place else "", N_("Hidden danger"),
            HAZARD_STATE_LABELS.get(row.state, N_("Hidden danger open")), level, row.found_at, row.responsible,
            f"/safety/hazards/{row.id}",
        )  # fmt: skip
    if isinstance(row, CameraEvent):
        cam = session.get(Camera, row.camera_id)
        return ListedRecord(
            row.id, row.case_number or "", row.type_code, cam.name if cam else "", N_("Camera detection"),
            N_("Case opened"), "yellow", row.received_at, "", f"/safety/cameras/events?camera={row.camera_id}",
        )  # fmt: skip
    if isinstance(row, RoadIncident):
        return ListedRecord(
            row.id, "", row.title, row.from_words, N_("Road incident"), N_("In force"), "yellow", row.starts_at, "",
            f"/safety/traffic/incidents/{row.id}",
        )  # fmt: skip
    if isinstance(row, ParkingLot):
        out = traffic_parking.live(session, [row], now=now).get(row.id)
        status = f"{out.occupied}/{row.capacity}" if out is not None and out.occupied is not None else ""
        level = "red" if out is not None and out.level == "full" else "green"
        return ListedRecord(
            row.id, "", row.name, row.address, N_("Parking lot"), status, level,
            out.updated_at if out is not None else None, "", f"/safety/traffic/parking/{row.id}",
        )  # fmt: skip
    raise TypeError(type(row).__name__)
