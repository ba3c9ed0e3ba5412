"""The base a period's formula applies to: the contract amount spread evenly over its periods (the last
takes the remainder, the sum is exact) or the instalments due in the period."""

from __future__ import annotations

from datetime import date

from countyos.programme.models.projects import AssessmentPeriod, Contract, Instalment
from countyos.programme.service.payments import base_for, periods
from tests.programme.payments_helpers import World, pay_world

__all__ = ["pay_world"]


def _contract(**changes) -> Contract:
    data = {
        "id": 0,
        "starts_on": date(2026, 1, 15),
        "ends_on": date(2026, 12, 31),
        "amount_fen": 1_000_001,
        "period": AssessmentPeriod.MONTH,
        "formula": {"base": "even"},
    }
    data.update(changes)
    return Contract(**data)


def test_even_spreads_the_amount_and_the_last_period_takes_the_remainder() -> None:
    c = _contract()
    spans = periods(c)
    assert len(spans) == 12 and spans[0] == (date(2026, 1, 1), date(2026, 2, 1))  # a mid-month start: its month
    bases = [base_for(None, c, s, e) for s, e in spans]  # type: ignore[arg-type]  (even needs no session)
    assert sum(bases) == 1_000_001
    assert bases[:11] == [83_333] * 11 and bases[11] == 1_000_001 - 83_333 * 11
    assert base_for(None, c, date(2027, 1, 1), date(2027, 2, 1)) == 0  # type: ignore[arg-type]  (not a period)


def test_even_by_quarter() -> None:
    c = _contract(period=AssessmentPeriod.QUARTER, starts_on=date(2026, 2, 1), ends_on=date(2027, 1, 31), amount_fen=10)
    spans = periods(c)
    assert [s for s, _ in spans] == [
        date(2026, 1, 1),
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]
    assert [base_for(None, c, s, e) for s, e in spans] == [2, 2, 2, 2, 2]  # type: ignore[arg-type]


def test_instalment_takes_what_is_due_in_the_period(db, pay_world: World) -> None:
    with db.unit_of_work() as s:
        c = s.get(Contract, pay_world.contract_id)
        assert c is not None
        c.formula = {**c.formula, "base": "instalment"}
        s.add_all(
            [
                Instalment(contract_id=c.id, due_on=date(2026, 3, 1), amount_fen=300_000),
                Instalment(contract_id=c.id, due_on=date(2026, 3, 31), amount_fen=200_000),
                Instalment(contract_id=c.id, due_on=date(2026, 4, 1), amount_fen=999),
            ]
        )
        s.flush()
        assert base_for(s, c, date(2026, 3, 1), date(2026, 4, 1)) == 500_000
        assert base_for(s, c, date(2026, 4, 1), date(2026, 5, 1)) == 999
        assert base_for(s, c, date(2026, 5, 1), date(2026, 6, 1)) == 0
