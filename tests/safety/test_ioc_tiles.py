"""The safety tiles of the operations view: each number equals the length of its list and a count made here
from the records written, in the period and the township chosen; the list opens each record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from countyos.core.actor import Actor
from countyos.core.clock import county_day, utcnow
from countyos.core.db import Database
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import resolve
from countyos.safety.models.cameras import Camera, CameraEvent, EventOutcome
from countyos.safety.models.events import EmergencyEvent, EventSource, EventState, EventTask, TaskState
from countyos.safety.models.inspections import (
    Checklist,
    Hazard,
    HazardLevel,
    HazardState,
    Inspection,
    InspectionResult,
    Place,
    RiskGrade,
)
from countyos.safety.models.plans import PlanType, ResponseLevel
from countyos.safety.models.traffic import IncidentKind, IncidentState, RoadIncident
from countyos.safety.service import ioc_queries as safety_q
from countyos.sensing.models import Latest
from countyos.sensing.service.times import to_us
from tests import factories
from tests.factories import login, person
from tests.safety.traffic_helpers import Sensor, sensor  # noqa: F401  (a fixture)

EVERYONE = Actor(id=None, name="test", permissions=frozenset({"case.read_all"}))
TOWN_A, TOWN_B = "331123001", "331123101"
MEASURES = safety_q.MEASURES


@dataclass
class World:
    now: datetime
    event_id: int
    hazard_id: int
    incident_id: int
    lot_id: int


@pytest.fixture
def safety_world(db: Database, sensor: Sensor) -> World:  # noqa: F811
    now = utcnow()
    dept = factories.department(db, "测试水利局")
    with db.unit_of_work() as s:
        events = []
        for n, (town, state, days) in enumerate(
            [(TOWN_A, EventState.ACTIVE, 1), (TOWN_B, EventState.ACTIVE, 40), (TOWN_A, EventState.CLOSED, 3)]
        ):
            ev = EmergencyEvent(number=f"YJIOC{n}", title=f"事件{n}", type=PlanType.FLOOD, level=ResponseLevel.IV,
                                state=state, source=EventSource.MANUAL, township_code=town + "201",
                                started_at=now - timedelta(days=days))  # fmt: skip
            s.add(ev)
            events.append(ev)
        s.flush()
        for ev, deadline, state in [
            (events[0], now - timedelta(hours=1), TaskState.ISSUED),  # overdue
            (events[0], now - timedelta(hours=2), TaskState.ACKNOWLEDGED),  # overdue
            (events[0], now + timedelta(hours=1), TaskState.ISSUED),  # not yet due
            (events[0], now - timedelta(hours=1), TaskState.DONE),  # done
            (events[1], now - timedelta(days=1), TaskState.ISSUED),  # overdue, another township
            (events[2], now - timedelta(days=2), TaskState.CLOSED),  # of a closed event
        ]:
            s.add(EventTask(event_id=ev.id, level=ResponseLevel.IV, department_id=dept, duty="巡查", state=state,
                            issued_at=ev.started_at, deadline_at=deadline))  # fmt: skip
        places = []
        for n, town in enumerate((TOWN_A, TOWN_B)):
            p = Place(name=f"场所{n}", kind="small_shop", lon=119.27, lat=28.59, township_code=town,
                      grade=RiskGrade.C)  # fmt: skip
            s.add(p)
            places.append(p)
        checklist = Checklist(code="IOC", version=1, name="检查表")
        s.add(checklist)
        s.flush()
        today = county_day(now)
        hazards = []
        for place, days_ago, due_in, state in [
            (places[0], 2, -1, HazardState.OPEN),  # overdue
            (places[0], 5, 10, HazardState.RECTIFIED),  # open, not overdue
            (places[1], 45, -30, HazardState.OPEN),  # overdue, found long ago, another township
            (places[1], 3, -2, HazardState.CLOSED),  # closed: neither open nor overdue
        ]:
            insp = Inspection(place_id=place.id, checklist_id=checklist.id, at=now - timedelta(days=days_ago),
                              result=InspectionResult.HAZARDS, hazards=1)  # fmt: skip
            s.add(insp)
            s.flush()
            h = Hazard(place_id=place.id, inspection_id=insp.id, item_code="A1", item_text="灭火器过期",
                       category="fire", level=HazardLevel.GENERAL, state=state, found_at=insp.at,
                       deadline_on=today + timedelta(days=due_in), township_code=place.township_code)  # fmt: skip
            s.add(h)
            hazards.append(h)
        cams = []
        for n, town in enumerate((TOWN_A, TOWN_B)):
            c = Camera(code=f"3311230008132{n:07d}", name=f"摄像机{n}", lon=119.27, lat=28.59, township_code=town)
            s.add(c)
            cams.append(c)
        s.flush()
        for cam, outcome, days in [(cams[0], EventOutcome.CASE, 1), (cams[0], EventOutcome.DUPLICATE, 1),
                                   (cams[1], EventOutcome.CASE, 2), (cams[1], EventOutcome.CASE, 50),
                                   (cams[0], EventOutcome.BELOW_THRESHOLD, 1)]:  # fmt: skip
            at = now - timedelta(days=days)
            s.add(CameraEvent(camera_id=cam.id, type_code="garbage", occurred_at=at, received_at=at, confidence=0.9,
                              outcome=outcome))  # fmt: skip
        incidents = []
        for n, (state, starts, ends) in enumerate([
            (IncidentState.PUBLISHED, -2, None),  # in force
            (IncidentState.PUBLISHED, -5, 24),  # in force until tomorrow
            (IncidentState.PUBLISHED, -48, -1),  # past its end, not yet ended by the job
            (IncidentState.PUBLISHED, 5, None),  # not started
            (IncidentState.DRAFT, -2, None),
            (IncidentState.ENDED, -10, -5),
        ]):  # fmt: skip
            inc = RoadIncident(token=f"ioc{n:029d}", kind=IncidentKind.CONSTRUCTION, title=f"施工{n}", state=state,
                               starts_at=now + timedelta(hours=starts),
                               ends_at=None if ends is None else now + timedelta(hours=ends))  # fmt: skip
            s.add(inc)
            incidents.append(inc)
        # the lot's counter: 95 of 100 spaces taken five minutes ago
        s.merge(Latest(datastream_id=sensor.datastream_id, phenomenon_us=to_us(now - timedelta(minutes=5)), result=95.0,
                       observation_id=1, reported_us=to_us(now), changed_us=to_us(now), raw_count=1))  # fmt: skip
        s.flush()
        return World(now, events[0].id, hazards[0].id, incidents[0].id, sensor.lot_id)


EXPECTED = {
    # (measure, period, township) -> the count made by hand from the rows above
    ("events_active", "30d", None): 2, ("events_active", "year", None): 2, ("events_active", "30d", TOWN_A): 1,
    ("events_active", "year", TOWN_B): 1,
    ("tasks_overdue", "30d", None): 3, ("tasks_overdue", "30d", TOWN_A): 2, ("tasks_overdue", "year", TOWN_B): 1,
    ("hazards_found", "30d", None): 3, ("hazards_found", "year", None): 4, ("hazards_found", "30d", TOWN_B): 1,
    ("hazards_open", "30d", None): 3, ("hazards_open", "30d", TOWN_A): 2,
    ("hazards_overdue", "30d", None): 2, ("hazards_overdue", "year", TOWN_A): 1,
    ("camera_cases", "30d", None): 2, ("camera_cases", "year", None): 3, ("camera_cases", "30d", TOWN_A): 1,
    ("incidents_live", "30d", None): 2, ("incidents_live", "30d", TOWN_A): 0,
    ("parking_full", "30d", None): 1, ("parking_live", "30d", None): 1, ("parking_full", "30d", TOWN_A): 0,
}  # fmt: skip


def test_each_tile_counts_its_records(db, safety_world):
    now = safety_world.now
    with db.reading() as s:
        seen: dict[tuple[str, str, str | None], int] = {}
        for period in ("30d", "year"):
            for town in (None, TOWN_A, TOWN_B):
                scope = resolve(period=period, township=town, now=now)
                for measure in MEASURES:
                    got = ind.count(s, actor=EVERYONE, source="safety", measure=measure, scope=scope, now=now)
                    rows = ind.records(s, actor=EVERYONE, source="safety", measure=measure, scope=scope, now=now,
                                       limit=1000)  # fmt: skip
                    assert got == len(rows), (period, town, measure)
                    seen[(measure, period, town)] = got
        wrong = {k: (seen[k], v) for k, v in EXPECTED.items() if seen[k] != v}
        assert not wrong, wrong
        cat_scope = replace(resolve(period="30d", now=now), category_id=1)
        assert ind.count(s, actor=EVERYONE, source="safety", measure="events_active", scope=cat_scope, now=now) == 0


def test_a_stale_counter_is_not_counted(db, safety_world):
    later = safety_world.now + timedelta(hours=1)  # the value is 65 minutes old by then
    with db.reading() as s:
        scope = resolve(period="30d", now=later)
        for measure in ("parking_full", "parking_live"):
            assert ind.count(s, actor=EVERYONE, source="safety", measure=measure, scope=scope, now=later) == 0


def test_the_list_opens_each_record(client, db, safety_world):
    login(client, person(db, ["leader"]))
    page = client.get("/ioc/list", params={"source": "safety", "measure": "events_active", "period": "30d"})
    assert page.status_code == 200 and f'href="/safety/events/{safety_world.event_id}"' in page.text
    hazards = client.get("/ioc/list", params={"source": "safety", "measure": "hazards_overdue", "period": "30d"})
    assert hazards.status_code == 200 and f'href="/safety/hazards/{safety_world.hazard_id}"' in hazards.text
    lots = client.get("/ioc/list", params={"source": "safety", "measure": "parking_full", "period": "30d"})
    assert lots.status_code == 200 and f'href="/safety/traffic/parking/{safety_world.lot_id}"' in lots.text
    assert "95/100" in lots.text
    view = client.get("/ioc")
    assert view.status_code == 200 and "source=safety" in view.text  # the tiles link to their lists
