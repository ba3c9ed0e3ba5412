"""The 安全间隔期/休药期 rule: an input used on day D with an interval of N days allows a harvest from D+N
(D+N-1 refused, naming the input, its date and the days remaining); voided records and records of another
base or product do not count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from countyos.core.db import Database
from countyos.core.errors import NotFound, ValidationFailed
from countyos.village.models.farming import RecordKind
from countyos.village.service import farming
from countyos.village.service import farming_records as records
from tests.village.farming_helpers import FarmWorld, actor, days_ago, farming_world_baseline, record, world

__all__ = ["farming_world_baseline", "world"]


def test_pesticide_boundary_days(db: Database, world: FarmWorld) -> None:
    me = actor(world.farmer)
    d = days_ago(10)
    with db.unit_of_work() as s:
        spray = record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="pesticide",
            product_code="tomato",
            input_id=world.inputs["imidacloprid_10wp"],
            dose=20,
            used_on=d,
        )
        assert s.get(farming.FarmRecord, spray).interval_days == 7  # type: ignore[union-attr]
        block = farming.interval_block(s, base_id=world.greenhouse_id, product_code="tomato", on=d + timedelta(6))
        assert block is not None and block.input_name == "吡虫啉" and block.allowed_from == d + timedelta(7)
        assert block.days_remaining(d + timedelta(6)) == 1
        assert (
            farming.interval_block(s, base_id=world.greenhouse_id, product_code="tomato", on=d + timedelta(7)) is None
        )
        with pytest.raises(farming.InsideSafetyInterval) as exc:
            record(
                s,
                me,
                base_id=world.greenhouse_id,
                kind="harvest",
                product_code="tomato",
                quantity=100,
                used_on=d + timedelta(6),
            )
        body = exc.value.problem()
        assert body["status"] == 409 and body["code"] == "inside_safety_interval"
        assert body["input"] == "吡虫啉" and body["used_on"] == d.isoformat()
        assert body["interval_days"] == 7 and body["days_remaining"] == 1
        assert body["allowed_from"] == (d + timedelta(7)).isoformat()
        assert "吡虫啉" in body["detail"] and d.isoformat() in body["detail"]
        ok = record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="harvest",
            product_code="tomato",
            quantity=100,
            used_on=d + timedelta(7),
        )
        assert ok > spray


def test_vet_drug_boundary_days(db: Database, world: FarmWorld) -> None:
    me = actor(world.farmer)
    d = days_ago(20)
    with db.unit_of_work() as s:
        record(
            s,
            me,
            base_id=world.pen_id,
            kind="vet_drug",
            product_code="pig",
            input_id=world.inputs["enrofloxacin_10"],
            dose=5,
            head_count=12,
            used_on=d,
        )
        with pytest.raises(farming.InsideSafetyInterval) as exc:
            farming.refuse_inside_interval(s, base_id=world.pen_id, product_code="pig", on=d + timedelta(9))
        extra = exc.value.extra()
        assert extra["input"] == "恩诺沙星" and extra["interval_days"] == 10 and extra["days_remaining"] == 1
        farming.refuse_inside_interval(s, base_id=world.pen_id, product_code="pig", on=d + timedelta(10))
        # a pesticide recorded against a pig is refused; a vet drug does not block a crop
        with pytest.raises(ValidationFailed):
            record(
                s,
                me,
                base_id=world.pen_id,
                kind="pesticide",
                product_code="pig",
                input_id=world.inputs["imidacloprid_10wp"],
                used_on=d,
            )


def test_the_longest_interval_is_named_and_base_wide_uses_count(db: Database, world: FarmWorld) -> None:
    me = actor(world.farmer)
    d = days_ago(5)
    with db.unit_of_work() as s:
        record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="pesticide",
            product_code="tomato",
            input_id=world.inputs["acetamiprid_5ec"],
            used_on=d,
        )
        # used on the whole base (no product): 代森锰锌 15 days for tomato, the longest of the base's products
        record(s, me, base_id=world.greenhouse_id, kind="pesticide", input_id=world.inputs["mancozeb_80wp"], used_on=d)
        block = farming.interval_block(s, base_id=world.greenhouse_id, product_code="pepper", on=records.today())
        assert block is not None and block.input_name == "代森锰锌" and block.interval_days == 15


def test_voided_records_do_not_block(db: Database, world: FarmWorld) -> None:
    me = actor(world.farmer)
    with db.unit_of_work() as s:
        spray = record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="pesticide",
            product_code="tomato",
            input_id=world.inputs["imidacloprid_10wp"],
            used_on=days_ago(1),
        )
        assert farming.interval_block(s, base_id=world.greenhouse_id, product_code="tomato", on=records.today())
        records.void_record(s, actor=me, record_id=spray, reason="录错了基地")
        assert farming.interval_block(s, base_id=world.greenhouse_id, product_code="tomato", on=records.today()) is None
        record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="harvest",
            product_code="tomato",
            quantity=50,
            used_on=records.today(),
        )


def test_another_base_or_product_does_not_block(db: Database, world: FarmWorld) -> None:
    me = actor(world.farmer)
    with db.unit_of_work() as s:
        record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="pesticide",
            product_code="tomato",
            input_id=world.inputs["imidacloprid_10wp"],
            used_on=days_ago(1),
        )
        today = records.today()
        assert farming.interval_block(s, base_id=world.field_id, product_code="tomato", on=today) is None
        assert farming.interval_block(s, base_id=world.greenhouse_id, product_code="cabbage", on=today) is None
        # a use after the harvest day does not count for it
        assert farming.interval_block(s, base_id=world.greenhouse_id, product_code="tomato", on=days_ago(2)) is None


def test_a_producer_cannot_write_to_anothers_base(db: Database, world: FarmWorld) -> None:
    with db.unit_of_work() as s, pytest.raises(NotFound):
        record(
            s,
            actor(world.other),
            base_id=world.greenhouse_id,
            kind="sowing",
            product_code="tomato",
            used_on=records.today(),
        )


def test_dates_and_inputs_are_checked(db: Database, world: FarmWorld) -> None:
    me = actor(world.farmer)
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed):
            record(s, me, base_id=world.greenhouse_id, kind="sowing", used_on=records.today() + timedelta(1))
        with pytest.raises(ValidationFailed):  # a pesticide needs its input
            record(s, me, base_id=world.greenhouse_id, kind="pesticide", used_on=records.today())
        with pytest.raises(ValidationFailed):  # a fertiliser is not a pesticide
            record(
                s,
                me,
                base_id=world.greenhouse_id,
                kind="pesticide",
                input_id=world.inputs["urea"],
                used_on=records.today(),
            )
        with pytest.raises(ValidationFailed):  # the base does not grow kiwi
            record(s, me, base_id=world.greenhouse_id, kind="sowing", product_code="kiwi", used_on=records.today())
        rid = record(
            s,
            me,
            base_id=world.greenhouse_id,
            kind="fertiliser",
            input_id=world.inputs["urea"],
            dose=10,
            used_on=records.today(),
        )
        assert records.last_input(s, base_id=world.greenhouse_id, kind=RecordKind.FERTILISER).id == rid  # type: ignore[union-attr]
