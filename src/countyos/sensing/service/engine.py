"""The one small engine that evaluates rules written as JSON (no code in rules).

Conditions:

* ``{"type": "threshold", "op": ">", "value": 3.0, "clear": 2.8}`` — holds when the value passes
  ``value``; with ``clear`` (hysteresis) it keeps holding until the value is back past ``clear``.
* ``{"type": "duration", "seconds": 600, "of": <condition>}`` — the inner condition has held for at
  least this long ("above 3.0 m for 10 minutes").
* ``{"type": "rate", "op": ">", "value": 0.5, "per_seconds": 3600}`` — rate of change between two
  consecutive observations, scaled to ``per_seconds`` (0.5 m per hour).
* ``{"type": "no_data", "intervals": 3}`` — no observation for 3 expected reporting intervals of the
  device (checked by a timer, see :func:`no_data_due`).
* ``{"type": "all", "of": [...]}``, ``{"type": "any", "of": [...]}``, ``{"type": "not", "of": <c>}``.

:func:`step` is pure: it takes the condition, the rule's saved state and one observation, and says
whether the condition holds; the state (a small JSON dict) is updated in place. The same function
runs on ingest, in the timer and in the rule preview over past data, so a preview shows exactly what
the rule would have done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _gt(a: float, b: float) -> bool:
    return a > b


def _ge(a: float, b: float) -> bool:
    return a >= b


def _lt(a: float, b: float) -> bool:
    return a < b


def _le(a: float, b: float) -> bool:
    return a <= b


OPS: dict[str, Callable[[float, float], bool]] = {">": _gt, ">=": _ge, "<": _lt, "<=": _le}
TYPES = ("threshold", "duration", "rate", "no_data", "all", "any", "not")


def validate(cond: Any, path: str = "condition") -> list[str]:
    """Problems of a condition, in words an operator can act on (empty when it is valid)."""
    if not isinstance(cond, dict):
        return [f"{path}: must be an object"]
    t = cond.get("type")
    if t not in TYPES:
        return [f"{path}.type: one of {', '.join(TYPES)}"]
    errs: list[str] = []

    def num(key: str, *, positive: bool = False, required: bool = True) -> None:
        v = cond.get(key)
        if v is None and not required:
            return
        if isinstance(v, bool) or not isinstance(v, int | float):
            errs.append(f"{path}.{key}: a number is required")
        elif positive and v <= 0:
            errs.append(f"{path}.{key}: must be greater than 0")

    if t in ("threshold", "rate"):
        if cond.get("op") not in OPS:
            errs.append(f"{path}.op: one of {', '.join(OPS)}")
        num("value")
    if t == "threshold":
        num("clear", required=False)
        if not errs and cond.get("clear") is not None:
            op, v, c = cond["op"], cond["value"], cond["clear"]
            if (op in (">", ">=") and c > v) or (op in ("<", "<=") and c < v):
                errs.append(f"{path}.clear: must be on the other side of value (hysteresis)")
    if t == "rate":
        num("per_seconds", positive=True)
    if t == "duration":
        num("seconds", positive=True)
        errs += validate(cond.get("of"), f"{path}.of")
    if t == "no_data":
        num("intervals", positive=True)
    if t in ("all", "any"):
        parts = cond.get("of")
        if not isinstance(parts, list) or not parts:
            errs.append(f"{path}.of: a list of conditions")
        else:
            for i, c in enumerate(parts):
                errs += validate(c, f"{path}.of[{i}]")
    if t == "not":
        errs += validate(cond.get("of"), f"{path}.of")
    return errs


def has_no_data(cond: dict[str, Any]) -> int | None:
    """The ``intervals`` of a no-data condition at the top of a rule (checked by the timer)."""
    return int(cond["intervals"]) if cond.get("type") == "no_data" else None


def step(cond: dict[str, Any], state: dict[str, Any], t_us: int, value: float) -> bool:
    t = cond["type"]
    if t == "threshold":
        op = OPS[cond["op"]]
        on = bool(state.get("on"))
        if not on:
            on = op(value, cond["value"])
        elif cond.get("clear") is not None:
            on = op(value, cond["clear"]) or value == cond["clear"]
        else:
            on = op(value, cond["value"])
        state["on"] = on
        return on
    if t == "duration":
        inner = state.setdefault("of", {})
        holds = step(cond["of"], inner, t_us, value)
        if not holds:
            state["since"] = None
            return False
        since = state.get("since")
        if since is None:
            state["since"] = since = t_us
        return bool(t_us - since >= cond["seconds"] * 1_000_000)
    if t == "rate":
        prev_t, prev_v = state.get("t"), state.get("v")
        state["t"], state["v"] = t_us, value
        if prev_t is None or prev_v is None or t_us <= prev_t:
            return bool(state.get("on"))
        rate = (value - prev_v) / ((t_us - prev_t) / 1_000_000) * cond["per_seconds"]
        state["on"] = OPS[cond["op"]](rate, cond["value"])
        return bool(state["on"])
    if t == "no_data":
        return False  # data arrived: a no-data condition does not hold
    if t in ("all", "any"):
        subs = state.setdefault("of", [{} for _ in cond["of"]])
        results = [step(c, subs[i], t_us, value) for i, c in enumerate(cond["of"])]
        return all(results) if t == "all" else any(results)
    if t == "not":
        return not step(cond["of"], state.setdefault("of", {}), t_us, value)
    raise ValueError(t)


@dataclass(frozen=True)
class Event:
    kind: str  # raise | clear
    t_us: int
    value: float


def run(
    cond: dict[str, Any], state: dict[str, Any], firing: bool, points: list[tuple[int, float]]
) -> tuple[bool, list[Event]]:
    """Feed time-ordered points; returns the final firing flag and the raise/clear events."""
    events: list[Event] = []
    for t_us, value in points:
        holds = step(cond, state, t_us, value)
        if holds and not firing:
            events.append(Event("raise", t_us, value))
        elif firing and not holds:
            events.append(Event("clear", t_us, value))
        firing = holds
    return firing, events


def no_data_due(intervals: int, expected_interval_s: int | None, last_us: int | None, now_us: int) -> bool:
    if not expected_interval_s:
        return False
    if last_us is None:
        return False
    return now_us - last_us > intervals * expected_interval_s * 1_000_000
