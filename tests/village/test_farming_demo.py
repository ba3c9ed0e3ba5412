"""The farming demo loads on a small county: the starter inputs, a season of records whose harvests respect
every interval, and the farmer's greenhouse sprayed two days ago so that a harvest today is refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.village import demo_farming
from countyos.village.models.farming import FarmRecord, RecordKind
from countyos.village.service import farming
from countyos.village.service import farming_records as records
from tests.village.farming_helpers import FarmWorld, farming_world_baseline, world

__all__ = ["farming_world_baseline", "world"]


def test_the_demo_season(db: Database, world: FarmWorld) -> None:
    ctx = DemoContext()
    ctx.user_ids = {"farmer": world.farmer.id}
    with db.unit_of_work() as s:
        demo_farming.load(s, ctx)
    today = records.today()
    with db.reading() as s:
        rows = list(s.scalars(select(FarmRecord)))
        kinds = {r.kind for r in rows}
        assert {
            RecordKind.SOWING,
            RecordKind.FERTILISER,
            RecordKind.PESTICIDE,
            RecordKind.VET_DRUG,
            RecordKind.FEED,
            RecordKind.HARVEST,
        } <= kinds
        assert all(r.used_on <= today for r in rows)
        for r in rows:  # every harvest respects every interval that applied
            if r.kind == RecordKind.HARVEST:
                assert (
                    farming.interval_block(s, base_id=r.base_id, product_code=r.product_code or "", on=r.used_on)
                    is None
                )
        block = farming.interval_block(s, base_id=world.greenhouse_id, product_code="tomato", on=today)
        assert block is not None and block.input_name == "吡虫啉" and block.used_on == today - timedelta(days=2)
        assert block.days_remaining(today) == 5
        assert any("吡虫啉" in n for n in ctx.notes)
    with db.unit_of_work() as s:  # loading again adds no inputs
        from countyos.village.service import farming_inputs

        assert farming_inputs.ensure_starter(s) == 0
