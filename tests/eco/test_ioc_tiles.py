"""The ecology tiles of the operations view: each number equals the length of its list and a count made
here from the records written, in the period and the township chosen; the list opens each record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pytest
from shapely.geometry import LineString

from countyos.cases.models import Case
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.eco.models.air import AirDaily, AirStation
from countyos.eco.models.rivers import (
    AreaKind,
    ChiefLevel,
    ChiefRole,
    PatrolState,
    RiverArea,
    RiverChief,
    RiverPatrol,
    RiverProblem,
)
from countyos.eco.models.water import WaterSection
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import resolve
from tests.eco.test_air_flow import _register
from tests.factories import login, person

EVERYONE = Actor(id=None, name="test", permissions=frozenset({"case.read_all"}))
TOWN_A, TOWN_B = "331123001", "331123101"


@dataclass
class World:
    now: datetime
    station_ids: tuple[int, int]


def _area(code: str, town: str) -> RiverArea:
    a = RiverArea(kind=AreaKind.SECTION, code=code, name=f"河段{code}", township_code=town, township_name=town,
                  length_m=1000.0, source="test")  # fmt: skip
    a.set_geometry(LineString([(119.2, 28.5), (119.21, 28.51)]))
    return a


@pytest.fixture
def eco_world(db: Database) -> World:
    now = utcnow()
    thing_a, _ = _register(db, "air-ioc-a")
    thing_b, _ = _register(db, "air-ioc-b")
    chief_user = person(db, ["river_chief"])
    with db.unit_of_work() as s:
        a = AirStation(code="IOC-A", name="甲站", thing_id=thing_a, division_code=TOWN_A, place="甲")
        b = AirStation(code="IOC-B", name="乙站", thing_id=thing_b, division_code=TOWN_B, place="乙")
        s.add_all([a, b])
        s.flush()
        day = now.replace(hour=16, minute=0, second=0, microsecond=0) - timedelta(days=1)
        # station A: 5 days, AQI 40, 90, 100 (the limit: good), 101, and one invalid day; B: 2 days, 150 and 60
        for k, (aqi, valid) in enumerate([(40, True), (90, True), (100, True), (101, True), (None, False)]):
            s.add(AirDaily(station_id=a.id, start=day - timedelta(days=k), aqi=aqi, valid=valid))
        s.add(AirDaily(station_id=b.id, start=day, aqi=150, valid=True))
        s.add(AirDaily(station_id=b.id, start=day - timedelta(days=40), aqi=60, valid=True))  # outside 30 days
        for code, town, cls, meets in (("W1", TOWN_A, "II", True), ("W2", TOWN_A, "IV", False),
                                       ("W3", TOWN_B, "III", True), ("W4", TOWN_B, None, None)):  # fmt: skip
            s.add(WaterSection(code=code, name=f"断面{code}", lon=119.2, lat=28.5, division_code=town,
                               target_class="III", last_class=cls, last_meets=meets,
                               last_sampled_at=now if cls else None))  # fmt: skip
        area_a, area_b = _area("S-A", TOWN_A), _area("S-B", TOWN_B)
        s.add_all([area_a, area_b])
        s.flush()
        chief = RiverChief(user_id=chief_user.id, area_id=area_a.id, level=ChiefLevel.VILLAGE,
                           role=ChiefRole.RIVER, starts_on=date(2020, 1, 1))  # fmt: skip
        chief_b = RiverChief(user_id=chief_user.id, area_id=area_b.id, level=ChiefLevel.VILLAGE,
                             role=ChiefRole.RIVER, starts_on=date(2020, 1, 1))  # fmt: skip
        s.add_all([chief, chief_b])
        s.flush()
        patrols = []
        for area, ch, ago, flagged, state in ((area_a, chief, 2, False, PatrolState.FINISHED),
                                              (area_a, chief, 3, True, PatrolState.FINISHED),  # no track
                                              (area_a, chief, 1, False, PatrolState.OPEN),
                                              (area_b, chief_b, 5, False, PatrolState.FINISHED),
                                              (area_b, chief_b, 50, False, PatrolState.FINISHED)):  # fmt: skip
            p = RiverPatrol(chief_id=ch.id, area_id=area.id, user_id=chief_user.id, state=state,
                            started_at=now - timedelta(days=ago, hours=1),
                            finished_at=now - timedelta(days=ago) if state == PatrolState.FINISHED else None,
                            flagged=flagged)  # fmt: skip
            s.add(p)
            patrols.append(p)
        s.flush()
        open_case = s.query(Case).filter(Case.is_open.is_(True)).first()
        closed_case = s.query(Case).filter(Case.is_open.is_(False)).first()
        for p, case in ((patrols[0], None), (patrols[0], open_case), (patrols[3], closed_case)):
            s.add(RiverProblem(patrol_id=p.id, chief_id=p.chief_id, area_id=p.area_id, kind="garbage", lon=119.2,
                               lat=28.5, found_at=now - timedelta(days=1), case_id=case.id if case else None,
                               case_number=case.number if case else None))  # fmt: skip
        return World(now, (a.id, b.id))


EXPECTED = {
    # (period, township) → measure → count
    ("30d", None): {"air_days": 5, "air_good_days": 3, "water_sections": 3, "water_meeting": 2, "patrols": 2},
    ("30d", TOWN_A): {"air_days": 4, "air_good_days": 3, "water_sections": 2, "water_meeting": 1, "patrols": 1},
    ("30d", TOWN_B): {"air_days": 1, "air_good_days": 0, "water_sections": 1, "water_meeting": 1, "patrols": 1},
    ("year", None): {"air_days": 6, "air_good_days": 4, "patrols": 3},
}


def test_each_tile_counts_its_records(db, eco_world):
    with db.reading() as s:
        for (period, town), want in EXPECTED.items():
            scope = resolve(period=period, township=town, now=eco_world.now)
            for measure, n in want.items():
                got = ind.count(s, actor=EVERYONE, source="eco", measure=measure, scope=scope, now=eco_world.now)
                rows = ind.records(s, actor=EVERYONE, source="eco", measure=measure, scope=scope,
                                   now=eco_world.now, limit=1000)  # fmt: skip
                assert got == n == len(rows), (period, town, measure, got, len(rows))
            # open problems: those without a case or with an open one, whatever the period
            problems = ind.count(s, actor=EVERYONE, source="eco", measure="problems_open", scope=scope,
                                 now=eco_world.now)  # fmt: skip
            expected = 0
            for p in s.query(RiverProblem).all():
                area = s.get(RiverArea, p.area_id)
                case = s.get(Case, p.case_id) if p.case_id else None
                if (town is None or area.township_code == town) and (case is None or case.is_open):
                    expected += 1
            assert problems == expected and (town == TOWN_B or problems >= 2)
        month = resolve(period="30d", now=eco_world.now)
        rate = ind.evaluate(s, actor=EVERYONE, ind=ind.get("air_good_rate"), scope=month, now=eco_world.now)
        assert (rate.count, rate.whole, rate.rate) == (3, 5, 60.0)
        # a case category narrows the view to cases: no ecology record belongs to one
        cat_scope = replace(month, category_id=1)
        assert ind.count(s, actor=EVERYONE, source="eco", measure="air_days", scope=cat_scope, now=eco_world.now) == 0


def test_the_list_opens_each_record(client, db, eco_world):
    login(client, person(db, ["leader"]))
    page = client.get("/ioc/list", params={"source": "eco", "measure": "air_good_days", "period": "30d"})
    assert page.status_code == 200
    assert f'href="/eco/air/stations/{eco_world.station_ids[0]}"' in page.text and "甲站" in page.text
    water = client.get("/ioc/list", params={"source": "eco", "measure": "water_sections", "period": "30d"})
    assert water.status_code == 200 and "/eco/water/sections/" in water.text and "Ⅳ类" in water.text
    patrols = client.get("/ioc/list", params={"source": "eco", "measure": "patrols", "period": "30d"})
    assert patrols.status_code == 200 and "/eco/rivers/patrols/" in patrols.text
    problems = client.get("/ioc/list", params={"source": "eco", "measure": "problems_open", "period": "30d"})
    assert problems.status_code == 200 and "/cases/" in problems.text
    view = client.get("/ioc")
    assert view.status_code == 200 and "source=eco" in view.text  # the tiles link to their lists
