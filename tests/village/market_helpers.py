"""A small world for the market tests: two producers with a 基地 each (a near one and a far one from the
canteen), a canteen buyer, a supermarket buyer, a bureau officer, a leader, a batch with its 合格证 for each
producer, and a cold-chain device with its token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.sensing.service import devices
from countyos.sensing.service.devices import DeviceSpec
from countyos.sensing.signals import KINDS
from countyos.village.models.certs import Batch, CertBasis, Certificate
from countyos.village.models.producers import (
    Entity,
    EntityKind,
    EntityMember,
    Facility,
    IdKind,
    ProductionBase,
    SubjectCodeType,
)
from countyos.village.service import market
from tests import factories
from tests.harness import Baseline, Harness

API = "/api/v1/village"
FACTORY = Actor(id=None, name="factory")
CANTEEN = (119.27, 28.59)  # the canteen's delivery place
NEAR = (119.28, 28.60)  # the near farm's 基地 (≈ 1.5 km)
FAR = (119.50, 28.70)  # the far farm's 基地 (≈ 25 km)
DEVICE = "cold-t-01"


@dataclass
class MarketWorld:
    farmer: factories.Person
    grower: factories.Person
    buyer: factories.Person
    shop: factories.Person
    officer: factories.Person
    leader: factories.Person
    near_id: int  # the farmer's family farm
    far_id: int  # the grower's
    canteen_id: int  # the buyer's
    shop_id: int  # the shop's
    near_base: int
    far_base: int
    near_batch: int  # 500 kg of cabbage with certificate HG-NEAR-0001
    far_batch: int  # 300 kg of cabbage with certificate HG-FAR-0001
    device_token: str


def _entity(s: Session, kind: EntityKind, name: str, user_id: int, village: str | None = None) -> int:
    e = Entity(
        kind=kind,
        name=name,
        subject_code_type=SubjectCodeType.OPERATOR,
        id_kind=IdKind.USCC,
        active=True,
        created_by="test",
        village_code=village,
        village_name="大田村" if village else None,
    )
    s.add(e)
    s.flush()
    s.add(EntityMember(entity_id=e.id, user_id=user_id))
    return e.id


def _base(s: Session, entity_id: int, code: str, at: tuple[float, float]) -> int:
    g = box(at[0] - 0.001, at[1] - 0.001, at[0] + 0.001, at[1] + 0.001)
    b = ProductionBase(
        entity_id=entity_id,
        code=code,
        name=f"基地{code}",
        facility=Facility.OPEN_FIELD,
        product_codes=["cabbage"],
        village_code="331123105231",
        village_name="大田村",
        geom=g,
        minx=g.bounds[0],
        miny=g.bounds[1],
        maxx=g.bounds[2],
        maxy=g.bounds[3],
        area_m2=40_000.0,
        active=True,
        created_by="test",
    )
    s.add(b)
    s.flush()
    return b.id


def batch(s: Session, entity_id: int, base_id: int | None, no: str, quantity: float, on: date, cert: str) -> int:
    b = Batch(
        entity_id=entity_id,
        base_id=base_id,
        product_code="cabbage",
        product_class="vegetable",
        quantity=quantity,
        unit="kg",
        harvest_date=on,
        batch_no=no,
        trace_code=f"T{no}",
        trace_views=0,
        created_by="test",
    )
    s.add(b)
    s.flush()
    s.add(
        Certificate(
            number=cert,
            batch_id=b.id,
            issuer_id=entity_id,
            product_code="cabbage",
            product_name="高山白菜",
            product_class="vegetable",
            quantity=quantity,
            unit="kg",
            producer_name="测试",
            origin="大田村",
            promise="不使用禁限用农药兽药",
            basis=CertBasis.CONTROL,
            issued_on=on,
            issued_by="test",
        )
    )
    s.flush()
    return b.id


def build(db: Database) -> MarketWorld:
    farmer = factories.person(db, ["producer"])
    grower = factories.person(db, ["producer"])
    buyer = factories.person(db, ["buyer"])
    shop = factories.person(db, ["buyer"])
    officer = factories.person(db, ["agri_officer"])
    leader = factories.person(db, ["leader"])
    today = utcnow().date()
    with db.unit_of_work() as s:
        near = _entity(s, EntityKind.FAMILY_FARM, "近郊家庭农场", farmer.id, "331123105231")
        far = _entity(s, EntityKind.LARGE_GROWER, "远山种植大户", grower.id)
        canteen = _entity(s, EntityKind.SCHOOL_CANTEEN, "测试中学食堂", buyer.id)
        shop_id = _entity(s, EntityKind.SUPERMARKET, "测试超市", shop.id)
        near_base = _base(s, near, "M-NEAR", NEAR)
        far_base = _base(s, far, "M-FAR", FAR)
        near_batch = batch(s, near, near_base, "NEAR-1", 500.0, today, "HG-NEAR-0001")
        far_batch = batch(s, far, far_base, "FAR-1", 300.0, today, "HG-FAR-0001")
        _, metrics, _ = KINDS["cold_chain"]
        spec = DeviceSpec(DEVICE, "测试冷链车", "cold_chain", 119.27, 28.59, metrics=metrics, expected_interval_s=600)
        thing = devices.register(s, actor=FACTORY, spec=spec)
        _, token = devices.issue_token(s, actor=FACTORY, thing_id=thing.id, name="t")
    return MarketWorld(
        farmer, grower, buyer, shop, officer, leader, near, far, canteen, shop_id, near_base, far_base,
        near_batch, far_batch, token,
    )  # fmt: skip


BASELINE = Baseline("village market: two farms, two buyers, batches and a cold-chain van", lambda db, _b: build(db))


@pytest.fixture(scope="session")
def market_world_baseline() -> Baseline:
    return BASELINE


@pytest.fixture
def world(db: Database, harness: Harness, market_world_baseline: Baseline) -> MarketWorld:
    w: MarketWorld = harness.value(market_world_baseline, db=db)
    return w


def login(client: TestClient, p: factories.Person) -> dict[str, str]:
    return {"X-CSRF-Token": factories.login(client, p)}


def supply(c: Caller, **kw: object) -> dict[str, Any]:
    today = market.today()
    body: dict[str, object] = {
        "product_code": "cabbage",
        "quantity": 400,
        "price": "3.20",
        "period_from": today.isoformat(),
        "period_to": (today + timedelta(days=20)).isoformat(),
    }
    body.update(kw)
    r = c.post(f"{API}/supply", body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def demand(c: Caller, **kw: object) -> dict[str, Any]:
    today = market.today()
    body: dict[str, object] = {
        "product_code": "cabbage",
        "quantity": 200,
        "period_from": today.isoformat(),
        "period_to": (today + timedelta(days=30)).isoformat(),
        "lon": CANTEEN[0],
        "lat": CANTEEN[1],
        "place_name": "测试中学",
        "frequency": "每周一三五",
    }
    body.update(kw)
    r = c.post(f"{API}/demand", body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


class Caller:
    """A signed-in client of one person: ``get``/``post``/``patch`` with the session's CSRF token."""

    def __init__(self, app: object, p: factories.Person) -> None:
        self.client = TestClient(app, base_url="http://testserver")  # type: ignore[arg-type]
        self.headers = login(self.client, p)

    def get(self, url: str, **kw: object) -> Any:
        return self.client.get(url, **kw)  # type: ignore[arg-type]

    def post(self, url: str, json: object = None, **kw: object) -> Any:
        return self.client.post(url, json=json, headers=self.headers, **kw)  # type: ignore[arg-type]

    def patch(self, url: str, json: object = None) -> Any:
        return self.client.patch(url, json=json, headers=self.headers)


def order_from(buyer: Caller, supply_id: int, quantity: float) -> dict[str, Any]:
    r = buyer.post(f"{API}/orders", {"supply_id": supply_id, "quantity": quantity})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out
