"""Each GEP formula on a hand-computed example (2010 prices: the price factor is 1)."""

from __future__ import annotations

import math

import pytest

from countyos.eco.service import gep_parameters
from countyos.eco.service.gep_formulas import FORMULAS, ITEMS
from tests.eco.test_gep_support import inputs, params, row

FOREST = row(1, "area", 1000.0, "broadleaf")
PADDY = row(2, "area", 100.0, "paddy")
WATER = row(3, "area", 50.0, "water")
WETLAND = row(4, "area", 10.0, "wetland")


def test_every_item_names_a_registered_formula() -> None:
    assert {i.formula for i in ITEMS} <= set(FORMULAS)
    assert len({i.code for i in ITEMS}) == len(ITEMS)


def test_price_factor_raises_2010_prices_by_the_index() -> None:
    pset = gep_parameters.load("v1")
    assert pset.price_factor(2010) == 1.0
    assert pset.price_factor(2025) == pytest.approx(132.3 / 100.0)
    p = gep_parameters.Params(pset, pset.price_factor(2025))
    assert p.price("price_reservoir") == pytest.approx(7.06 * 1.323)
    assert p.value("sediment_share") == 0.24  # not a price: never indexed
    assert p.used["price_reservoir"]["version"] == "v1" and p.used["price_reservoir"]["source"]


def test_market_value_is_the_output_value() -> None:
    out = FORMULAS["market_value"](inputs(row(1, "output_agriculture", 5000.0)), params(), "output_agriculture")
    assert (out.quantity, out.unit, out.value) == (5000.0, "万元", 50_000_000.0)


def test_hydropower_and_water_supply() -> None:
    out = FORMULAS["hydropower"](inputs(row(1, "hydropower", 1000.0)), params())
    assert out.value == pytest.approx(10_000_000 * 0.53)  # 1000 万kWh × 0.53 元/kWh
    x = inputs(row(1, "water_domestic", 100.0), row(2, "water_industrial", 50.0), row(3, "water_agricultural", 400.0))
    out = FORMULAS["water_supply"](x, params())
    # 1 000 000 m³ × 2.6 + 500 000 × 3.6 + 4 000 000 × 0.07 = 2 600 000 + 1 800 000 + 280 000
    assert out.quantity == 550.0 and out.value == pytest.approx(4_680_000.0)


def test_water_conservation_by_water_balance() -> None:
    x = inputs(
        FOREST,
        PADDY,
        WATER,
        row(5, "precipitation", 1600.0),
        row(6, "runoff_coefficient", 0.05, "broadleaf"),
        row(7, "runoff_coefficient", 0.3, "paddy"),
        row(8, "evapotranspiration", 800.0, "broadleaf"),
        row(9, "evapotranspiration", 700.0, "paddy"),
    )
    out = FORMULAS["water_balance"](x, params())
    # broadleaf (1600 − 80 − 800) mm × 10 m³/(mm·hm²) × 1000 hm² = 7 200 000 m³
    # paddy     (1600 − 480 − 700) mm × 10 × 100 hm² = 420 000 m³; water bodies are not counted
    assert out.quantity == pytest.approx(762.0)
    assert out.value == pytest.approx(7_620_000 * 7.06)
    assert x.used == {1, 2, 5, 6, 7, 8, 9}


def test_water_balance_counts_a_negative_balance_as_zero_and_reports_missing_inputs() -> None:
    x = inputs(
        FOREST,
        row(5, "precipitation", 600.0),
        row(6, "runoff_coefficient", 0.1, "broadleaf"),
        row(8, "evapotranspiration", 800.0, "broadleaf"),
    )
    out = FORMULAS["water_balance"](x, params())
    assert out.value == 0.0 and not x.missing  # 600 − 60 − 800 < 0
    x = inputs(
        FOREST,
        PADDY,
        row(5, "precipitation", 600.0),
        row(6, "runoff_coefficient", 0.1, "broadleaf"),
        row(8, "evapotranspiration", 800.0, "broadleaf"),
    )
    FORMULAS["water_balance"](x, params())
    assert sorted(x.missing) == ["evapotranspiration:paddy", "runoff_coefficient:paddy"]


