"""Quality rules as data: their kinds' parameters checked, the failures and the report."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from countyos.core.i18n import N_, gettext
from countyos.data.codes import RuleKind

MAX_RULES = 200
MAX_CODE_VALUES = 10_000
MAX_VALUE_KEPT = 200  # characters of a failing value kept in the report
PHONE = re.compile(
    r"(?:\+86[- ]?)?1[3-9][0-9]{9}"  # mobile
    # landline: area code, then a 7- or 8-digit number that starts 2–9 (0 and 1 begin no local number)
    r"|(?:0[1-9][0-9]{1,2}[- ]?|\(0[1-9][0-9]{1,2}\))[2-9][0-9]{6,7}(?:-[0-9]{1,6})?"  # 0570-8123456, (010)62345678
    r"|\+86[- ]?0?[1-9][0-9]{1,2}[- ]?[2-9][0-9]{6,7}(?:-[0-9]{1,6})?",  # +86 570 1234567
    re.ASCII,
)
_PARAMS: dict[RuleKind, frozenset[str]] = {
    RuleKind.CODE_LIST: frozenset({"values"}),
    RuleKind.RANGE: frozenset({"min", "max"}),
    RuleKind.DATE: frozenset({"min", "max"}),
}


class RuleError(ValueError):
    """A rule that cannot be used: an English message id and its parameters (translate with ``message``)."""

    def __init__(self, message: str, /, **params: Any) -> None:
        self.message_id, self.params = message, params
        super().__init__(message % params if params else message)

    @property
    def message(self) -> str:
        return gettext(self.message_id, **self.params)


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    column: str  # InferredColumn.name (IN_COUNTY: a GEOMETRY column, or "lon,lat" two columns)
    params: dict[str, Any] = field(default_factory=dict)  # CODE_LIST: values; RANGE: min, max; DATE: min, max


@dataclass(frozen=True)
class Failure:
    row: int  # 1-based data row number as in the file (header not counted)
    column: str
    rule: RuleKind
    value: str | None  # what was there (truncated to MAX_VALUE_KEPT characters)


@dataclass(frozen=True)
class QualityReport:
    rows_checked: int
    rows_failed: int
    failures: list[Failure]  # the first ones (``keep_failures``)
    counts: dict[tuple[str, RuleKind], int]  # every failure, per (column, rule)
    score: float  # rows passed / rows checked; 1.0 when nothing was checked

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON (counts keyed ``column:rule``)."""
        return {
            "rows_checked": self.rows_checked,
            "rows_failed": self.rows_failed,
            "score": self.score,
            "counts": {f"{column}:{kind.value}": n for (column, kind), n in self.counts.items()},
            "failures": [
                {"row": f.row, "column": f.column, "rule": f.rule.value, "value": f.value} for f in self.failures
            ],
        }


# --- parsing -----------------------------------------------------------------------------------------


def _number(value: Any, n: int, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleError(N_("Rule %(n)s: %(param)s must be a number"), n=n, param=name)
    return float(value)


def _iso_date(value: Any, n: int, name: str) -> str:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise RuleError(N_("Rule %(n)s: %(param)s must be a date written 2024-05-01"), n=n, param=name) from None
    return value


def _params(kind: RuleKind, params: dict[str, Any], n: int) -> dict[str, Any]:
    unknown = sorted(set(params) - _PARAMS.get(kind, frozenset()))
    if unknown:
        raise RuleError(N_("Rule %(n)s: unknown parameter %(param)s"), n=n, param=str(unknown[0])[:50])
    if kind is RuleKind.CODE_LIST:
        values = params.get("values")
        if not isinstance(values, list) or not values:
            raise RuleError(N_("Rule %(n)s: a code list needs its values"), n=n)
        if len(values) > MAX_CODE_VALUES:
            raise RuleError(N_("Rule %(n)s: a code list holds at most %(max)s values"), n=n, max=MAX_CODE_VALUES)
        if any(isinstance(v, bool) or not isinstance(v, str | int) for v in values):
            raise RuleError(N_("Rule %(n)s: the values of a code list are text or whole numbers"), n=n)
        return {"values": [str(v) for v in values]}
    if kind is RuleKind.RANGE:
        if "min" not in params and "max" not in params:
            raise RuleError(N_("Rule %(n)s: a range needs a minimum, a maximum or both"), n=n)
        bounds: dict[str, Any] = {k: _number(params[k], n, k) for k in ("min", "max") if k in params}
        if bounds.get("min", -math.inf) > bounds.get("max", math.inf):
            raise RuleError(N_("Rule %(n)s: the minimum is above the maximum"), n=n)
        return bounds
    if kind is RuleKind.DATE:
        dates = {k: _iso_date(params[k], n, k) for k in ("min", "max") if params.get(k) is not None}
        if dates.get("min", "0000") > dates.get("max", "9999"):
            raise RuleError(N_("Rule %(n)s: the earliest date is after the latest"), n=n)
        return dates
    return {}


def parse_rules(raw: list[dict[str, Any]] | None) -> list[Rule]:
    """Rules from their JSON: a list of ``{"kind", "column", "params"}``. Raises :class:`RuleError` (a
    ValueError) naming the rule's position; whether the columns exist is checked by :class:`Checker`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RuleError(N_("Quality rules are a list"))
    if len(raw) > MAX_RULES:
        raise RuleError(N_("At most %(max)s quality rules"), max=MAX_RULES)
    rules = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise RuleError(N_("Rule %(n)s is not an object"), n=n)
        unknown = sorted(set(item) - {"kind", "column", "params"})
        if unknown:
            raise RuleError(N_("Rule %(n)s: unknown field %(field)s"), n=n, field=str(unknown[0])[:50])
        try:
            kind = RuleKind(str(item.get("kind")))
        except ValueError:
            raise RuleError(N_("Rule %(n)s: unknown kind %(kind)s"), n=n, kind=str(item.get("kind"))[:50]) from None
        column = item.get("column")
        if not isinstance(column, str) or not column.strip() or len(column) > 200:
            raise RuleError(N_("Rule %(n)s: the column is missing"), n=n)
        column = column.strip()
        if "," in column:
            parts = [p.strip() for p in column.split(",")]
            if kind is not RuleKind.IN_COUNTY or len(parts) != 2 or not all(parts):
                raise RuleError(N_("Rule %(n)s: only an in-county rule takes two columns, as lon,lat"), n=n)
            column = ",".join(parts)
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise RuleError(N_("Rule %(n)s: the parameters are an object"), n=n)
        rules.append(Rule(kind=kind, column=column, params=_params(kind, params, n)))
    return rules
