"""Shared pieces of the GEP tests: input rows built without a database, and a small county's inputs."""

from __future__ import annotations

from countyos.core.actor import Actor
from countyos.eco.models.gep import GepInput, InputSource
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.service import gep_inputs, gep_parameters

ACCOUNTANT = Actor(id=None, name="accountant", permissions=frozenset({ACCOUNTS_READ, ACCOUNTS_MANAGE}))


def row(id_: int, code: str, value: float, cls: str = "") -> GepInput:
    return GepInput(
        id=id_,
        year=2025,
        code=code,
        class_code=cls,
        division_code="331123",
        value=value,
        unit="",
        source=InputSource.STATISTIC,
        source_ref="test",
        version=1,
        current=True,
        entered_by="t",
    )


def inputs(*rows: GepInput) -> gep_inputs.Inputs:
    return gep_inputs.Inputs({(r.code, r.class_code): r for r in rows})


def params(year: int = 2010) -> gep_parameters.Params:
    pset = gep_parameters.load("v1")
    return gep_parameters.Params(pset, pset.price_factor(year))


# A small county: 1000 hm² broadleaf forest, 100 hm² paddy, 50 hm² water, 10 hm² wetland.
SMALL: list[tuple[str, str, float]] = [
    ("gdp", "", 100_000.0),  # 10 亿元
    ("area", "broadleaf", 1000.0),
    ("area", "paddy", 100.0),
    ("area", "water", 50.0),
    ("area", "wetland", 10.0),
    ("output_agriculture", "", 5000.0),
    ("output_forestry", "", 2000.0),
    ("output_husbandry", "", 1000.0),
    ("output_fishery", "", 500.0),
    ("hydropower", "", 1000.0),
    ("water_domestic", "", 100.0),
    ("water_industrial", "", 50.0),
    ("water_agricultural", "", 400.0),
    ("precipitation", "", 1600.0),
    ("runoff_coefficient", "broadleaf", 0.05),
    ("runoff_coefficient", "paddy", 0.3),
    ("runoff_coefficient", "wetland", 0.1),
    ("evapotranspiration", "broadleaf", 800.0),
    ("evapotranspiration", "paddy", 700.0),
    ("evapotranspiration", "wetland", 900.0),
    ("rusle_r", "", 5000.0),
    ("rusle_k", "", 0.03),
    ("rusle_ls", "", 5.0),
    ("rusle_p", "", 1.0),
    ("rusle_c", "broadleaf", 0.01),
    ("rusle_c", "paddy", 0.2),
    ("reservoir_capacity", "", 1000.0),
    ("emission_so2", "", 50.0),
    ("emission_nox", "", 100.0),
    ("emission_dust", "", 500.0),
    ("emission_cod", "", 1000.0),
    ("emission_nh3n", "", 100.0),
    ("npp", "broadleaf", 10.0),
    ("npp", "paddy", 8.0),
    ("npp", "wetland", 6.0),
    ("cooling_days", "", 30.0),
    ("water_evaporation", "", 120.0),
    ("tourists", "", 100.0),
    ("tourist_spending", "", 800.0),
]


def enter(session, year: int = 2025, figures=SMALL, scale: float = 1.0):  # type: ignore[no-untyped-def]
    out = []
    for code, cls, value in figures:
        r, _ = gep_inputs.record(
            session,
            actor=ACCOUNTANT,
            year=year,
            code=code,
            class_code=cls,
            value=value * scale,
            source=InputSource.STATISTIC,
            source_ref=f"测试 {year}",
        )
        out.append(r)
    return out
