"""The resources pages: the map overview, a kind's list with phones masked, a refused form with each
message beside its field, an import refused whole, a record with stock, the nearest page."""

from __future__ import annotations

from countyos.safety.schemas.resources import ExpertIn, ShelterIn, StockIn, WarehouseIn
from countyos.safety.service import resources_registry as registry
from tests.factories import csrf_from, login, person
from tests.safety.plans_helpers import KEEPER


def test_resource_pages(db, client):
    with db.unit_of_work() as s:
        w = registry.save_warehouse(
            s, actor=KEEPER, data=WarehouseIn(name="县仓库", lon=119.27, lat=28.59, phone="13800001111")
        )
        registry.add_stock(s, actor=KEEPER, warehouse_id=w.id, data=StockIn(material="sandbag", quantity=5000))
        registry.save_shelter(s, actor=KEEPER, data=ShelterIn(name="妙高小学", lon=119.28, lat=28.6, capacity=800))
        e = registry.save_expert(s, actor=KEEPER, data=ExpertIn(name="王工", field="水利", phone="13812345678"))
        wid, eid = w.id, e.id
    login(client, person(db, ["emergency_officer"]))
    over = client.get("/safety/resources")
    assert over.status_code == 200 and 'class="sp-map"' in over.text and "妙高小学" in over.text
    experts = client.get("/safety/resources/expert")
    assert experts.status_code == 200 and "138****5678" in experts.text and "13812345678" not in experts.text
    csrf = csrf_from(experts.text)
    bad = client.post(
        "/safety/resources/shelter", data={"csrf_token": csrf, "name": "坏", "lon": "999", "lat": "28", "capacity": "x"}
    )
    assert bad.status_code == 422 and 'id="error-lon"' in bad.text and 'id="error-capacity"' in bad.text
    rows = "名称,经度,纬度,容纳人数\n好学校,119.2,28.5,100\n坏学校,119.2,28.5,abc\n"
    imp = client.post(
        "/safety/resources/shelter/import",
        data={"csrf_token": csrf},
        files={"file": ("s.csv", rows.encode(), "text/csv")},
    )
    assert imp.status_code == 422 and 'id="error-file"' in imp.text
    assert "好学校" not in client.get("/safety/resources/shelter").text
    rec = client.get(f"/safety/resources/warehouse/{wid}")
    assert rec.status_code == 200 and "沙袋" in rec.text and "138****1111" in rec.text
    shown = client.post(f"/safety/resources/expert/{eid}/phone", data={"csrf_token": csrf})
    assert shown.status_code == 200 and "13812345678" in shown.text
    near = client.get("/safety/resources/nearest", params={"lon": 119.27, "lat": 28.59})
    assert near.status_code == 200 and "县仓库" in near.text
    assert client.get("/safety/resources/nearest").status_code == 200