def test_soil_retention_by_rusle() -> None:
    x = inputs(
        FOREST,
        PADDY,
        row(5, "rusle_r", 5000.0),
        row(6, "rusle_k", 0.03),
        row(7, "rusle_ls", 5.0),
        row(8, "rusle_p", 1.0),
        row(9, "rusle_c", 0.01, "broadleaf"),
        row(10, "rusle_c", 0.2, "paddy"),
    )
    out = FORMULAS["soil_retention_rusle"](x, params())
    # potential R·K·LS = 750 t/hm²; broadleaf 750 × (1 − 0.01) × 1000 = 742 500 t; paddy 750 × 0.8 × 100 = 60 000 t
    soil = 802_500.0
    assert out.quantity == pytest.approx(soil / 10_000)
    sediment = 0.24 * soil / 0.93 * 15.58  # 3 226 567.74
    nutrients = soil * 0.0037 * 875 + soil * 0.00108 * 2800  # 2 598 093.75 + 2 426 760
    assert out.value == pytest.approx(sediment + nutrients)
    assert out.value == pytest.approx(8_251_421.49, abs=0.01)


def test_flood_storage_of_reservoirs_lakes_and_marshes() -> None:
    x = inputs(WETLAND, row(5, "reservoir_capacity", 1000.0), row(6, "lake_area", 2.0))
    out = FORMULAS["flood_storage"](x, params())
    reservoirs = 0.35 * 10_000_000  # 3 500 000 m³
    lakes = math.exp(6.636) * 2.0**0.678 * 10_000  # the model's result in 万 m³
    marsh = 0.3 * 100_000  # 0.3 m over 10 hm²
    assert out.quantity == pytest.approx((reservoirs + lakes + marsh) / 10_000)
    assert out.value == pytest.approx((reservoirs + lakes + marsh) * 7.06)


def test_purification_is_bounded_by_emissions() -> None:
    x = inputs(
        FOREST, WATER, row(5, "emission_so2", 50.0), row(6, "emission_nox", 100.0), row(7, "emission_dust", 500.0)
    )
    out = FORMULAS["purification"](x, params(), "air")
    # SO2: min(88.65 kg × 1000 hm² = 88.65 t, 50 t) = 50 t; NOx: min(6 t, 100 t) = 6 t; dust: min(10 110 t, 500 t)
    assert out.quantity == pytest.approx(556.0)
    assert out.value == pytest.approx(50 * 1200 + 6 * 630 + 500 * 150)
    assert 3 not in x.used  # water bodies do not take up air pollutants
    x = inputs(WETLAND, WATER, row(5, "emission_cod", 1000.0), row(6, "emission_nh3n", 1.0))
    out = FORMULAS["purification"](x, params(), "water")
    # COD: min(1.5 × 10 + 0.5 × 50 = 40 t, 1000 t) = 40 t; NH3-N: min(0.2 × 10 + 0.05 × 50 = 4.5 t, 1 t) = 1 t
    assert out.quantity == pytest.approx(41.0)
    assert out.value == pytest.approx(40 * 700 + 1 * 875)


def test_carbon_and_oxygen_from_npp() -> None:
    x = inputs(FOREST, PADDY, row(5, "npp", 10.0, "broadleaf"), row(6, "npp", 8.0, "paddy"))
    dry_matter = 10.0 * 1000 + 8.0 * 100  # 10 800 t
    out = FORMULAS["carbon_from_npp"](x, params())
    assert out.quantity == pytest.approx(1.63 * dry_matter / 10_000)
    assert out.value == pytest.approx(1.63 * dry_matter * 0.2727 * 1200)
    out = FORMULAS["oxygen_from_npp"](x, params())
    assert out.value == pytest.approx(1.19 * dry_matter * 1000)


def test_climate_regulation_by_transpiration_and_evaporation() -> None:
    x = inputs(FOREST, WATER, row(5, "cooling_days", 30.0), row(6, "water_evaporation", 120.0))
    out = FORMULAS["climate_regulation"](x, params())
    plants = 2837.27 * 1000 * 10_000 * 30 / (3600 * 3.0)  # 78 813 055.6 kWh
    evaporated = 0.12 * 50 * 10_000  # 60 000 m³
    water = evaporated * 1000 * 2260 / 3600 + evaporated * 125  # 37 666 666.7 + 7 500 000 kWh
    assert out.quantity == pytest.approx((plants + water) / 10_000)
    assert out.value == pytest.approx((plants + water) * 0.53)
    assert out.value == pytest.approx(65_709_252.78, abs=0.01)


def test_tourism_by_travel_cost_and_the_switchable_items() -> None:
    out = FORMULAS["travel_cost"](inputs(row(1, "tourists", 100.0), row(2, "tourist_spending", 800.0)), params())
    assert (out.quantity, out.value) == (100.0, 800_000_000.0)
    out = FORMULAS["sand_fixation"](inputs(row(1, "wind_erosion_prevented", 1280.0)), params())
    assert out.value == pytest.approx(1280 / (1.28 * 0.1) * 3.75)  # 10 000 m² × 3.75 元/m²
    assert FORMULAS["not_applicable"](inputs(), params()).value == 0.0
