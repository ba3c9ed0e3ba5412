"""Scoring rules at their edges, the weighted total by the missing-data rule, a contract's periods, the
assessment's transition table, and the KPI catalogue defined on the operations view's indicators."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from countyos.core.actor import Actor
from countyos.core.errors import ActionForbidden, TransitionNotAllowed
from countyos.ioc.service import indicators
from countyos.programme import permissions as P
from countyos.programme.models.kpis import AssessmentState
from countyos.programme.models.projects import AssessmentPeriod, Contract
from countyos.programme.schemas.kpis import ScoringRule
from countyos.programme.service import kpis_assess, kpis_catalogue, kpis_lifecycle
from countyos.programme.service.kpis_scoring import score


def test_linear_full_at_target_zero_at_zero_point_line_between() -> None:
    r = ScoringRule(kind="linear", zero_at=70)
    assert score(r, 90.0, 90, False) == 100.0
    assert score(r, 99.0, 90, False) == 100.0
    assert score(r, 70.0, 90, False) == 0.0
    assert score(r, 50.0, 90, False) == 0.0
    assert score(r, 80.0, 90, False) == 50.0
    assert score(r, 85.5, 90, False) == 77.5
    assert score(r, None, 90, False) is None


def test_linear_default_zero_point_is_twenty_worse() -> None:
    r = ScoringRule()
    assert score(r, 80.0, 90, False) == 50.0  # zero at 70
    assert score(r, 10.0, 0, True) == 50.0  # smaller is better: zero at 20
    assert score(r, 0.0, 0, True) == 100.0
    assert score(r, 25.0, 0, True) == 0.0


def test_linear_smaller_is_better_and_a_zero_point_on_the_wrong_side() -> None:
    r = ScoringRule(kind="linear", zero_at=10)
    assert score(r, 2.0, 0, True) == 80.0
    assert score(r, 10.0, 0, True) == 0.0
    bad = ScoringRule(kind="linear", zero_at=95)  # above the target of a larger-is-better measure
    assert score(bad, 92.0, 90, False) == 100.0
    assert score(bad, 89.9, 90, False) == 0.0


def test_steps_take_the_best_step_reached_at_its_edge() -> None:
    r = ScoringRule(kind="steps", steps=[(90, 60), (98, 100), (95, 80)])  # order given does not matter
    assert score(r, 98.0, 95, False) == 100.0
    assert score(r, 97.99, 95, False) == 80.0
    assert score(r, 95.0, 95, False) == 80.0
    assert score(r, 90.0, 95, False) == 60.0
    assert score(r, 89.99, 95, False) == 0.0
    neg = ScoringRule(kind="steps", steps=[(0, 100), (2, 70), (5, 40)])
    assert score(neg, 0.0, 0, True) == 100.0
    assert score(neg, 2.0, 0, True) == 70.0
    assert score(neg, 5.0, 0, True) == 40.0
    assert score(neg, 5.5, 0, True) == 0.0


def test_target_rule_meets_or_not() -> None:
    r = ScoringRule(kind="target")
    assert score(r, 98.0, 98, False) == 100.0
    assert score(r, 97.99, 98, False) == 0.0
    assert score(r, 3.0, 3, True) == 100.0
    assert score(r, 4.0, 3, True) == 0.0


def test_rules_are_validated() -> None:
    with pytest.raises(ValidationError):
        ScoringRule(kind="steps")
    with pytest.raises(ValidationError):
        ScoringRule(kind="steps", steps=[(90, 120)])
    with pytest.raises(ValidationError):
        ScoringRule.model_validate({"kind": "curve"})
    with pytest.raises(ValidationError):
        ScoringRule.model_validate({"kind": "linear", "extra": 1})


def test_total_by_the_missing_rule() -> None:
    scores = [(80.0, 50.0), (None, 30.0), (100.0, 20.0)]
    assert kpis_assess.total_of(scores, "reweight") == round((80 * 50 + 100 * 20) / 70, 2)
    assert kpis_assess.total_of(scores, "zero") == 60.0
    assert kpis_assess.total_of(scores, "full") == 90.0
    assert kpis_assess.total_of([(None, 50.0), (None, 50.0)], "full") is None
    assert kpis_assess.total_of([], "reweight") is None
    assert kpis_assess.total_of([(0.0, 100.0)], "reweight") == 0.0


def _contract(starts: date, ends: date, period: AssessmentPeriod = AssessmentPeriod.MONTH) -> Contract:
    return Contract(starts_on=starts, ends_on=ends, period=period)


def test_month_periods_partial_first_month_and_only_ended_ones() -> None:
    c = _contract(date(2026, 2, 10), date(2026, 12, 31))
    spans = kpis_assess.periods(c, date(2026, 5, 1))
    assert spans == [(date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 3, 1), date(2026, 4, 1)),
                     (date(2026, 4, 1), date(2026, 5, 1))]  # fmt: skip
    assert kpis_assess.periods(c, date(2026, 4, 30))[-1] == (date(2026, 3, 1), date(2026, 4, 1))
    assert kpis_assess.measured_days(c, date(2026, 2, 1), date(2026, 3, 1)) == (date(2026, 2, 10), date(2026, 2, 28))
    assert kpis_assess.periods(c, date(2026, 2, 20)) == []


def test_periods_stop_at_the_contract_end() -> None:
    c = _contract(date(2026, 1, 1), date(2026, 3, 15))
    spans = kpis_assess.periods(c, date(2027, 1, 1))
    assert [s for s, _ in spans] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert kpis_assess.measured_days(c, *spans[-1]) == (date(2026, 3, 1), date(2026, 3, 15))
    assert len(kpis_assess.periods(c, date(2026, 3, 15))) == 2  # its last day not yet over
    assert len(kpis_assess.periods(c, date(2026, 3, 16))) == 3


def test_quarter_periods_and_labels() -> None:
    c = _contract(date(2026, 2, 10), date(2026, 12, 31), AssessmentPeriod.QUARTER)
    spans = kpis_assess.periods(c, date(2026, 10, 1))
    assert spans == [(date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 7, 1)),
                     (date(2026, 7, 1), date(2026, 10, 1))]  # fmt: skip
    assert kpis_assess.measured_days(c, *spans[0]) == (date(2026, 2, 10), date(2026, 3, 31))
    assert kpis_assess.period_label(AssessmentPeriod.QUARTER, date(2026, 7, 1)) == "2026年第3季度"
    assert kpis_assess.period_label(AssessmentPeriod.MONTH, date(2026, 11, 1)) == "2026年11月"


def test_transition_table() -> None:
    office = Actor(id=None, name="o", permissions=frozenset({P.ASSESS}))
    finance = Actor(id=None, name="f", permissions=frozenset({P.FINANCE}))
    S = AssessmentState
    assert kpis_lifecycle.target(S.COMPUTED, "approve", office) == S.APPROVED
    assert kpis_lifecycle.target(S.APPROVED, "lock", finance) == S.LOCKED
    assert kpis_lifecycle.target(S.APPROVED, "return", finance) == S.COMPUTED
    assert kpis_lifecycle.target(S.LOCKED, "amend", finance) == S.LOCKED
    with pytest.raises(TransitionNotAllowed):
        kpis_lifecycle.target(S.LOCKED, "approve", office)
    with pytest.raises(ActionForbidden):
        kpis_lifecycle.target(S.COMPUTED, "approve", finance)
    assert kpis_lifecycle.allowed(S.APPROVED, finance) == ["lock", "return"]
    assert {"return", "amend"} == kpis_lifecycle.NEEDS_REASON


def test_catalogue_reads_operations_view_indicators_over_the_chosen_period() -> None:
    codes = {k.code for k in kpis_catalogue.KPIS}
    assert {"on_time_rate", "closure_rate", "satisfaction", "devices_online", "data_fresh", "services_good_rate",
            "applications_on_time", "hazards_overdue"} <= codes  # fmt: skip
    for k in kpis_catalogue.KPIS:
        ind = indicators.BY_CODE[k.indicator]
        assert ind.window == "period"
        assert k.unit == ("%" if ind.whole else "count")
        ScoringRule.model_validate(k.scoring)
    assert ("active_users" in codes) == ("active_users" in indicators.BY_CODE)
