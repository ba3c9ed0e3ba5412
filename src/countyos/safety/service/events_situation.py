"""The situation (态势) of one event for the command post: the sensors within 10 km with their latest values,
the nearest resources, the tasks by state with the overdue ones, the commands and the timeline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.safety.models.events import EmergencyEvent, EventLog, EventTask, TaskFeedback
from countyos.safety.service import events as ev
from countyos.safety.service import events_tasks, resources
from countyos.sensing.models import Datastream, Latest, Thing

SENSOR_RADIUS_M = 10_000
MAX_SENSORS = 60
EARTH_M = 6_371_008.8


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class SensorNear:
    thing_id: int
    name: str
    lon: float
    lat: float
    distance_m: float
    readings: list[tuple[str, float | None, str, datetime | None]]  # datastream name, value, unit, when


def sensors_near(session: Session, *, lon: float, lat: float, radius_m: float = SENSOR_RADIUS_M) -> list[SensorNear]:
    """Things within RADIUS_M of the point, nearest first, with each datastream's latest value."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(0.1, math.cos(math.radians(lat))))
    things = session.scalars(
        select(Thing).where(Thing.lon.between(lon - dlon, lon + dlon), Thing.lat.between(lat - dlat, lat + dlat))
    ).all()
    near = [(t, haversine_m(lon, lat, t.lon, t.lat)) for t in things if t.lon is not None and t.lat is not None]
    near = sorted((x for x in near if x[1] <= radius_m), key=lambda x: x[1])[:MAX_SENSORS]
    if not near:
        return []
    rows = session.execute(
        select(Datastream.thing_id, Datastream.name, Datastream.unit_symbol, Latest.result, Latest.phenomenon_us)
        .outerjoin(Latest, Latest.datastream_id == Datastream.id)
        .where(Datastream.thing_id.in_([t.id for t, _ in near]))
        .order_by(Datastream.id)
    ).all()
    by: dict[int, list[tuple[str, float | None, str, datetime | None]]] = {}
    for thing_id, name, unit, value, us in rows:
        when = datetime.fromtimestamp(us / 1_000_000, tz=UTC) if us is not None else None
        by.setdefault(thing_id, []).append((name, value, unit or "", when))
    return [SensorNear(t.id, t.name, float(t.lon or 0), float(t.lat or 0), round(d), by.get(t.id, [])) for t, d in near]


@dataclass
class Situation:
    event: EmergencyEvent
    tasks: list[EventTask]
    departments: dict[int, str]
    overdue: set[int]
    feedback: dict[int, list[TaskFeedback]]
    commands: list[events_tasks.CommandView]
    log: list[EventLog]
    sensors: list[SensorNear]
    resources: list[resources.NearestResource]
    counts: dict[str, int]


def situation(session: Session, *, event_id: int, now: datetime | None = None) -> Situation:
    now = now or utcnow()
    event = ev.get(session, event_id=event_id)
    rows = ev.tasks_of(session, event_id=event.id)
    cmds = events_tasks.commands_of(session, event_id=event.id)
    names = ev.department_names(
        session, {t.department_id for t in rows} | {x.department_id for c in cmds for x in c.targets}
    )
    fb: dict[int, list[TaskFeedback]] = {}
    for f in events_tasks.feedback_of(session, task_ids=[t.id for t in rows]):
        fb.setdefault(f.task_id, []).append(f)
    logs = list(
        session.scalars(select(EventLog).where(EventLog.event_id == event.id).order_by(EventLog.at, EventLog.id)).all()
    )
    sensors: list[SensorNear] = []
    near: list[resources.NearestResource] = []
    if event.lon is not None and event.lat is not None:
        sensors = sensors_near(session, lon=event.lon, lat=event.lat)
        try:
            near = resources.nearest(session, lon=event.lon, lat=event.lat, limit=10)
        except Exception:  # the resources part is optional on this page
            near = []
    counts: dict[str, Any] = {}
    for t in rows:
        counts[str(t.state)] = counts.get(str(t.state), 0) + 1
    return Situation(
        event=event,
        tasks=rows,
        departments=names,
        overdue={t.id for t in rows if ev.is_overdue(t, now)},
        feedback=fb,
        commands=cmds,
        log=logs,
        sensors=sensors,
        resources=near,
        counts=counts,
    )
