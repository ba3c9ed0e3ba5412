"""A small world for the producers tests: 遂昌县's divisions, a bureau officer, two producers each acting for
a family farm, a leader; helpers making valid 统一社会信用代码 and 身份证号."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.idnumbers import resident_check_char
from countyos.geo.service import divisions
from countyos.org.service import uscc
from countyos.village.models.producers import EntityKind, Facility, IdKind
from countyos.village.permissions import AGRI_MANAGE
from countyos.village.schemas.producers import BaseIn, EntityIn
from countyos.village.service import producers, producers_bases
from tests import factories
from tests.harness import Baseline

BUREAU = Actor(id=None, name="bureau", permissions=frozenset({AGRI_MANAGE}))
VILLAGE = "331123105231"  # 大柘镇 大田村


def make_uscc(body: str) -> str:
    """A valid code from 17 characters."""
    return body + uscc.check_char(body)


def make_id(first17: str) -> str:
    return first17 + resident_check_char(first17)


def square(lon: float, lat: float, side_deg: float = 0.002) -> Polygon:
    return Polygon(
        [(lon, lat), (lon + side_deg, lat), (lon + side_deg, lat + side_deg), (lon, lat + side_deg), (lon, lat)]
    )


@dataclass
class ProducerWorld:
    lon: float  # a point inside 大田村
    lat: float
    officer: factories.Person
    farmer: factories.Person
    other: factories.Person
    leader: factories.Person
    farm_id: int  # 叶家家庭农场, the farmer's
    other_id: int  # the other producer's
    base_id: int  # the farm's greenhouse


def entity_in(**kw: Any) -> EntityIn:
    data: dict[str, Any] = {
        "kind": EntityKind.FAMILY_FARM,
        "name": "测试家庭农场",
        "id_kind": IdKind.USCC,
        "uscc": make_uscc("92331123MA2E00001"),
        "village_code": VILLAGE,
        "phone": "13912345678",
    }
    data.update(kw)
    return EntityIn(**data)


def build(db: Database) -> ProducerWorld:
    from tests.geo.conftest import make_county

    make_county(db, cell_m=None)
    officer = factories.person(db, ["agri_officer"])
    farmer = factories.person(db, ["producer"])
    other = factories.person(db, ["producer"])
    leader = factories.person(db, ["leader"])
    with db.unit_of_work() as s:
        village = divisions.get_by_code(s, code=VILLAGE)
        p = village.geom.representative_point()
        lon, lat = float(p.x), float(p.y)
        farm = producers.create_entity(
            s, actor=BUREAU, body=entity_in(name="叶家家庭农场", uscc=make_uscc("92331123MA2E0000A"))
        )
        rival = producers.create_entity(
            s,
            actor=BUREAU,
            body=entity_in(
                name="王家农户",
                kind=EntityKind.FARMER,
                id_kind=IdKind.RESIDENT,
                uscc=None,
                id_number=make_id("33112319750315201"),
                phone="13800001111",
            ),
        )
        producers.add_member(s, actor=BUREAU, entity_id=farm.id, user_id=farmer.id)
        producers.add_member(s, actor=BUREAU, entity_id=rival.id, user_id=other.id)
        base = producers_bases.create_base(
            s,
            actor=BUREAU,
            body=BaseIn(
                entity_id=farm.id,
                name="大田村1号大棚",
                facility=Facility.GREENHOUSE,
                product_codes=[],
                geometry=square(lon - 0.0005, lat - 0.0005, 0.001).__geo_interface__,
            ),
        )
        return ProducerWorld(lon, lat, officer, farmer, other, leader, farm.id, rival.id, base.id)


BASELINE = Baseline("village producers: 遂昌县 with two farms", lambda db, _built: build(db))
