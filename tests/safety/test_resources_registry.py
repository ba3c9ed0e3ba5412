"""The resources registry: imports are all or nothing with each bad row named; phones are masked in
lists and an unmasked view is for keepers and audited; stock lines flag expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.core.errors import PermissionDenied, ValidationFailed
from countyos.org.models import AuditEvent
from countyos.safety.models.resources import Expert, Shelter
from countyos.safety.schemas.resources import ExpertIn, StockIn, WarehouseIn
from countyos.safety.service import resources_registry as registry
from tests.safety.plans_helpers import KEEPER

SHELTERS = (
    "名称,经度,纬度,地址,容纳人数,面积,设施,乡镇\n"
    "妙高小学,119.27,28.59,解放街1号,800,5000,水电厕所,妙高街道\n"
    "云峰中学,119.30,28.60,,1200,,,云峰街道\n"
)


def test_import_all_or_nothing(db):
    bad = SHELTERS + "坏行,999,28.6,,abc,,,\n"
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as caught:
            registry.import_file(s, actor=KEEPER, kind="shelter", data=bad.encode(), filename="s.csv")
        assert {(e["row"], e["field"]) for e in caught.value.errors} == {(4, "经度"), (4, "容纳人数")}
        assert s.scalar(select(func.count()).select_from(Shelter)) == 0
        assert registry.import_file(s, actor=KEEPER, kind="shelter", data=SHELTERS.encode(), filename="s.csv") == 2
        assert {x.name: x.capacity for x in registry.list_shelters(s)} == {"妙高小学": 800, "云峰中学": 1200}
        again = SHELTERS.replace("800", "900")
        assert registry.import_file(s, actor=KEEPER, kind="shelter", data=again.encode(), filename="s.csv") == 2
        assert s.scalar(select(Shelter.capacity).where(Shelter.name == "妙高小学")) == 900


def test_expert_phones_masked_and_reveal_audited(db, client):
    with db.unit_of_work() as s:
        e = registry.save_expert(s, actor=KEEPER, data=ExpertIn(name="王工", field="水利", phone="13812345678"))
        eid = e.id
        assert registry.masked(e.phone_enc) == "138****5678"
        assert "13812345678" not in (e.phone_enc or "")
        reader = Actor(id=None, name="reader", permissions=frozenset({"safety.emergency.read"}))
        with pytest.raises(PermissionDenied):
            registry.reveal_phone(s, actor=reader, kind="expert", record_id=eid)
        before = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "safety.resources.phone")
        )
        assert registry.reveal_phone(s, actor=KEEPER, kind="expert", record_id=eid) == "13812345678"
        after = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "safety.resources.phone")
        )
        assert after == before + 1
    from tests.factories import login, person

    login(client, person(db, ["dispatcher"]))
    listed = client.get("/api/v1/safety/resources/expert")
    assert listed.status_code == 200
    assert listed.json()[0]["phone"] == "138****5678" and "13812345678" not in listed.text
    assert client.get(f"/api/v1/safety/resources/expert/{eid}/phone").status_code == 403


def test_import_experts_xlsx_and_stock_expiry(db):
    from countyos.core import tabular

    data = tabular.to_xlsx(["姓名", "专业领域", "单位", "电话"], [["李工", "地质", "县自然资源局", "13900001111"]])
    with db.unit_of_work() as s:
        assert registry.import_file(s, actor=KEEPER, kind="expert", data=data, filename="e.xlsx") == 1
        assert s.scalar(select(Expert.field).where(Expert.name == "李工")) == "地质"
        w = registry.save_warehouse(s, actor=KEEPER, data=WarehouseIn(name="县仓库", lon=119.27, lat=28.59))
        today = county_today()
        old = registry.add_stock(
            s,
            actor=KEEPER,
            warehouse_id=w.id,
            data=StockIn(material="water", quantity=100, expires_on=today - timedelta(days=1)),
        )
        soon = registry.add_stock(
            s,
            actor=KEEPER,
            warehouse_id=w.id,
            data=StockIn(material="medicine", quantity=5, expires_on=today + timedelta(days=10)),
        )
        fine = registry.add_stock(s, actor=KEEPER, warehouse_id=w.id, data=StockIn(material="sandbag", quantity=5000))
        assert [registry.expiry_state(x) for x in (old, soon, fine)] == ["expired", "expiring", ""]
        assert registry.stock_summary(s)[w.id] == {"lines": 3, "expired": 1, "expiring": 1}
        with pytest.raises(ValidationFailed):
            registry.add_stock(s, actor=KEEPER, warehouse_id=w.id, data=StockIn(material="unicorn", quantity=1))
