"""ESV by the equivalent-factor method: the hand-computed example of the domain README, exactly; the
table as data; the unit value by CPI and by grain output value; refusals."""

from __future__ import annotations

import pytest

from countyos.core.errors import ValidationFailed
from countyos.eco.models.assets import PriceMethod
from countyos.eco.service import esv, landuse_read

# The README's example: 100 ha 水田, 1 000 ha 阔叶, 10 ha 水系 at the standard equivalent (2010 prices).
AREAS = {"paddy": 100.0, "broadleaf": 1000.0, "water": 10.0}


def test_the_hand_computed_example() -> None:
    unit = esv.unit_value()
    assert unit.value == 3406.5 and unit.year == 2010 and unit.method == PriceMethod.STANDARD
    acc = esv.account(AREAS, unit)
    # Σ_j F: 水田 3.89, 阔叶 22.95, 水系 125.61 equivalents per ha
    assert round(acc.by_class["paddy"], 2) == 1_325_128.50  # 100 × 3.89 × 3406.5
    assert round(acc.by_class["broadleaf"], 2) == 78_179_175.00  # 1000 × 22.95 × 3406.5
    assert round(acc.by_class["water"], 2) == 4_278_904.65  # 10 × 125.61 × 3406.5
    assert round(acc.total, 2) == 83_783_208.15
    # one service: 水文调节 = (100 × 2.72 + 1000 × 4.74 + 10 × 102.24) × 3406.5 = 6034.4 × 3406.5
    assert round(acc.by_service["hydrology"], 2) == 20_556_183.60
    # 水资源供给 of 水田 is negative: 100 × −2.63 × 3406.5
    assert round(acc.by_class_service["paddy"]["water_supply"], 2) == -895_909.50
    assert round(sum(acc.by_service.values()), 2) == round(acc.total, 2)
    out = acc.as_dict()
    assert out["total_yi_yuan"] == pytest.approx(0.837832, abs=1e-6)


def test_the_example_at_2020_prices_by_cpi() -> None:
    unit = esv.unit_value(year=2020)
    assert unit.method == PriceMethod.CPI
    index = 100.0
    for yoy in (105.4, 102.6, 102.6, 102.0, 101.4, 102.0, 101.6, 102.1, 102.9, 102.5):  # 2011…2020
        index *= yoy / 100
    assert unit.detail["cpi"] == pytest.approx(index, abs=1e-4)
    assert unit.value == pytest.approx(3406.5 * index / 100, rel=1e-12)
    acc = esv.account(AREAS, unit)
    assert acc.total == pytest.approx(83_783_208.15 * index / 100, rel=1e-9)


def test_the_grain_method_is_a_seventh_of_the_grain_output_value() -> None:
    unit = esv.unit_value(year=2021, method="grain")
    assert unit.value == pytest.approx(5805.0 * 2.65 / 7, rel=1e-12)
    assert unit.detail["formula"] == "yield × price / 7" and unit.detail["source"]


def test_the_table_is_the_data_file_with_its_checks() -> None:
    t = esv.table()
    assert set(t.factors) == set(landuse_read.classes())
    assert sum(t.factors["water"].values()) == pytest.approx(125.61)
    assert all(v == 0 for v in t.factors["built"].values())
    assert t.verification["conifer"].startswith("M") and t.verification["paddy"].startswith("V")
    assert len(esv.SERVICES) == 11


def test_built_land_has_no_value_and_unknown_classes_are_refused() -> None:
    assert esv.account({"built": 500.0}, esv.unit_value()).total == 0
    with pytest.raises(ValidationFailed):
        esv.account({"forest": 1.0}, esv.unit_value())


def test_a_year_without_prices_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        esv.unit_value(year=2099)
    with pytest.raises(ValidationFailed):
        esv.unit_value(year=2012, method="grain")


def test_the_public_calculator(client) -> None:
    r = client.post("/api/v1/eco/assets/esv/compute", json={"areas": AREAS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_yuan"] == 83_783_208.15
    assert body["esv_by_class"]["broadleaf"] == 78_179_175.0
    assert body["unit_value"]["value"] == 3406.5
    r = client.post("/api/v1/eco/assets/esv/compute", json={"areas": AREAS, "year": 2020, "method": "cpi"})
    assert r.status_code == 200 and r.json()["unit_value"]["year"] == 2020


def test_the_calculator_is_bounded(client) -> None:
    too_many = {f"c{i}": 1.0 for i in range(21)}
    assert client.post("/api/v1/eco/assets/esv/compute", json={"areas": too_many}).status_code == 422
    assert client.post("/api/v1/eco/assets/esv/compute", json={"areas": {"paddy": 2e9}}).status_code == 422
    assert client.post("/api/v1/eco/assets/esv/compute", json={"areas": {"paddy": -1}}).status_code == 422
    assert client.post("/api/v1/eco/assets/esv/compute", json={"areas": {}}).status_code == 422
    assert client.post("/api/v1/eco/assets/esv/compute", json={"areas": {"forest": 1}}).status_code == 422
