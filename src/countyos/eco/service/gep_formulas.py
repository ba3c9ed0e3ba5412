"""The GEP items of the 2022 specification (发改基础〔2022〕481号) and their formulas.

Formulas are code: each is a named function in ``FORMULAS`` taking the year's inputs (``Inputs``) and the
parameter set (``Params``) and answering the physical quantity and the value in 元. Their parameters and
prices are data (``data/gep_parameters_v*.json``). Units: areas in hm² (1 hm² = 10 000 m²), 1 mm of water
on 1 hm² = 10 m³, statistics in 万元 (× 10 000 元).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from countyos.core.i18n import N_
from countyos.eco.models.gep import Category
from countyos.eco.service.gep_inputs import Inputs
from countyos.eco.service.gep_parameters import Params

WAN = 10_000.0


@dataclass(frozen=True)
class Outcome:
    quantity: float
    unit: str
    value: float  # 元
    note: str | None = None


Formula = Callable[..., Outcome]
FORMULAS: dict[str, Formula] = {}


def formula(name: str) -> Callable[[Formula], Formula]:
    def register(fn: Formula) -> Formula:
        FORMULAS[name] = fn
        return fn

    return register


@dataclass(frozen=True)
class Item:
    code: str
    category: Category
    label: str  # message id
    formula: str
    args: tuple[str, ...] = ()
    switch: str | None = None  # a switch of the parameter set that turns the item on or off


M, R, C = Category.MATERIAL, Category.REGULATING, Category.CULTURAL
ITEMS: list[Item] = [
    Item("agriculture", M, N_("Agricultural products"), "market_value", ("output_agriculture",)),
    Item("forestry", M, N_("Forestry products"), "market_value", ("output_forestry",)),
    Item("husbandry", M, N_("Animal husbandry products"), "market_value", ("output_husbandry",)),
    Item("fishery", M, N_("Fishery products"), "market_value", ("output_fishery",)),
    Item("hydropower", M, N_("Ecological energy (hydropower)"), "hydropower"),
    Item("water_supply", M, N_("Water resources"), "water_supply"),
    Item("water_conservation", R, N_("Water conservation"), "water_balance"),
    Item("soil_retention", R, N_("Soil retention"), "soil_retention_rusle"),
    Item("sand_fixation", R, N_("Wind erosion prevention and sand fixation"), "sand_fixation", (), "sand_fixation"),
    Item("coastal_protection", R, N_("Coastal protection"), "not_applicable", (), "coastal_protection"),
    Item("flood_regulation", R, N_("Flood regulation"), "flood_storage"),
    Item("air_purification", R, N_("Air purification"), "purification", ("air",)),
    Item("water_purification", R, N_("Water purification"), "purification", ("water",)),
    Item("carbon_sequestration", R, N_("Carbon sequestration"), "carbon_from_npp"),
    Item("oxygen_release", R, N_("Oxygen release"), "oxygen_from_npp", (), "oxygen_release"),
    Item("climate_regulation", R, N_("Climate regulation"), "climate_regulation"),
    Item("tourism", C, N_("Recreation and tourism"), "travel_cost"),
    Item("landscape", C, N_("Landscape value"), "hedonic_price", (), "landscape_value"),
]
CATEGORY_LABELS = {M: N_("Material products"), R: N_("Regulating services"), C: N_("Cultural services")}


@formula("market_value")
def market_value(x: Inputs, p: Params, code: str) -> Outcome:
    """市场价值法: the output value from the statistics (万元)."""
    v = x.need(code)
    return Outcome(v, "万元", v * WAN)


@formula("hydropower")
def hydropower(x: Inputs, p: Params) -> Outcome:
    """V = generation (kWh) × electricity price."""
    kwh = x.need("hydropower") * WAN
    return Outcome(kwh / WAN, "万kWh", kwh * p.price("price_electricity"))


@formula("water_supply")
def water_supply(x: Inputs, p: Params) -> Outcome:
    """Vp = Σ Qp_i · Pp_i over households, industry and agriculture."""
    total = value = 0.0
    for use in ("domestic", "industrial", "agricultural"):
        q = x.need(f"water_{use}") * WAN
        total += q
        value += q * p.price(f"price_water_{use}")
    return Outcome(total / WAN, "万m³", value)


@formula("water_balance")
def water_balance(x: Inputs, p: Params) -> Outcome:
    """水量平衡法: Qw = Σ_i (P_i − R_i − ET_i) · A_i with R_i = P_i · α_i (a class whose balance is
    negative counts 0); Vw = Qw · Pw (水库单位库容造价)."""
    q = 0.0
    for cls in p.classes("water_conservation_classes"):
        a = x.area(cls)
        if a <= 0:
            continue
        rain = x.need("precipitation", cls)
        runoff = rain * x.need("runoff_coefficient", cls)
        q += max(0.0, rain - runoff - x.need("evapotranspiration", cls)) * 10.0 * a
    return Outcome(q / WAN, "万m³", q * p.price("price_reservoir"))


@formula("soil_retention_rusle")
def soil_retention_rusle(x: Inputs, p: Params) -> Outcome:
    """RUSLE: As = Σ_i R·K·LS·(1 − C_i·P_i)·A_i (potential minus actual erosion, t);
    Vs = λ·As/ρ·Ps (泥沙淤积) + As·CN·PN + As·CP·PP (面源污染)."""
    soil = 0.0
    for cls in p.classes("soil_retention_classes"):
        a = x.area(cls)
        if a <= 0:
            continue
        potential = x.need("rusle_r", cls) * x.need("rusle_k", cls) * x.need("rusle_ls", cls)
        soil += potential * (1.0 - x.need("rusle_c", cls) * x.need("rusle_p", cls)) * a
    sediment = p.value("sediment_share") * soil / p.value("soil_density") * p.price("price_dredging")
    nutrients = soil * p.value("soil_nitrogen") * p.price("price_nitrogen") + soil * p.value(
        "soil_phosphorus"
    ) * p.price("price_phosphorus")
    return Outcome(soil / WAN, "万t", sediment + nutrients)


@formula("sand_fixation")
def sand_fixation(x: Inputs, p: Params) -> Outcome:
    """Vf = Qf / (ρ·h) · Pf (治沙成本)."""
    q = x.need("wind_erosion_prevented")
    area = q / (p.value("sand_density") * p.value("sand_depth"))
    return Outcome(q / WAN, "万t", area * p.price("price_sand_control"))


@formula("not_applicable")
def not_applicable(x: Inputs, p: Params) -> Outcome:
    return Outcome(0.0, "", 0.0)


@formula("flood_storage")
def flood_storage(x: Inputs, p: Params) -> Outcome:
    """Cr = share · Ct (水库总库容); Cl = e^a · A^b (湖泊, A km², result in the model's unit);
    Cm = depth · S (沼泽湿地, S the wetland area); Vt = (Cr + Cl + Cm) · Pw."""
    reservoirs = p.value("reservoir_flood_share") * x.need("reservoir_capacity") * WAN
    lake_km2 = x.optional("lake_area")
    lakes = 0.0
    if lake_km2 > 0:
        a, b = p.value("lake_coefficient_a"), p.value("lake_coefficient_b")
        lakes = math.exp(a) * lake_km2**b * p.value("lake_capacity_unit")
    wetland_m2 = x.area("wetland") * WAN
    marsh = p.value("marsh_depth") * wetland_m2 if wetland_m2 else 0.0
    total = reservoirs + lakes + marsh
    return Outcome(total / WAN, "万m³", total * p.price("price_reservoir"))


POLLUTANTS = {
    "air": (("so2", "uptake_so2", 0.001), ("nox", "uptake_nox", 0.001), ("dust", "uptake_dust", 0.001)),
    "water": (("cod", "removal_cod", 1.0), ("nh3n", "removal_nh3n", 1.0)),
}


@formula("purification")
def purification(x: Inputs, p: Params, medium: str) -> Outcome:
    """Q_j = min(Σ_i rate_ij · A_i, emission_j): what the ecosystems remove, never more than was
    emitted; V = Σ_j Q_j · c_j (治理成本)."""
    areas = x.areas()
    total = value = 0.0
    parts = []
    for pollutant, rate, to_t in POLLUTANTS[medium]:
        capacity = 0.0
        for cls in sorted(areas):
            unit_rate = p.by_class(rate, cls)
            if unit_rate > 0:
                capacity += unit_rate * to_t * x.area(cls)
        emitted = x.need(f"emission_{pollutant}")
        q = min(capacity, emitted)
        total += q
        value += q * p.price(f"price_{pollutant}")
        parts.append(f"{pollutant}: min({capacity:.1f}, {emitted:.1f}) = {q:.1f} t")
    return Outcome(total, "t", value, "; ".join(parts))


def _dry_matter(x: Inputs, p: Params) -> float:
    dm = 0.0
    for cls in p.classes("carbon_classes"):
        a = x.area(cls)
        if a > 0:
            dm += x.need("npp", cls) * a
    return dm


@formula("carbon_from_npp")
def carbon_from_npp(x: Inputs, p: Params) -> Outcome:
    """CO2 = 1.63 · Σ NPP_i·A_i (dry matter); carbon = CO2 · 12/44; Vc = carbon · Pc."""
    co2 = p.value("co2_per_dry_matter") * _dry_matter(x, p)
    return Outcome(co2 / WAN, "万t CO₂", co2 * p.value("carbon_in_co2") * p.price("price_carbon"))


@formula("oxygen_from_npp")
def oxygen_from_npp(x: Inputs, p: Params) -> Outcome:
    """O2 = 1.19 · Σ NPP_i·A_i; Vo = O2 · Po (工业制氧)."""
    o2 = p.value("o2_per_dry_matter") * _dry_matter(x, p)
    return Outcome(o2 / WAN, "万t", o2 * p.price("price_oxygen"))


@formula("climate_regulation")
def climate_regulation(x: Inputs, p: Params) -> Outcome:
    """Vegetation: Ea = Σ_i H_i · A_i · d / (3600 · R) kWh (H kJ m⁻² d⁻¹, d cooling days, R efficiency);
    water surface: Ew = E·ρ·q/3600 + E·γ kWh (E m³ evaporated on cooling days); V = (Ea + Ew) · c."""
    days = x.need("cooling_days")
    ratio = p.value("cooling_efficiency")
    plants = 0.0
    for cls, a in sorted(x.areas().items()):
        heat = p.by_class("transpiration_heat", cls)
        if heat > 0:
            x.area(cls)
            plants += heat * a * WAN * days / (3600.0 * ratio)
    water_m2 = x.area("water") * WAN
    evaporated = x.need("water_evaporation") / 1000.0 * water_m2 if water_m2 else 0.0
    water = evaporated * p.value("water_density") * p.value("latent_heat") / 3600.0
    water += evaporated * p.value("humidifier_energy")
    kwh = plants + water
    return Outcome(
        kwh / WAN,
        "万kWh",
        kwh * p.price("price_electricity"),
        f"vegetation {plants / WAN:.1f} 万kWh; water {water / WAN:.1f} 万kWh",
    )


@formula("travel_cost")
def travel_cost(x: Inputs, p: Params) -> Outcome:
    """旅行费用法: V = visits × spending per visit (entered: no tourism records in CountyOS yet)."""
    visits = x.need("tourists") * WAN
    return Outcome(visits / WAN, "万人次", visits * x.need("tourist_spending"))


@formula("hedonic_price")
def hedonic_price(x: Inputs, p: Params) -> Outcome:
    """享乐价格法: the entered premium on property values (万元)."""
    v = x.need("landscape_premium")
    return Outcome(v, "万元", v * WAN)
