"""A KPI's score from its value: the scoring rule (``schemas.kpis.ScoringRule``) as data, pure.

- ``linear``: 100 at the target or better, 0 at ``zero_at`` or worse (default: 20 worse than the target),
  a straight line between;
- ``steps``: the points of the best step the value reaches (at least the step's value; for a
  smaller-is-better indicator at most), else 0;
- ``target``: 100 when the target is met, else 0.

Scores are clamped to 0 … 100 and rounded to two decimals; no value (no data) gives no score.
"""

from __future__ import annotations

from typing import Any

from countyos.programme.schemas.kpis import ScoringRule

DEFAULT_SPAN = 20.0


def rule_of(data: dict[str, Any] | ScoringRule | None) -> ScoringRule:
    if isinstance(data, ScoringRule):
        return data
    return ScoringRule.model_validate(data or {})


def _meets(value: float, threshold: float, negative: bool) -> bool:
    return value <= threshold if negative else value >= threshold


def _clamp(x: float) -> float:
    return round(min(100.0, max(0.0, x)), 2)


def score(rule: ScoringRule, value: float | None, target: float, negative: bool) -> float | None:
    if value is None:
        return None
    if rule.kind == "target":
        return 100.0 if _meets(value, target, negative) else 0.0
    if rule.kind == "steps":
        ordered = sorted(rule.steps, key=lambda s: s[0], reverse=not negative)
        for threshold, points in ordered:
            if _meets(value, threshold, negative):
                return _clamp(points)
        return 0.0
    # linear
    zero_at = (
        rule.zero_at if rule.zero_at is not None else (target + DEFAULT_SPAN if negative else target - DEFAULT_SPAN)
    )
    if _meets(value, target, negative):
        return 100.0
    span = (zero_at - target) if negative else (target - zero_at)
    if span <= 0:  # a zero point on the wrong side of the target: the target alone decides
        return 0.0
    gap = (value - target) if negative else (target - value)
    return _clamp(100.0 * (1.0 - gap / span))
