"""The demo county's farming part of the village domain: the starter inputs, and a season (the last eight
months) of 农事 records on every producer's base — sowing, fertiliser, two to four sprays with their real
intervals and harvests that respect them; feed, a veterinary drug with its 休药期 and sales of livestock
and fish. The ``farmer`` user's greenhouse gets a 吡虫啉 spray two days ago (7-day interval), so a harvest
of its vegetables today is refused until five days from now."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from countyos.village.models.farming import FarmInput, FarmRecord, RecordKind
from countyos.village.models.producers import PRODUCER_KINDS, Entity, EntityMember, Facility, ProductionBase
from countyos.village.service import farming_inputs, products
from countyos.village.service import farming_records as records

SEASON_DAYS = 240
SHOWCASE_INPUT = "imidacloprid_10wp"  # 吡虫啉: 7 days on vegetables
MU = 666.67  # m² per 亩
# kg per 亩 at one picking (a season's yield spread over its pickings): fresh tea is picked by the bud and
# leaf, vegetables every week or two, grain and tubers in one or two harvests
PICKING_KG_PER_MU = {
    "tea_fresh": (6, 20),
    "chrysanthemum_rice": (10, 30),
    "bamboo_shoot": (30, 90),
    "shiitake": (40, 120),
    "kiwi": (150, 400),
    "bayberry": (100, 300),
    "yellow_peach": (150, 400),
    "rice": (150, 250),
    "sweet_potato": (300, 700),
    "dried_sweet_potato": (60, 150),
}


def _registered(inputs: list[FarmInput], product_code: str) -> list[tuple[FarmInput, int]]:
    out = []
    for i in inputs:
        n = farming_inputs.interval_for(i, product_code)
        if n is not None and n > 0:
            out.append((i, n))
    return out


def _row(ent: Entity, base: ProductionBase, who: int | None, kind: RecordKind, day: date, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "entity_id": ent.id,
        "base_id": base.id,
        "kind": kind,
        "used_on": day,
        "product_code": None,
        "input_id": None,
        "input_name": None,
        "registration_no": None,
        "interval_days": None,
        "dose": None,
        "dose_unit": None,
        "area_mu": None,
        "head_count": None,
        "quantity": None,
        "unit": None,
        "note": None,
        "photo_id": None,
        "voided": False,
        "recorded_by_id": who,
        "created_by": ent.contact_name or ent.name,
    }
    row.update(kw)
    return row


def _use(inp: FarmInput, interval: int | None, dose: float) -> dict[str, Any]:
    return {
        "input_id": inp.id,
        "input_name": inp.name,
        "registration_no": inp.registration_no,
        "interval_days": interval,
        "dose": dose,
        "dose_unit": inp.dose_unit,
    }


def _blocked(uses: list[tuple[date, int]], day: date) -> bool:
    return any(used <= day < used + timedelta(days=n) for used, n in uses)


def _crop(
    rng: random.Random,
    ent: Entity,
    base: ProductionBase,
    who: int | None,
    code: str,
    today: date,
    inputs: list[FarmInput],
    by_code: dict[str, FarmInput],
    sprays: list[tuple[date, int]],
) -> list[dict[str, Any]]:
    start = today - timedelta(days=SEASON_DAYS - rng.randint(0, 20))
    area = round(max(base.area_m2 / MU, 0.3), 1)
    unit = products.product(code).unit
    rows = [_row(ent, base, who, RecordKind.SOWING, start, product_code=code, area_mu=area)]
    for offset, fert, dose in ((-3, "organic_manure", 300.0), (40, "npk_151515", 25.0), (95, "urea", 10.0)):
        if (inp := by_code.get(fert)) is not None:
            rows.append(
                _row(
                    ent,
                    base,
                    who,
                    RecordKind.FERTILISER,
                    start + timedelta(days=max(offset, 0)),
                    product_code=code,
                    area_mu=area,
                    **_use(inp, None, dose),
                )
            )
    options = _registered(inputs, code)
    uses = list(sprays)
    for _ in range(rng.randint(2, 4) if options else 0):
        inp, n = rng.choice(options)
        day = start + timedelta(days=rng.randint(25, SEASON_DAYS - 30))
        if day >= today:
            continue
        uses.append((day, n))
        rows.append(
            _row(
                ent,
                base,
                who,
                RecordKind.PESTICIDE,
                day,
                product_code=code,
                area_mu=area,
                **_use(inp, n, float(rng.choice((15, 20, 30, 40)))),
            )
        )
    day = start + timedelta(days=rng.randint(60, 80))
    while day < today:
        if not _blocked(uses, day):
            low, high = PICKING_KG_PER_MU.get(code, (80, 300))
            qty = round(rng.uniform(low, high) * area, 1) if unit == "kg" else float(rng.randint(50, 200))
            rows.append(_row(ent, base, who, RecordKind.HARVEST, day, product_code=code, quantity=qty, unit=unit))
        day += timedelta(days=rng.randint(8, 15))
    return rows


def _animal(
    rng: random.Random,
    ent: Entity,
    base: ProductionBase,
    who: int | None,
    code: str,
    today: date,
    inputs: list[FarmInput],
    by_code: dict[str, FarmInput],
) -> list[dict[str, Any]]:
    p = products.product(code)
    feed = by_code.get(
        {"aquatic": "fish_feed", "livestock": "pig_feed" if code == "pig" else "chicken_feed"}.get(
            p.kind, "chicken_feed"
        )
    )
    heads = {"pig": 60, "chicken": 800, "egg": 600}.get(code)
    start = today - timedelta(days=SEASON_DAYS)
    rows: list[dict[str, Any]] = []
    day = start
    while day < today and feed is not None:
        rows.append(
            _row(
                ent,
                base,
                who,
                RecordKind.FEED,
                day,
                product_code=code,
                head_count=heads,
                **_use(feed, None, float(rng.randint(100, 600))),
            )
        )
        day += timedelta(days=15)
    uses: list[tuple[date, int]] = []
    options = _registered(inputs, code) if code != "egg" else []  # 产蛋期禁用: no drug on laying hens
    for _ in range(rng.randint(1, 2) if options else 0):
        inp, n = rng.choice(options)
        used = start + timedelta(days=rng.randint(20, SEASON_DAYS - 20))
        uses.append((used, n))
        rows.append(
            _row(
                ent,
                base,
                who,
                RecordKind.VET_DRUG,
                used,
                product_code=code,
                head_count=max(1, (heads or 20) // 10),
                note="治疗",
                **_use(inp, n, 5.0),
            )
        )
    day = start + timedelta(days=45)
    step = 7 if code == "egg" else 30
    while day < today:
        if not _blocked(uses, day):
            qty = {
                "pig": float(rng.randint(8, 15)),
                "chicken": float(rng.randint(60, 150)),
                "egg": float(rng.randint(1500, 3000)),
            }.get(code, round(rng.uniform(150, 600), 1))
            rows.append(_row(ent, base, who, RecordKind.HARVEST, day, product_code=code, quantity=qty, unit=p.unit))
        day += timedelta(days=step + rng.randint(-3, 3))
    return rows


def load(session: Session, ctx: Any) -> None:
    farming_inputs.ensure_starter(session)
    inputs = [i for i in farming_inputs.list_inputs(session, active_only=True)]
    by_code = {i.code: i for i in inputs}
    today = records.today()
    rng = random.Random(18)
    members: dict[int, int] = {}
    for entity_id, user_id in session.execute(select(EntityMember.entity_id, EntityMember.user_id)):
        members.setdefault(entity_id, user_id)
    farmer_id = getattr(ctx, "user_ids", {}).get("farmer")
    farmer_entities = {
        e for e, u in session.execute(select(EntityMember.entity_id, EntityMember.user_id)) if u == farmer_id
    }
    stmt = (
        select(ProductionBase, Entity)
        .join(Entity, Entity.id == ProductionBase.entity_id)
        .where(Entity.kind.in_(PRODUCER_KINDS), ProductionBase.active.is_(True))
        .order_by(ProductionBase.id)
    )
    rows: list[dict[str, Any]] = []
    showcase_done = False
    for base, ent in session.execute(stmt):
        who = members.get(ent.id)
        sprays: list[tuple[date, int]] = []
        crops = [
            c
            for c in base.product_codes or []
            if c in products.catalog().products and products.product(c).kind == "crop"
        ]
        spray = by_code.get(SHOWCASE_INPUT)
        if (
            not showcase_done
            and ent.id in farmer_entities
            and base.facility == Facility.GREENHOUSE
            and crops
            and spray is not None
        ):
            code = next((c for c in crops if farming_inputs.interval_for(spray, c) == 7), crops[0])
            n = farming_inputs.interval_for(spray, code) or 7
            day = today - timedelta(days=2)
            sprays.append((day, n))
            rows.append(
                _row(
                    ent,
                    base,
                    who,
                    RecordKind.PESTICIDE,
                    day,
                    product_code=code,
                    area_mu=round(max(base.area_m2 / MU, 0.3), 1),
                    note="蚜虫",
                    **_use(spray, n, 20.0),
                )
            )
            showcase_done = True
        for code in base.product_codes or []:
            if code not in products.catalog().products:
                continue
            if products.product(code).kind == "crop":
                rows += _crop(rng, ent, base, who, code, today, inputs, by_code, sprays)
            else:
                rows += _animal(rng, ent, base, who, code, today, inputs, by_code)
    if rows:
        session.execute(insert(FarmRecord), rows)
        session.flush()
    if showcase_done and hasattr(ctx, "notes"):
        ctx.notes.append(
            "Farm records: /village/records — the farmer's greenhouse was sprayed with 吡虫啉 two days ago "
            "(7-day interval), so a harvest there today is refused"
        )
