"""Fixtures of the cases tests: a small county (departments, people, categories, routing) and a
stand-in locator so that case logic is tested apart from the geo domain's boundaries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from countyos.cases.models import CategoryKind
from countyos.cases.service import categories, location, routing
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.errors import ValidationFailed
from countyos.org.models import DepartmentKind
from tests import factories
from tests.factories import Person, department, person
from tests.harness import Baseline, Harness

FACTORY = Actor(id=None, name="factory")


class OutsideCounty(ValidationFailed):
    code = "outside_county"


def fake_locate(session, *, lon: float, lat: float, crs: str = "wgs84") -> location.Place:
    """Two townships split at lon 119.25; grids of 0.01°; area class A near the centre."""
    if crs == "gcj02":  # a rough constant offset is enough to tell that conversion happened
        lon, lat = lon - 0.0045, lat + 0.0025
    if not (119.0 <= lon <= 119.5 and 28.4 <= lat <= 28.8):
        raise OutsideCounty("The position is outside the county")
    town = "331123001" if lon < 119.25 else "331123100"
    village = town + "001"
    grid = village + f"{int((lon - 119.0) * 100) % 1000:03d}"
    area = "A" if abs(lon - 119.27) < 0.03 and abs(lat - 28.59) < 0.03 else "B"
    return location.Place(
        "331123", town, "妙高街道" if town.endswith("001") else "北界镇", village, "北街社区", grid, area, lon, lat
    )


@pytest.fixture(autouse=True)
def _fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield


@dataclass
class World:
    centre: int
    works: int  # 住建局
    enforcement: int  # 执法局
    water: int
    intake: Person
    shift: Person
    dispatcher: Person
    handler: Person  # 住建局
    handler2: Person  # 执法局
    inspector: Person
    leader: Person
    cat_manhole: int  # C01001 供水井盖
    cat_garbage: int  # M06010 暴露垃圾
    cat_stall: int  # M09006 占道经营


def build_world(db: Database) -> World:
    centre = department(db, "县城市运行管理中心", DepartmentKind.OPS_CENTRE)
    works = department(db, "县住房和城乡建设局")
    enforcement = department(db, "县综合行政执法局")
    water = department(db, "县水利局")
    with db.unit_of_work() as s:
        categories.import_gb_directory(s, actor=FACTORY)
        categories.ensure_default_limits(s)
        manhole = categories.get_by_code(s, kind=CategoryKind.COMPONENT, code="01001")
        garbage = categories.get_by_code(s, kind=CategoryKind.MATTER, code="06010")
        stall = categories.get_by_code(s, kind=CategoryKind.MATTER, code="09006")
        group01 = categories.get_by_code(s, kind=CategoryKind.COMPONENT, code="01")
        assert manhole and garbage and stall and group01
        routing.save_rule(s, actor=FACTORY, category_id=group01.id, department_id=works)
        routing.save_rule(
            s, actor=FACTORY, category_id=garbage.id, department_id=enforcement, co_department_ids=[works]
        )
        routing.save_rule(s, actor=FACTORY, category_id=stall.id, department_id=enforcement)
        ids = manhole.id, garbage.id, stall.id
    return World(
        centre=centre,
        works=works,
        enforcement=enforcement,
        water=water,
        intake=person(db, ["intake"], department_id=centre),
        shift=person(db, ["shift_leader"], department_id=centre),
        dispatcher=person(db, ["dispatcher"], department_id=centre),
        handler=person(db, ["handler"], department_id=works),
        handler2=person(db, ["handler"], department_id=enforcement),
        inspector=person(db, ["inspector"], department_id=centre),
        leader=person(db, ["leader"], department_id=works),
        cat_manhole=ids[0],
        cat_garbage=ids[1],
        cat_stall=ids[2],
    )


BASELINE = Baseline("cases world", lambda db, _built: build_world(db))


@pytest.fixture
def world(db: Database, harness: Harness, cases_world_baseline: Baseline) -> World:
    world: World = harness.value(cases_world_baseline, db=db)
    return world


def actor_of(db: Database, p: Person) -> Actor:
    from countyos.org.service import auth, users

    with db.reading() as s:
        return auth.actor_for(users.get(s, user_id=p.id), "127.0.0.1")


def open311_app(db: Database) -> str:
    """The api_key of a posting app that is also an intake account."""
    return factories.open311_app(db, ["intake"])[1]
