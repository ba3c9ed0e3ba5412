"""The small county of the notice tests: 遂昌县's divisions, publishing departments at three levels,
their publishers; built once per run as a committed baseline (``tests/portal/conftest.py`` imports
the fixtures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.geo.service import divisions
from countyos.org.models import DepartmentKind
from countyos.org.service import departments
from tests.factories import Person, person
from tests.harness import Baseline, Harness

ACTOR = Actor(id=None, name="factory")


@dataclass
class NoticesWorld:
    county: str
    town: str  # a township with two villages
    village: str  # in ``town``
    village2: str  # in ``town`` too
    other_town: str
    other_village: str  # in ``other_town``
    names: dict[str, str]
    county_dep: int  # a county department without a division: publishes for the whole county
    town_dep: int
    village_dep: int
    county_publisher: Person
    town_publisher: Person
    village_publisher: Person
    other_village_publisher: Person


def build(db: Database, _built: dict[str, Any]) -> NoticesWorld:
    with db.unit_of_work() as s:
        county = divisions.bootstrap(s, actor=ACTOR, county_code="331123").county_code
        towns = [
            t for t in divisions.children(s, parent_code=county) if len(divisions.children(s, parent_code=t.code)) >= 2
        ]
        town, other_town = towns[0], towns[1]
        village, village2 = divisions.children(s, parent_code=town.code)[:2]
        other_village = divisions.children(s, parent_code=other_town.code)[0]
        names = {d.code: d.name for d in (town, other_town, village, village2, other_village)}
        deps = {}
        for key, name, kind, code in (
            ("county", "县应急管理局", DepartmentKind.DEPARTMENT, None),
            ("town", f"{town.name}人民政府", DepartmentKind.TOWNSHIP, town.code),
            ("village", f"{village.name}村民委员会", DepartmentKind.VILLAGE, village.code),
            ("other", f"{other_village.name}村民委员会", DepartmentKind.VILLAGE, other_village.code),
        ):
            deps[key] = departments.create(s, actor=ACTOR, name=name, kind=kind, division_code=code).id
    return NoticesWorld(
        county=county,
        town=town.code,
        village=village.code,
        village2=village2.code,
        other_town=other_town.code,
        other_village=other_village.code,
        names=names,
        county_dep=deps["county"],
        town_dep=deps["town"],
        village_dep=deps["village"],
        county_publisher=person(db, ["notice_publisher"], department_id=deps["county"]),
        town_publisher=person(db, ["notice_publisher"], department_id=deps["town"]),
        village_publisher=person(db, ["notice_publisher"], department_id=deps["village"]),
        other_village_publisher=person(db, ["notice_publisher"], department_id=deps["other"]),
    )


@pytest.fixture(scope="session")
def notices_world_baseline() -> Baseline:
    return Baseline("portal: 遂昌县 with notice publishers", build)


@pytest.fixture
def notices_world(db: Database, harness: Harness, notices_world_baseline: Baseline) -> NoticesWorld:
    world: NoticesWorld = harness.value(notices_world_baseline, db=db)
    return world


def actor_of(db: Database, p: Person) -> Actor:
    """The publisher as services see them (permissions and department from the database)."""
    from countyos.org.models import User

    with db.unit_of_work() as s:
        u = s.get_one(User, p.id)
        return Actor(
            id=u.id, name=u.display_name, permissions=frozenset(u.permission_codes), department_id=u.department_id
        )
