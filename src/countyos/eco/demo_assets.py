"""The demo county's assets part of the ecology domain: a land-use layer of 遂昌 (a hilly southern county:
about 80 % forest, mostly 针叶/针阔混交/阔叶 and some 灌木, ~7 % 水田, ~3 % 旱地, ~2 % water, ~2 % built),
made as polygons inside the county's division polygons, deterministic (a seeded generator on a grid of
cells clipped to the county), stored with its areas, and its ESV for one year.

The classes are drawn by cell with a little structure: valleys (the cells nearest a township's seat)
take paddy, dryland, built land and water more often; the rest is forest, shrub and grass.
"""

from __future__ import annotations

import json
import random
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.eco.models.assets import LandUseLayer, PriceMethod
from countyos.eco.service import esv, landuse
from countyos.geo.models import Division, DivisionLevel

SEED = 331123
YEAR = 2022
CELL_DEG = 0.012  # ≈ 1.2 km × 1.3 km
NAME = "遂昌县土地利用现状（演示）"
# (class, weight) in the hills and near a township seat
HILLS = [("conifer", 33), ("mixed_forest", 28), ("broadleaf", 19), ("shrub", 9), ("shrub_grass", 4),
         ("dryland", 2), ("paddy", 3), ("meadow", 1), ("water", 1)]  # fmt: skip
VALLEY = [("paddy", 36), ("dryland", 15), ("built", 17), ("water", 11), ("broadleaf", 8), ("shrub", 6),
          ("wetland", 3), ("bare", 2), ("mixed_forest", 2)]  # fmt: skip
VALLEY_KM = 2.2  # cells whose centre lies this close to a township seat are valley cells


def _pick(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in table], weights=[w for _, w in table])[0]


def landuse_geojson(county: Any, seats: list[tuple[float, float]], seed: int = SEED) -> bytes:
    """The demo layer as GeoJSON: grid cells clipped to the county polygon, a class each."""
    rng = random.Random(seed)
    x0, y0, x1, y1 = county.bounds
    prepared = shapely.prepared.prep(county)
    features = []
    y = y0
    while y < y1:
        x = x0
        while x < x1:
            cell = shapely.box(x, y, x + CELL_DEG, y + CELL_DEG)
            if prepared.intersects(cell):
                part = cell if prepared.contains(cell) else cell.intersection(county)
                if not part.is_empty and part.area > 0:
                    cx, cy = x + CELL_DEG / 2, y + CELL_DEG / 2
                    near = min(((cx - sx) * 97.0) ** 2 + ((cy - sy) * 111.0) ** 2 for sx, sy in seats) ** 0.5
                    cls = _pick(rng, VALLEY if near < VALLEY_KM else HILLS)
                    features.append({"type": "Feature", "properties": {"class": cls},
                                     "geometry": json.loads(shapely.to_geojson(part))})  # fmt: skip
            x += CELL_DEG
        y += CELL_DEG
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def load(session: Session, ctx: Any) -> None:
    county = session.scalar(select(Division).where(Division.level == DivisionLevel.COUNTY).limit(1))
    if county is None or session.scalar(select(LandUseLayer.id).where(LandUseLayer.name == NAME)) is not None:
        return
    towns = session.scalars(select(Division.geom).where(Division.level == DivisionLevel.TOWNSHIP)).all()
    seats = [(p.x, p.y) for p in (g.representative_point() for g in towns)] or [
        (county.geom.representative_point().x, county.geom.representative_point().y)
    ]
    uid = getattr(ctx, "user_ids", {}).get("gep")
    actor = Actor(id=uid, name="demo")
    data = landuse_geojson(county.geom, seats)
    layer = landuse.import_layer(
        session,
        actor=actor,
        data=data,
        filename="suichang-landuse-2022.geojson",
        name=NAME,
        year=YEAR,
        source="演示数据：按乡镇驻地远近随机生成（固定种子），比例参照南方丘陵山区县",
        note="Demo layer generated inside the county polygon; not survey data.",
    )
    esv.compute(session, actor=actor, layer_id=layer.id, year=YEAR, method=PriceMethod.CPI)
    notes = getattr(ctx, "notes", None)
    if isinstance(notes, list):
        notes.append(f"Ecosystem assets and ESV: {getattr(ctx, 'public_url', '')}/eco/assets (layer {NAME}, {YEAR})")
