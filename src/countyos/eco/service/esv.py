"""ESV by the equivalent-factor method (谢高地 等 2015).

    ESV = Σ_k A_k × Σ_j F_kj × E_a

A_k hectares of accounting class k, F_kj the equivalents of class k for service j
(``data/xie2015_equivalents.csv``), E_a the value of one equivalent in 元/hm² (``unit_value``):

- ``standard``: 3406.5 元/hm² in 2010 prices (``data/esv_prices.json``);
- ``cpi``: 3406.5 × CPI(year) / CPI(2010), the index chained from the yearly CPI (上年 = 100);
- ``grain``: 1/7 × grain yield (kg/hm²) × grain price (元/kg) of the year.

The pure functions (``unit_value``, ``account``) work over areas and need no database; ``compute`` stores
one account of a layer per year and method (``eco_esv_result``), with its unit value and source.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.assets import EsvResult, PriceMethod
from countyos.eco.service import landuse
from countyos.eco.service.landuse_read import _data_path, classes
from countyos.org.service import audit

SERVICES: dict[str, str] = {
    "food": N_("Food production"),
    "raw_materials": N_("Raw materials"),
    "water_supply": N_("Water supply"),
    "gas_regulation": N_("Gas regulation"),
    "climate_regulation": N_("Climate regulation"),
    "purification": N_("Environmental purification"),
    "hydrology": N_("Hydrological regulation"),
    "soil_conservation": N_("Soil conservation"),
    "nutrient_cycling": N_("Nutrient cycling"),
    "biodiversity": N_("Biodiversity"),
    "aesthetics": N_("Aesthetic landscape"),
}
SERVICE_ZH = {
    "food": "食物生产", "raw_materials": "原料生产", "water_supply": "水资源供给", "gas_regulation": "气体调节",
    "climate_regulation": "气候调节", "purification": "净化环境", "hydrology": "水文调节",
    "soil_conservation": "土壤保持", "nutrient_cycling": "维持养分循环", "biodiversity": "生物多样性",
    "aesthetics": "美学景观",
}  # fmt: skip
METHOD_NAMES = {
    PriceMethod.STANDARD: N_("Standard equivalent (2010 prices)"),
    PriceMethod.CPI: N_("Adjusted by the consumer price index"),
    PriceMethod.GRAIN: N_("1/7 of the grain output value per hectare"),
}
YUAN_PER_YI = 1e8
MAX_AREA_HA = 1e9  # the calculator's bound on one class's area (more than China)


@dataclass(frozen=True)
class Table:
    factors: dict[str, dict[str, float]]  # class → service → equivalents
    verification: dict[str, str]
    source: str


@cache
def table() -> Table:
    """The equivalents per hm² (Xie 2015), read from the data file; 建设用地 has none (0)."""
    path = _data_path("xie2015_equivalents.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    source = " ".join(ln.lstrip("# ") for ln in lines if ln.startswith("# Source"))
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith("#")))
    factors = {r["class_code"]: {s: float(r[s]) for s in SERVICES} for r in rows}
    for r in rows:
        total = sum(factors[r["class_code"]].values())
        if abs(total - float(r["total"])) > 1e-6:
            raise ValueError(f"equivalents of {r['class_code']} do not add up to their total")
    for code, c in classes().items():
        if not c.esv:
            factors[code] = dict.fromkeys(SERVICES, 0.0)
    return Table(factors, {r["class_code"]: r["verification"] for r in rows}, source)


@cache
def prices() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_data_path("esv_prices.json").read_text(encoding="utf-8"))
    return data


def cpi_index(year: int) -> float:
    """CPI of YEAR with 2010 = 100, chained from the yearly figures (上年 = 100)."""
    cpi = prices()["cpi"]
    base = int(cpi["base_year"])
    yoy = {int(k): float(v) for k, v in cpi["year_on_year"].items()}
    if year < base or any(y not in yoy for y in range(base + 1, year + 1)):
        raise ValidationFailed(
            N_("There is no consumer price index for %(year)s in the price data"),
            year=year,
            errors=[{"field": "year", "message": "Not valid"}],
        )
    index = 100.0
    for y in range(base + 1, year + 1):
        index *= yoy[y] / 100.0
    return index


@dataclass(frozen=True)
class UnitValue:
    """E_a: the value of one equivalent in 元/hm², the year and how it was found."""

    value: float
    year: int
    method: PriceMethod
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "year": self.year, "method": str(self.method), **self.detail}


def unit_value(*, year: int | None = None, method: PriceMethod | str | None = None) -> UnitValue:
    """E_a for YEAR by METHOD; without a year the standard value in 2010 prices; with a year and no
    method the CPI adjustment."""
    p = prices()
    std = p["standard"]
    base_value, base_year = float(std["value"]), int(std["price_year"])
    m = PriceMethod(method) if method else (PriceMethod.CPI if year is not None else PriceMethod.STANDARD)
    if m == PriceMethod.STANDARD or (m == PriceMethod.CPI and year in (None, base_year)):
        return UnitValue(base_value, base_year if m == PriceMethod.STANDARD or year is None else year, m,
                         {"standard": base_value, "price_year": base_year, "source": std["source"]})  # fmt: skip
    if year is None:
        raise ValidationFailed(N_("Give the accounting year"), errors=[{"field": "year", "message": "Field required"}])
    if m == PriceMethod.CPI:
        index = cpi_index(year)
        return UnitValue(base_value * index / 100.0, year, m, {
            "standard": base_value, "price_year": base_year, "cpi": round(index, 4),
            "formula": "standard × CPI(year) / CPI(2010)", "source": p["cpi"]["source"],
            "standard_source": std["source"],
        })  # fmt: skip
    grain = p["grain"]
    row = grain["years"].get(str(year))
    if row is None:
        raise ValidationFailed(
            N_("There is no grain yield and price for %(year)s in the price data"),
            year=year,
            errors=[{"field": "year", "message": "Not valid"}],
        )
    y, price = float(row["yield_kg_per_ha"]), float(row["price_yuan_per_kg"])
    value = y * price * float(grain["fraction"])
    return UnitValue(value, year, m, {
        "yield_kg_per_ha": y, "price_yuan_per_kg": price, "fraction": grain["fraction"],
        "formula": "yield × price / 7", "source": grain["source"], "note": row.get("note", ""),
    })  # fmt: skip


@dataclass
class Account:
    """One ESV account over areas: 元 by class, by service, by class × service, and the total."""

    unit: UnitValue
    areas: dict[str, float]
    by_class: dict[str, float] = field(default_factory=dict)
    by_service: dict[str, float] = field(default_factory=dict)
    by_class_service: dict[str, dict[str, float]] = field(default_factory=dict)
    total: float = 0.0

    def as_dict(self, digits: int = 2) -> dict[str, Any]:
        return {
            "unit_value": {**self.unit.as_dict(), "value": round(self.unit.value, 4)},
            "areas_ha": {k: round(v, 4) for k, v in self.areas.items()},
            "esv_by_class": {k: round(v, digits) for k, v in self.by_class.items()},
            "esv_by_service": {k: round(v, digits) for k, v in self.by_service.items()},
            "esv_by_class_service": {
                k: {s: round(v, digits) for s, v in row.items()} for k, row in self.by_class_service.items()
            },
            "total_yuan": round(self.total, digits),
            "total_yi_yuan": round(self.total / YUAN_PER_YI, 6),
        }


def account(areas: Mapping[str, float], unit: UnitValue) -> Account:
    """ESV = Σ_k A_k × Σ_j F_kj × E_a, with every part kept. Classes not in the table are refused."""
    t = table()
    unknown = sorted(k for k in areas if k not in t.factors)
    if unknown:
        raise ValidationFailed(
            N_("Not accounting classes: %(names)s"),
            names=", ".join(unknown[:20]),
            errors=[{"field": "areas", "message": "Not valid"}],
        )
    order = list(classes())
    acc = Account(unit, {k: float(areas[k]) for k in sorted(areas, key=order.index)})
    acc.by_service = dict.fromkeys(SERVICES, 0.0)
    for k, a in acc.areas.items():
        row = {s: a * f * unit.value for s, f in t.factors[k].items()}
        acc.by_class_service[k] = row
        acc.by_class[k] = a * sum(t.factors[k].values()) * unit.value
        for s, v in row.items():
            acc.by_service[s] += v
    acc.total = sum(acc.by_class.values())
    return acc


# --- stored results ----------------------------------------------------------------------------


def compute(
    session: Session, *, actor: Actor, layer_id: int, year: int | None = None, method: PriceMethod | str | None = None
) -> EsvResult:
    """The account of a layer for YEAR (the layer's year when None) and METHOD (CPI when None), by class,
    service and division; stored (replacing the same layer, year and method)."""
    layer = landuse.get_layer(session, layer_id=layer_id)
    y = year or layer.year
    m = PriceMethod(method) if method else PriceMethod.CPI
    unit = unit_value(year=y, method=m)
    by_div = landuse.all_areas(session, layer_id=layer_id)
    county = landuse.county_key(session, layer_id=layer_id)
    main = account(by_div.get(county, {}), unit)
    divisions = {}
    for code, areas in by_div.items():
        a = account(areas, unit)
        divisions[code] = {"total": a.total, "by_class": a.by_class, "by_service": a.by_service}
    row = session.scalar(select(EsvResult).where(EsvResult.layer_id == layer_id, EsvResult.year == unit.year,
                                                 EsvResult.method == m))  # fmt: skip
    if row is None:
        row = EsvResult(layer_id=layer_id, year=unit.year, method=m)
        session.add(row)
    row.unit_value = unit.value
    row.unit_source = unit.as_dict()
    row.total_yuan = main.total
    row.by_class = main.by_class
    row.by_service = main.by_service
    row.by_division = divisions
    row.computed_by_id = actor.id
    row.computed_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="eco.esv.compute", target_type="eco_esv_result", target_id=row.id,
                 detail={"layer_id": layer_id, "year": unit.year, "method": str(m), "unit_value": unit.value,
                         "total_yuan": round(main.total, 2)})  # fmt: skip
    return row


def stored(session: Session, *, layer_id: int, year: int, method: PriceMethod | str) -> EsvResult | None:
    return session.scalar(
        select(EsvResult).where(EsvResult.layer_id == layer_id, EsvResult.year == year, EsvResult.method == method)
    )


def results(session: Session, *, layer_id: int) -> list[EsvResult]:
    return list(
        session.scalars(
            select(EsvResult).where(EsvResult.layer_id == layer_id).order_by(EsvResult.year.desc(), EsvResult.method)
        )
    )


def for_layer(
    session: Session,
    *,
    layer_id: int,
    year: int | None = None,
    method: PriceMethod | str | None = None,
    division: str | None = None,
) -> Account:
    """The account of a layer (or one division of it) computed from its stored areas, nothing written."""
    layer = landuse.get_layer(session, layer_id=layer_id)
    unit = unit_value(year=year or layer.year, method=method or PriceMethod.CPI)
    areas = landuse.class_areas(session, layer_id=layer_id, division_code=division)
    if division and not areas and division not in landuse.all_areas(session, layer_id=layer_id):
        raise NotFound(N_("The layer has no areas for division %(code)s"), code=division)
    return account(areas, unit)
