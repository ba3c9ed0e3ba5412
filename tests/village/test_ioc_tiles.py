"""The village tiles of the operations view: each number equals the length of its list and a count made
here from the records written, in the period and the township chosen; the list opens each record."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import resolve
from countyos.village.models.certs import Batch, CertBasis, Certificate
from countyos.village.models.market import Order, OrderState, Side
from countyos.village.models.producers import Entity, EntityKind, IdKind, SubjectCodeType
from countyos.village.models.tourism import Crowding, Spot
from tests.factories import login, person

EVERYONE = Actor(id=None, name="test", permissions=frozenset({"case.read_all"}))
TOWN_A, TOWN_B = "331123001", "331123101"


@dataclass
class World:
    now: datetime
    cert_id: int
    spot_id: int


def _entity(s, name: str, village: str, kind: EntityKind = EntityKind.FAMILY_FARM) -> Entity:
    e = Entity(kind=kind, name=name, subject_code_type=SubjectCodeType.OPERATOR, id_kind=IdKind.USCC,
               village_code=village + "201", village_name=name[:2] + "村")  # fmt: skip
    s.add(e)
    s.flush()
    return e


@pytest.fixture
def village_world(db: Database) -> World:
    now = utcnow()
    with db.unit_of_work() as s:
        a, b = _entity(s, "甲家庭农场", TOWN_A), _entity(s, "乙合作社", TOWN_B)
        buyer = _entity(s, "丙中学食堂", TOWN_A, EntityKind.SCHOOL_CANTEEN)
        batches = []
        for n, (e, cls, days) in enumerate([(a, "vegetable", 2), (a, "tea_leaf", 3), (a, "other", 4),
                                            (b, "fruit", 5), (b, "vegetable", 60)]):  # fmt: skip
            bt = Batch(entity_id=e.id, product_code="tomato", product_class=cls, quantity=100.0, unit="kg",
                       harvest_date=(now - timedelta(days=days)).date(), batch_no=f"IOC-{n}",
                       trace_code=f"IOC-TRACE-{n}", created_at=now - timedelta(days=days))  # fmt: skip
            s.add(bt)
            batches.append(bt)
        s.flush()
        certs = []
        # A's vegetables: a current certificate; A's tea: a revoked one (so it still needs one); B's fruit: none
        for bt, revoked in ((batches[0], False), (batches[1], True), (batches[4], False)):
            c = Certificate(number=f"IOC{bt.id:06d}", batch_id=bt.id, issuer_id=bt.entity_id, product_code="tomato",
                            product_name="番茄", product_class=bt.product_class, quantity=100.0, unit="kg",
                            producer_name="x", origin="x", promise="x", basis=CertBasis.CONTROL,
                            issued_on=bt.harvest_date, issued_at=bt.created_at,
                            revoked_at=now if revoked else None)  # fmt: skip
            s.add(c)
            certs.append(c)
        for n, (seller, state, days) in enumerate(
            [
                (a, OrderState.CHECKED, 1),
                (a, OrderState.DELIVERED, 1),
                (b, OrderState.CHECKED, 3),
                (b, OrderState.CHECKED, 45),
            ]
        ):
            s.add(Order(number=f"IOC-O{n}", buyer_id=buyer.id, seller_id=seller.id, placed_by=Side.BUYER,
                        product_code="tomato", quantity=10.0, unit="kg", price=Decimal("5.00"),
                        amount=Decimal("50.00"), state=state, placed_at=now - timedelta(days=days + 1),
                        changed_at=now - timedelta(days=days)))  # fmt: skip
        spots = []
        for name, level in (("甲景区", Crowding.HIGH), ("乙景区", Crowding.NORMAL), ("丙景区", Crowding.WARN)):
            sp = Spot(name=name, capacity_instant=1000, capacity_daily=5000, crowding=level,
                      crowding_at=now - timedelta(minutes=5))  # fmt: skip
            s.add(sp)
            spots.append(sp)
        s.flush()
        return World(now, certs[0].id, spots[0].id)


def _expected(s, measure: str, period: str, town: str | None, now: datetime) -> int:
    """Counted here from the rows, the plain way."""
    scope = resolve(period=period, township=town, now=now)

    def in_town(entity_id: int) -> bool:
        return town is None or (s.get(Entity, entity_id).village_code or "").startswith(town)

    def in_period(at: datetime) -> bool:
        return scope.start <= at < scope.end

    if measure == "certificates":
        return sum(1 for c in s.query(Certificate) if c.revoked_at is None and in_town(c.issuer_id)
                   and in_period(c.issued_at))  # fmt: skip
    if measure == "uncertified":
        current = {c.batch_id for c in s.query(Certificate) if c.revoked_at is None}
        return sum(1 for b in s.query(Batch) if b.product_class != "other" and b.id not in current
                   and in_town(b.entity_id) and in_period(b.created_at))  # fmt: skip
    if measure == "orders_checked":
        return sum(1 for o in s.query(Order) if o.state == OrderState.CHECKED and in_town(o.seller_id)
                   and in_period(o.changed_at))  # fmt: skip
    return 0 if town else sum(1 for sp in s.query(Spot) if sp.active and sp.crowding != Crowding.NORMAL)


def test_each_tile_counts_its_records(db, village_world):
    now = village_world.now
    with db.reading() as s:
        seen = set()
        for period in ("30d", "year"):
            for town in (None, TOWN_A, TOWN_B):
                scope = resolve(period=period, township=town, now=now)
                for measure in ("certificates", "uncertified", "orders_checked", "spots_crowded"):
                    got = ind.count(s, actor=EVERYONE, source="village", measure=measure, scope=scope, now=now)
                    rows = ind.records(s, actor=EVERYONE, source="village", measure=measure, scope=scope, now=now,
                                       limit=1000)  # fmt: skip
                    assert got == len(rows) == _expected(s, measure, period, town, now), (period, town, measure)
                    seen.add((period, town, measure, got))
        # the world is such that the figures differ by period and township (the test can fail)
        assert ("30d", TOWN_A, "orders_checked", 1) in seen and ("year", TOWN_B, "orders_checked", 2) in seen
        assert ("30d", None, "uncertified", 2) in seen and ("30d", None, "spots_crowded", 2) in seen
        cat_scope = replace(resolve(period="30d", now=now), category_id=1)
        assert ind.count(s, actor=EVERYONE, source="village", measure="certificates", scope=cat_scope, now=now) == 0


def test_the_list_opens_each_record(client, db, village_world):
    login(client, person(db, ["leader"]))
    page = client.get("/ioc/list", params={"source": "village", "measure": "certificates", "period": "30d"})
    assert page.status_code == 200 and f'href="/village/certificates/{village_world.cert_id}"' in page.text
    spots = client.get("/ioc/list", params={"source": "village", "measure": "spots_crowded", "period": "30d"})
    assert spots.status_code == 200 and f'href="/village/tourism/spots/{village_world.spot_id}"' in spots.text
    assert "甲景区" in spots.text
    view = client.get("/ioc")
    assert view.status_code == 200 and "source=village" in view.text  # the tiles link to their lists
