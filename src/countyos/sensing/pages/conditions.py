"""A rule's JSON condition as a sentence people read: "水位 > 3.5 m 持续 10 分钟"."""

from __future__ import annotations

from typing import Any

from countyos.core import i18n
from countyos.core.i18n import N_
from countyos.sensing.service.rule_builder import PER


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def describe(condition: Any, *, what: str | None = None, unit: str | None = None) -> str:
    """The condition in the current locale; WHAT is the watched quantity (a datastream's or observed
    property's name), UNIT its unit symbol."""
    _ = i18n.gettext
    subject = what or _(N_("the value"))
    u = f" {unit}" if unit else ""
    if not isinstance(condition, dict):
        return _(N_("(no condition)"))
    kind = condition.get("type")
    if kind == "threshold":
        text = f"{subject} {condition.get('op')} {_num(condition.get('value'))}{u}"
        if condition.get("clear") is not None:
            text += _(N_(" (clears at %(clear)s)"), clear=f"{_num(condition['clear'])}{u}")
        return text
    if kind == "duration":
        inner = describe(condition.get("of"), what=what, unit=unit)
        seconds = condition.get("seconds") or 0
        if isinstance(seconds, int | float) and seconds % 60 == 0:
            return _(N_("%(condition)s for %(n)s minutes"), condition=inner, n=_num(seconds // 60))
        return _(N_("%(condition)s for %(n)s seconds"), condition=inner, n=_num(seconds))
    if kind == "rate":
        per = str(condition.get("per_seconds", 3600))
        per_text = _(PER[per]) if per in PER else _(N_("per %(n)s seconds"), n=per)
        return _(
            N_("%(what)s changes %(op)s %(value)s %(per)s"),
            what=subject,
            op=condition.get("op"),
            value=f"{_num(condition.get('value'))}{u}",
            per=per_text,
        )
    if kind == "no_data":
        return _(N_("no data for %(n)s reporting intervals"), n=_num(condition.get("intervals")))
    if kind in ("all", "any"):
        parts = [describe(c, what=what, unit=unit) for c in condition.get("of") or []]
        joiner = _(N_(" and ")) if kind == "all" else _(N_(" or "))
        return joiner.join(f"({p})" if len(parts) > 1 else p for p in parts)
    if kind == "not":
        return _(N_("not (%(condition)s)"), condition=describe(condition.get("of"), what=what, unit=unit))
    return _(N_("(a condition of an unknown type)"))
