"""The demo's producers load on the demo county: about 80 producers with bases inside their villages,
the demo accounts bound, buyers, certifications with one expired, devices attached and the three rules."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.geo.service import divisions
from countyos.sensing.models import Rule
from countyos.sensing.service import devices
from countyos.village import demo_producers
from countyos.village.models.producers import (
    BUYER_KINDS,
    PRODUCER_KINDS,
    BaseDevice,
    Certification,
    Entity,
    EntityMember,
    ProductionBase,
    Task,
    TaskState,
)
from countyos.village.service import producers
from tests import factories


def test_the_demo_producers(db: Database) -> None:
    farmer = factories.person(db, ["producer"])
    coop = factories.person(db, ["producer"])
    buyer = factories.person(db, ["buyer"])
    actor = Actor(id=None, name="test")
    with db.unit_of_work() as s:
        divisions.bootstrap(s, actor=actor, county_code="331123")
        for key, cls, metric, name in (
            ("greenhouse-01", "greenhouse", "air_temperature", "棚内气温"),
            ("soil-01", "soil", "moisture", "土壤含水量"),
        ):
            devices.register(
                s,
                actor=actor,
                spec=devices.DeviceSpec(
                    device_key=key, name=key, device_class=cls, lon=119.27, lat=28.59,
                    metrics=(devices.MetricSpec(metric, name, "unit", "u"),),
                ),
            )  # fmt: skip
    ctx = SimpleNamespace(notes=[], user_ids={"farmer": farmer.id, "coop": coop.id, "buyer": buyer.id})
    with db.unit_of_work() as s:
        demo_producers.load(s, ctx)
    with db.unit_of_work() as s:
        entities = list(s.scalars(select(Entity)))
        made = [e for e in entities if e.kind in PRODUCER_KINDS]
        assert 75 <= len(made) <= 90
        assert len([e for e in entities if e.kind in BUYER_KINDS]) == 5
        bases = list(s.scalars(select(ProductionBase)))
        assert len(bases) >= len(made)
        assert all(2_000 * 0.7 <= b.area_m2 <= 200_000 * 1.3 for b in bases)
        assert all(b.village_code for b in bases)
        member = {m.user_id: m.entity_id for m in s.scalars(select(EntityMember))}
        farm = s.get(Entity, member[farmer.id])
        assert farm is not None and farm.village_name and farm.village_name.startswith("大田")
        assert s.get(Entity, member[buyer.id]).name == "遂昌县中学食堂"  # type: ignore[union-attr]
        attached = {bd.base_id for bd in s.scalars(select(BaseDevice))}
        farm_bases = {b.id for b in bases if b.entity_id == farm.id}
        assert attached & farm_bases
        certs = list(s.scalars(select(Certification)))
        assert len(certs) >= 10 and sum(producers.is_expired(c) for c in certs) == 1
        assert (s.scalar(select(func.count()).select_from(Rule).where(Rule.name.like("%预警%"))) or 0) >= 3
        tasks = list(s.scalars(select(Task)))
        assert len(tasks) == 1 and tasks[0].entity_id == farm.id and tasks[0].state == TaskState.OPEN
    assert ctx.notes
