"""Fixtures of the inspections tests: the fake two-township county of the cases tests, the case time limits,
an inspector, a keeper of key places, a place and the packaged checklists loaded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from countyos.cases.service import categories, location
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.safety.permissions import INSPECT, INSPECT_MANAGE
from countyos.safety.schemas.inspections import AnswerIn, InspectionIn, PlaceIn
from countyos.safety.service import inspections as places
from countyos.safety.service import inspections_checklists as checklists
from tests.cases.conftest import fake_locate
from tests.factories import FACTORY, Person, person

LON, LAT = 119.2712, 28.5934  # 妙高街道 in the fake county, grid …027
PHONE = "13905781234"
KEEPER = Actor(id=None, name="keeper", permissions=frozenset({INSPECT_MANAGE, INSPECT}))


@dataclass
class World:
    inspector: Person
    keeper: Person
    place_id: int

    def actor(self) -> Actor:
        return Actor(id=self.inspector.id, name=self.inspector.username, permissions=frozenset({INSPECT}))


@pytest.fixture
def fake_geo() -> Iterator[None]:
    with location.using(fake_locate):
        yield


def small_shop(**changes: object) -> PlaceIn:
    values: dict[str, object] = {
        "name": "阿芳小吃店",
        "kind": "small_restaurant",
        "address": "妙高街道北街 12 号",
        "lon": LON,
        "lat": LAT,
        "responsible_name": "周阿芳",
        "responsible_phone": PHONE,
        "safety_manager": "周建国",
        "grade": "B",
    }
    values.update(changes)
    return PlaceIn.model_validate(values)


@pytest.fixture
def iw(db: Database, fake_geo: None) -> World:
    inspector = person(db, ["safety_inspector"])
    keeper = person(db, ["emergency_officer"])
    with db.unit_of_work() as s:
        categories.ensure_default_limits(s)
        checklists.load_packaged(s, actor=FACTORY)
        place = places.create(s, actor=KEEPER, data=small_shop())
        return World(inspector, keeper, place.id)


def answers(codes: list[str], failed: dict[str, str]) -> list[AnswerIn]:
    return [AnswerIn(code=c, outcome="fail" if c in failed else "pass", note=failed.get(c, "")) for c in codes]


def small_codes() -> list[str]:
    spec = next(c for c in checklists.packaged()["checklists"] if c["code"] == "SMALL")
    return [i["code"] for i in spec["items"]]


def inspection(place_id: int, failed: dict[str, str]) -> InspectionIn:
    return InspectionIn(place_id=place_id, answers=answers(small_codes(), failed))


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
