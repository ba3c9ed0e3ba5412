"""Surface-water classes of GB 3838-2002 (表1, the basic items): pure functions over the table in
``data/gb3838_basic.json``.

A value equal to a limit belongs to that class (≤ for upper limits, ≥ for 溶解氧, whose direction is
reversed); a value past the class V limit is 劣V; pH outside 6–9 is 劣V. A sample's class is the worst
class of its assessed parameters; 超标项目 are the parameters worse than the target class, each with
超标倍数 = (value − limit) / limit of the target class (none for 溶解氧 and pH). 水温 has no class.
总氮 is assessed for lakes and reservoirs only: for a river it is classified and reported but left out
of the sample's class (``assessed`` per item in the data).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

DATA = Path(__file__).resolve().parent.parent / "data" / "gb3838_basic.json"
CLASSES: tuple[str, ...] = ("I", "II", "III", "IV", "V", "劣V")
WORST = "劣V"
LABELS = {"I": "Ⅰ类", "II": "Ⅱ类", "III": "Ⅲ类", "IV": "Ⅳ类", "V": "Ⅴ类", "劣V": "劣Ⅴ类"}
COLOURS = {"I": "#0070c0", "II": "#0070c0", "III": "#00b050", "IV": "#ffc000", "V": "#ff7f00", "劣V": "#ff0000"}
Waterbody = Literal["river", "lake"]
WATERBODIES: tuple[str, ...] = ("river", "lake")
MAX_VALUE = 1e9  # no basic item is measured in numbers this large (粪大肠菌群 in 个/L included)


class UnknownParameter(ValueError):
    """A code that is not a basic item of 表1."""


@dataclass(frozen=True)
class Item:
    """One basic item of 表1: its limits per class I–V (the lake limits where they differ)."""

    code: str
    no: int
    name: str
    name_en: str
    unit: str
    direction: Literal["max", "min", "range", "note"]
    limits: tuple[float, ...] = ()
    limits_lake: tuple[float, ...] = ()
    range: tuple[float, float] | None = None
    assessed: tuple[str, ...] = WATERBODIES
    aliases: tuple[str, ...] = ()
    note: str = ""

    def limits_for(self, waterbody: str) -> tuple[float, ...]:
        return self.limits_lake if waterbody == "lake" and self.limits_lake else self.limits


@dataclass(frozen=True)
class ParameterClass:
    code: str
    value: float
    cls: str | None  # None: no class (水温)
    assessed: bool  # counted in the sample's class
    limit: float | None = None  # the target class's limit, when a target was given
    exceeds: bool = False
    multiple: float | None = None  # 超标倍数


@dataclass(frozen=True)
class SampleClass:
    waterbody: str
    target: str | None
    parameters: dict[str, ParameterClass]
    cls: str | None  # the worst class of the assessed parameters; None with none assessed
    exceeding: list[ParameterClass] = field(default_factory=list)
    meets: bool | None = None  # None without a target or a class

    def as_dict(self) -> dict[str, Any]:
        return {
            "waterbody": self.waterbody,
            "target": self.target,
            "cls": self.cls,
            "cls_label": LABELS.get(self.cls or ""),
            "meets": self.meets,
            "parameters": {
                code: {
                    "value": p.value,
                    "cls": p.cls,
                    "cls_label": LABELS.get(p.cls or ""),
                    "assessed": p.assessed,
                    "exceeds": p.exceeds,
                    "multiple": p.multiple,
                    "limit": p.limit,
                }
                for code, p in self.parameters.items()
            },
            "exceeding": [
                {"code": p.code, "cls": p.cls, "multiple": p.multiple, "limit": p.limit} for p in self.exceeding
            ],
        }


@cache
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


@cache
def items() -> dict[str, Item]:
    """The basic items by code, in the order of 表1."""
    out: dict[str, Item] = {}
    for raw in table()["items"]:
        out[raw["code"]] = Item(
            code=raw["code"],
            no=int(raw["no"]),
            name=raw["name"],
            name_en=raw["name_en"],
            unit=raw["unit"],
            direction=raw["direction"],
            limits=tuple(float(x) for x in raw.get("limits", ())),
            limits_lake=tuple(float(x) for x in raw.get("limits_lake", ())),
            range=(float(raw["range"][0]), float(raw["range"][1])) if "range" in raw else None,
            assessed=tuple(raw.get("assessed", WATERBODIES)),
            aliases=tuple(raw.get("aliases", ())),
            note=raw.get("note", ""),
        )
    return out


@cache
def code_of_name() -> dict[str, str]:
    """Chinese names, English names, aliases and codes (without spaces) → code, for file headers."""
    out: dict[str, str] = {}
    for it in items().values():
        for word in (it.code, it.name, it.name_en, *it.aliases):
            out["".join(word.split())] = it.code
    return out


def rank(cls: str) -> int:
    """1 for I … 5 for V, 6 for 劣V."""
    return CLASSES.index(cls) + 1


def worse(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if rank(a) >= rank(b) else b


def item(code: str) -> Item:
    found = items().get(code)
    if found is None:
        raise UnknownParameter(code)
    return found


def _check(value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or v > MAX_VALUE:
        raise ValueError("a concentration is a finite number, not negative")
    return v


def classify_parameter(code: str, value: float, waterbody: str = "river") -> str | None:
    """The class of one value ("I"…"V", "劣V"), or None for an item without classes (水温)."""
    it = item(code)
    v = _check(value)
    if it.direction == "note":
        return None
    if it.direction == "range":
        assert it.range is not None
        lo, hi = it.range
        return CLASSES[0] if lo <= v <= hi else WORST
    limits = it.limits_for(waterbody)
    for cls, limit in zip(CLASSES, limits, strict=False):
        if (v <= limit) if it.direction == "max" else (v >= limit):
            return cls
    return WORST


def target_limit(code: str, target: str, waterbody: str = "river") -> float | None:
    """The limit of the target class for one item (None for pH, 水温 and 劣V)."""
    it = item(code)
    if target == WORST or it.direction not in ("max", "min"):
        return None
    return it.limits_for(waterbody)[rank(target) - 1]


def is_assessed(code: str, waterbody: str) -> bool:
    it = item(code)
    return it.direction != "note" and waterbody in it.assessed


def classify_sample(values: dict[str, float], waterbody: str = "river", target: str | None = None) -> SampleClass:
    """Every parameter's class, the sample's class (the worst assessed), 超标项目 and 超标倍数 against TARGET."""
    if waterbody not in WATERBODIES:
        raise ValueError("waterbody is river or lake")
    if target is not None and target not in CLASSES:
        raise ValueError("target is one of I, II, III, IV, V, 劣V")
    order = list(items())
    parameters: dict[str, ParameterClass] = {}
    overall: str | None = None
    exceeding: list[ParameterClass] = []
    for code in sorted(values, key=lambda c: order.index(c) if c in items() else len(order)):
        it = item(code)
        v = _check(values[code])
        cls = classify_parameter(code, v, waterbody)
        assessed = is_assessed(code, waterbody)
        limit = target_limit(code, target, waterbody) if target is not None else None
        exceeds = bool(assessed and cls is not None and target is not None and rank(cls) > rank(target))
        multiple = None
        if exceeds and limit and it.direction == "max":
            multiple = round((v - limit) / limit, 2)
        p = ParameterClass(code, v, cls, assessed, limit, exceeds, multiple)
        parameters[code] = p
        if assessed:
            overall = worse(overall, cls)
        if exceeds:
            exceeding.append(p)
    meets = None if target is None or overall is None else rank(overall) <= rank(target)
    return SampleClass(waterbody, target, parameters, overall, exceeding, meets)


def classes_worse(cls: str, target: str) -> int:
    """How many classes CLS is worse than TARGET (0 when it meets it)."""
    return max(0, rank(cls) - rank(target))
