"""The demo county's GEP account for 2025 (遂昌: about 2539 km², about 80 % forest, 1500–1800 mm of rain,
GDP about 180 亿元). Every figure is example data marked "示例数据" in its source reference; the areas come
from the land-use layer when the assets part has one, else they are entered here. One run is made; its
result is of the order of published southern hilly counties (GEP 1–3 × GDP, regulating services 50–90 %)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.eco.models.gep import InputSource
from countyos.eco.permissions import ACCOUNTS_MANAGE, ACCOUNTS_READ
from countyos.eco.service import gep, gep_inputs

YEAR = 2025
EXAMPLE = "示例数据"
PERMISSIONS = frozenset({ACCOUNTS_READ, ACCOUNTS_MANAGE})

# hm²: 253 900 in all, forest and shrub 80 %
AREAS = {
    "conifer": 98_000.0,
    "mixed_forest": 55_000.0,
    "broadleaf": 55_000.0,
    "shrub": 8_000.0,
    "shrub_grass": 3_000.0,
    "paddy": 17_000.0,
    "dryland": 7_500.0,
    "water": 4_500.0,
    "wetland": 600.0,
    "built": 5_300.0,
}

STATISTICS: list[tuple[str, float, str]] = [
    ("gdp", 1_800_000.0, "遂昌县国民经济和社会发展统计公报 2025 口径"),
    ("output_agriculture", 130_000.0, "统计年鉴 2025 农林牧渔业总产值表 口径"),
    ("output_forestry", 90_000.0, "统计年鉴 2025 农林牧渔业总产值表 口径"),
    ("output_husbandry", 35_000.0, "统计年鉴 2025 农林牧渔业总产值表 口径"),
    ("output_fishery", 8_000.0, "统计年鉴 2025 农林牧渔业总产值表 口径"),
    ("hydropower", 80_000.0, "县水利局 小水电站发电量 口径"),
    ("water_domestic", 1_800.0, "水资源公报 2025 口径"),
    ("water_industrial", 1_500.0, "水资源公报 2025 口径"),
    ("water_agricultural", 9_000.0, "水资源公报 2025 口径"),
    ("precipitation", 1_650.0, "县气象局 年降水量 口径"),
    ("rusle_r", 5_200.0, "降雨侵蚀力 (日降雨量模型) 口径"),
    ("rusle_k", 0.028, "土壤可蚀性 (EPIC 模型, 红壤) 口径"),
    ("rusle_ls", 6.5, "坡长坡度因子 (DEM 计算, 县均值) 口径"),
    ("rusle_p", 1.0, "水土保持措施因子 (县均值) 口径"),
    ("reservoir_capacity", 45_000.0, "县水利局 水库名录 总库容 口径"),
    ("emission_so2", 600.0, "生态环境统计 2025 口径"),
    ("emission_nox", 1_800.0, "生态环境统计 2025 口径"),
    ("emission_dust", 2_500.0, "生态环境统计 2025 口径"),
    ("emission_cod", 4_500.0, "生态环境统计 2025 口径"),
    ("emission_nh3n", 450.0, "生态环境统计 2025 口径"),
    ("cooling_days", 20.0, "县气象局 日均温 > 26 °C 天数 口径"),
    ("water_evaporation", 100.0, "县气象局 蒸发皿观测 (制冷期) 口径"),
    ("tourists", 1_300.0, "县文旅局 旅游接待人次 口径"),
    ("tourist_spending", 720.0, "县文旅局 人均旅游消费 口径"),
]

# per class: storm runoff coefficient, evapotranspiration (mm), RUSLE C, NPP (t dry matter per hm² and year)
BY_CLASS: dict[str, tuple[float, float, float, float]] = {
    "conifer": (0.06, 850.0, 0.006, 9.5),
    "mixed_forest": (0.05, 870.0, 0.005, 11.0),
    "broadleaf": (0.04, 900.0, 0.004, 12.0),
    "shrub": (0.08, 700.0, 0.02, 7.0),
    "steppe": (0.12, 650.0, 0.04, 5.0),
    "shrub_grass": (0.12, 650.0, 0.04, 5.0),
    "meadow": (0.12, 650.0, 0.04, 5.0),
    "paddy": (0.35, 750.0, 0.1, 9.0),
    "dryland": (0.3, 600.0, 0.25, 6.0),
    "wetland": (0.1, 900.0, 0.0, 8.0),
}
P_BY_CLASS = {"paddy": 0.15, "dryland": 0.5}  # terraces and contour tillage


def _enter(session: Session, actor: Actor, code: str, value: float, ref: str, cls: str = "") -> None:
    gep_inputs.record(
        session,
        actor=actor,
        year=YEAR,
        code=code,
        class_code=cls,
        value=value,
        source=InputSource.STATISTIC if cls == "" else InputSource.RECORD,
        source_ref=f"{EXAMPLE}（{ref}）",
        audited=False,
    )


def load(session: Session, ctx: Any) -> None:
    actor = Actor(id=getattr(ctx, "user_ids", {}).get("gep"), name="demo", permissions=PERMISSIONS)
    from_layer = gep_inputs.areas_from_layer(session, actor=actor, year=YEAR)
    if not from_layer:
        for cls, hectares in AREAS.items():
            gep_inputs.record(
                session,
                actor=actor,
                year=YEAR,
                code="area",
                class_code=cls,
                value=hectares,
                source=InputSource.RECORD,
                source_ref=f"{EXAMPLE}（第三次国土调查 面积口径）",
                audited=False,
            )
    for code, value, ref in STATISTICS:
        _enter(session, actor, code, value, ref)
    for cls, (runoff, et, c, npp) in BY_CLASS.items():
        _enter(session, actor, "runoff_coefficient", runoff, "暴雨径流系数 文献值", cls)
        _enter(session, actor, "evapotranspiration", et, "蒸散发 遥感产品 县均值", cls)
        _enter(session, actor, "rusle_c", c, "植被覆盖管理因子 文献值", cls)
        _enter(session, actor, "npp", npp, "NPP 遥感产品 (CASA 模型) 县均值", cls)
    for cls, p in P_BY_CLASS.items():
        _enter(session, actor, "rusle_p", p, "水土保持措施因子 文献值", cls)
    run, _ = gep.run(session, actor=actor, year=YEAR)
    notes = getattr(ctx, "notes", None)
    if isinstance(notes, list):
        ratio = f", GEP/GDP {run.gep / run.gdp:.2f}" if run.gdp else ""
        notes.append(f"GEP {YEAR}: {run.gep / 1e8:,.1f} 亿元{ratio} — /eco/gep/runs/{run.id}")
