"""A small world for the farming tests: a family farm with a greenhouse (vegetables) and a pig pen, another
producer with its own base, a producer person for each and a bureau officer; the starter inputs loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.domains import all_grants
from countyos.village.models.farming import FarmInput
from countyos.village.models.producers import (
    Entity,
    EntityKind,
    EntityMember,
    Facility,
    IdKind,
    ProductionBase,
    SubjectCodeType,
)
from countyos.village.schemas.farming import RecordIn
from countyos.village.service import farming_inputs
from countyos.village.service import farming_records as records
from tests import factories
from tests.harness import Baseline, Harness


@dataclass
class FarmWorld:
    farmer: factories.Person
    other: factories.Person
    officer: factories.Person
    farm_id: int
    other_farm_id: int
    greenhouse_id: int  # tomato, pepper, cabbage
    field_id: int  # same farm, tomato: another base
    pen_id: int  # pigs
    other_base_id: int  # the other producer's tomatoes
    inputs: dict[str, int]  # code -> id


def _entity(s: Session, name: str, user_id: int) -> int:
    e = Entity(
        kind=EntityKind.FAMILY_FARM,
        name=name,
        subject_code_type=SubjectCodeType.OPERATOR,
        id_kind=IdKind.USCC,
        active=True,
        created_by="test",
    )
    s.add(e)
    s.flush()
    s.add(EntityMember(entity_id=e.id, user_id=user_id))
    return e.id


def _base(s: Session, entity_id: int, code: str, products: list[str], facility: Facility, dx: float) -> int:
    g = box(119.0 + dx, 28.5, 119.001 + dx, 28.501)
    b = ProductionBase(
        entity_id=entity_id,
        code=code,
        name=f"测试基地{code}",
        facility=facility,
        product_codes=products,
        geom=g,
        minx=g.bounds[0],
        miny=g.bounds[1],
        maxx=g.bounds[2],
        maxy=g.bounds[3],
        area_m2=10_000.0,
        active=True,
        created_by="test",
    )
    s.add(b)
    s.flush()
    return b.id


def build(db: Database) -> FarmWorld:
    farmer = factories.person(db, ["producer"])
    other = factories.person(db, ["producer"])
    officer = factories.person(db, ["agri_officer"])
    with db.unit_of_work() as s:
        farming_inputs.ensure_starter(s)
        farm = _entity(s, "测试家庭农场", farmer.id)
        other_farm = _entity(s, "测试合作社", other.id)
        gh = _base(s, farm, "T-GH", ["tomato", "pepper", "cabbage"], Facility.GREENHOUSE, 0.0)
        fd = _base(s, farm, "T-FD", ["tomato"], Facility.OPEN_FIELD, 0.01)
        pen = _base(s, farm, "T-PEN", ["pig"], Facility.PEN, 0.02)
        ob = _base(s, other_farm, "T-OB", ["tomato"], Facility.GREENHOUSE, 0.03)
        ids = {c: i for c, i in s.execute(select(FarmInput.code, FarmInput.id))}
    return FarmWorld(farmer, other, officer, farm, other_farm, gh, fd, pen, ob, ids)


BASELINE = Baseline("village farming: a family farm with bases", lambda db, _built: build(db))


@pytest.fixture(scope="session")
def farming_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, farming_world_baseline: Baseline) -> FarmWorld:
    w: FarmWorld = harness.value(farming_world_baseline, db=db)
    return w


def actor(p: factories.Person, role: str = "producer") -> Actor:
    return Actor(id=p.id, name=p.username, permissions=frozenset(all_grants().get(role, [])))


def record(s: Session, who: Actor, **values: Any) -> int:
    body = RecordIn.model_validate(values)
    return records.create_record(s, actor=who, body=body).id


def days_ago(n: int) -> date:
    from datetime import timedelta

    return records.today() - timedelta(days=n)
