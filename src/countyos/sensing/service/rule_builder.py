"""The rule form of the operations staff ↔ the JSON condition the engine evaluates.

The form covers what most rules say: the value passes a threshold (optionally with a clearing level
and "for at least N minutes"), the value rises or falls faster than a rate, or the device is silent
for N reporting intervals. :func:`condition_from_form` writes exactly the JSON a person would have
typed; :func:`form_from_condition` reads a stored condition back into the form, or says it does not
fit (then the editor opens on the JSON, which stays available for combinations).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from countyos.core.i18n import N_

KINDS = {
    "threshold": N_("The value passes a threshold"),
    "rate": N_("The value changes faster than a rate"),
    "no_data": N_("The device sends nothing"),
}
COMPARISONS = {">": N_("above"), ">=": N_("at or above"), "<": N_("below"), "<=": N_("at or below")}
PER = {"60": N_("per minute"), "3600": N_("per hour"), "86400": N_("per day")}


@dataclass
class RuleForm:
    """The fields of the condition builder, as text (what the browser sends)."""

    kind: str = "threshold"
    op: str = ">"
    value: str = ""
    clear: str = ""
    minutes: str = ""
    per: str = "3600"
    intervals: str = "3"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class FormProblem(ValueError):
    """A field of the form that cannot become a condition: ``field`` and an English message id."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _number(text: str, field: str, *, required: bool = True, positive: bool = False) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        if required:
            raise FormProblem(field, N_("Enter a number"))
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise FormProblem(field, N_("Enter a number")) from exc
    if not math.isfinite(value) or (positive and value <= 0):
        raise FormProblem(field, N_("Enter a number greater than zero"))
    return int(value) if value.is_integer() else value


def condition_from_form(form: RuleForm) -> dict[str, Any]:
    if form.kind == "no_data":
        intervals = _number(form.intervals, "intervals", positive=True)
        return {"type": "no_data", "intervals": intervals}
    if form.op not in COMPARISONS:
        raise FormProblem("op", N_("Choose a comparison"))
    if form.kind == "rate":
        value = _number(form.value, "value")
        if form.per not in PER:
            raise FormProblem("per", N_("Choose a period"))
        return {"type": "rate", "op": form.op, "value": value, "per_seconds": int(form.per)}
    if form.kind != "threshold":
        raise FormProblem("kind", N_("Choose what the rule watches"))
    value = _number(form.value, "value")
    cond: dict[str, Any] = {"type": "threshold", "op": form.op, "value": value}
    clear = _number(form.clear, "clear", required=False)
    if clear is not None:
        assert value is not None
        if (form.op in (">", ">=") and clear > value) or (form.op in ("<", "<=") and clear < value):
            raise FormProblem("clear", N_("The clearing level must be on the normal side of the threshold"))
        cond["clear"] = clear
    minutes = _number(form.minutes, "minutes", required=False, positive=True)
    if minutes is not None:
        return {"type": "duration", "seconds": round(minutes * 60), "of": cond}
    return cond


def form_from_condition(cond: Any) -> RuleForm | None:
    """The form that writes ``cond``, or None when only JSON can say it (combinations, nesting)."""
    if not isinstance(cond, dict):
        return None

    def text(v: Any) -> str:
        return "" if v is None else f"{v:g}" if isinstance(v, float) else str(v)

    t = cond.get("type")
    if t == "no_data" and set(cond) <= {"type", "intervals"}:
        return RuleForm(kind="no_data", intervals=text(cond.get("intervals")))
    if t == "rate" and set(cond) <= {"type", "op", "value", "per_seconds"} and str(cond.get("per_seconds")) in PER:
        op, value, per = cond.get("op", ">"), text(cond.get("value")), str(cond["per_seconds"])
        return RuleForm(kind="rate", op=op, value=value, per=per)
    minutes = ""
    if t == "duration" and set(cond) <= {"type", "seconds", "of"}:
        seconds = cond.get("seconds")
        if not isinstance(seconds, int | float) or seconds % 60:
            return None
        minutes, cond = text(seconds // 60), cond.get("of")
        if not isinstance(cond, dict):
            return None
    if cond.get("type") == "threshold" and set(cond) <= {"type", "op", "value", "clear"}:
        if cond.get("op") not in COMPARISONS:
            return None
        value, clear = text(cond.get("value")), text(cond.get("clear"))
        return RuleForm(kind="threshold", op=cond["op"], value=value, clear=clear, minutes=minutes)
    return None
