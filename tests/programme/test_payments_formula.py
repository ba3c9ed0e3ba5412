"""按效付费 formulas at their edges: caps, zero scores, missing data, a score exactly at a threshold, no
bonus steps, base 0; and the invariants over any formula and score (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from countyos.programme.schemas.payments import BonusStep, Formula
from countyos.programme.service.payments import ceiling_fen, compute, fen_of, yuan

BASE = 1_000_000  # 10,000.00 yuan


def test_full_at_or_above_pays_the_base() -> None:
    f = Formula(full_at=90, per_point_pct=2, zero_below=60)
    at = compute(f, base_fen=BASE, total=90.0)
    assert (at.deduction_fen, at.bonus_fen, at.payable_fen) == (0, 0, BASE)
    assert at.breakdown["rule"] == "full"
    assert compute(f, base_fen=BASE, total=100.0).payable_fen == BASE


def test_each_point_below_deducts_and_rounds_half_up_to_the_fen() -> None:
    f = Formula(full_at=90, per_point_pct=2, max_deduction_pct=100, zero_below=None)
    r = compute(f, base_fen=BASE, total=87.5)  # 2.5 points × 2 % = 5 %
    assert (r.deduction_fen, r.payable_fen) == (50_000, 950_000)
    assert r.breakdown["rule"] == "deduct" and r.breakdown["points_below"] == 2.5
    odd = compute(Formula(full_at=90, per_point_pct=1, zero_below=None), base_fen=101, total=89.5)
    assert odd.deduction_fen == 1  # 101 × 0.5 % = 0.505 fen → 1 (half up)
    assert fen_of(1, Decimal(50)) == 1  # 0.5 fen → 1
    assert fen_of(3, Decimal("49.9")) == 1  # 1.497 → 1


def test_the_deduction_cap() -> None:
    f = Formula(full_at=90, per_point_pct=2, max_deduction_pct=30, zero_below=None)
    r = compute(f, base_fen=BASE, total=50.0)  # 40 points × 2 % = 80 %, capped at 30 %
    assert r.deduction_fen == 300_000 and r.payable_fen == 700_000
    assert r.breakdown["capped"] is True and r.breakdown["deduction_pct"] == 30.0
    just = compute(f, base_fen=BASE, total=75.0)  # 15 × 2 = 30 %: at the cap, not over it
    assert just.deduction_fen == 300_000 and just.breakdown["capped"] is False


def test_zero_scores_and_the_zero_threshold() -> None:
    f = Formula(full_at=90, per_point_pct=1, zero_below=60, bonus=[BonusStep(at_least=0, pct=5)], max_bonus_pct=5)
    zero = compute(f, base_fen=BASE, total=0.0)
    assert (zero.deduction_fen, zero.bonus_fen, zero.payable_fen) == (BASE, 0, 0)
    assert zero.breakdown["rule"] == "zero"
    below = compute(f, base_fen=BASE, total=59.99)
    assert below.payable_fen == 0
    at = compute(f, base_fen=BASE, total=60.0)  # exactly at zero_below: paid, 30 points deducted
    assert at.breakdown["rule"] == "deduct" and at.deduction_fen == 300_000
    assert at.payable_fen == 700_000 + 50_000  # the bonus step at 0 reached
    no_threshold = compute(Formula(full_at=90, per_point_pct=1, zero_below=None), base_fen=BASE, total=0.0)
    assert no_threshold.deduction_fen == 900_000 and no_threshold.payable_fen == 100_000


def test_missing_data_is_held_or_paid() -> None:
    held = compute(Formula(no_data="hold"), base_fen=BASE, total=None)
    assert held.payable_fen == 0 and held.breakdown["held"] is True and held.breakdown["rule"] == "held"
    paid = compute(Formula(no_data="pay"), base_fen=BASE, total=None)
    assert paid.payable_fen == BASE and paid.deduction_fen == 0 and paid.breakdown["rule"] == "no_data_paid"


def test_bonus_steps_and_their_cap() -> None:
    f = Formula(
        full_at=90,
        bonus=[BonusStep(at_least=95, pct=3), BonusStep(at_least=98, pct=8)],
        max_bonus_pct=5,
    )
    assert compute(f, base_fen=BASE, total=94.99).bonus_fen == 0
    r95 = compute(f, base_fen=BASE, total=95.0)
    assert r95.bonus_fen == 30_000 and r95.payable_fen == 1_030_000
    r98 = compute(f, base_fen=BASE, total=99.0)
    assert r98.bonus_fen == 50_000 and r98.breakdown["bonus_capped"] is True
    assert r98.payable_fen == ceiling_fen(f, BASE) == 1_050_000  # never above base + max bonus
    none = compute(Formula(full_at=90, bonus=[], max_bonus_pct=10), base_fen=BASE, total=100.0)
    assert none.bonus_fen == 0 and none.breakdown["bonus_step"] is None  # an empty bonus list pays no bonus


def test_base_zero_pays_nothing_whatever_the_score() -> None:
    f = Formula(bonus=[BonusStep(at_least=90, pct=10)], max_bonus_pct=10, no_data="pay")
    for total in (None, 0.0, 75.0, 90.0, 100.0):
        r = compute(f, base_fen=0, total=total)
        assert (r.base_fen, r.deduction_fen, r.bonus_fen, r.payable_fen) == (0, 0, 0, 0)


def test_negative_base_is_refused() -> None:
    with pytest.raises(ValueError):
        compute(Formula(), base_fen=-1, total=90.0)


def test_zero_below_above_full_at_is_refused() -> None:
    with pytest.raises(ValueError):
        Formula(full_at=80, zero_below=85)


def test_yuan() -> None:
    assert yuan(123_456_789) == "1,234,567.89"
    assert yuan(5) == "0.05" and yuan(0) == "0.00" and yuan(-150) == "-1.50"


pct = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 2))
score = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 2))


@st.composite
def formulas(draw: st.DrawFn) -> Formula:
    full_at = draw(score)
    zero_below = draw(st.none() | st.floats(min_value=0, max_value=full_at, allow_nan=False))
    steps = draw(st.lists(st.builds(BonusStep, at_least=score, pct=pct), max_size=4))
    return Formula(
        full_at=full_at,
        per_point_pct=draw(pct),
        max_deduction_pct=draw(pct),
        zero_below=zero_below,
        bonus=steps,
        max_bonus_pct=draw(pct),
        no_data=draw(st.sampled_from(["hold", "pay"])),
    )


@settings(max_examples=300, deadline=None)
@given(formulas(), st.integers(min_value=0, max_value=10**11), score, score)
def test_payable_is_bounded_and_monotonic_in_the_score(f: Formula, base: int, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    r_lo = compute(f, base_fen=base, total=lo)
    r_hi = compute(f, base_fen=base, total=hi)
    most = base * (1 + f.max_bonus_pct / 100)
    for r in (r_lo, r_hi):
        assert 0 <= r.payable_fen <= ceiling_fen(f, base) <= most + 0.5
        assert 0 <= r.deduction_fen <= base and r.bonus_fen >= 0
    assert r_lo.payable_fen <= r_hi.payable_fen
    missing = compute(f, base_fen=base, total=None)
    assert missing.payable_fen == (0 if f.no_data == "hold" else base)
