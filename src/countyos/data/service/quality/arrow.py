"""The rules Arrow answers over a column it holds: not null, code list, range, date, check characters, phone,
in the county; the others are Python's (``columns``)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from countyos.data.codes import FieldType, RuleKind
from countyos.data.service.quality.columns import _USCC_VALUE, _USCC_WEIGHTS, PairTest
from countyos.data.service.quality.rules import PHONE, Rule

# --- checking columns held by Arrow -------------------------------------------------------------------


def _positions(mask: pa.Array) -> list[int]:
    """The positions where MASK (booleans, maybe with nulls: false) is true."""
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False)).tolist()


def _numeric(values: pa.Array | list[Any]) -> pa.Array | None:
    if isinstance(values, pa.Array) and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return pc.cast(values, pa.float64())
    return None


def _uscc_arrow(column: pa.Array) -> list[int] | None:
    """``_uscc_failing`` over the bytes of a column of 18-character ASCII codes, without Python strings;
    None for another column (a code missing, of another length, or not ASCII)."""
    if column.null_count or len(column) == 0:
        return None
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset : column.offset + len(column) + 1]
    if not (np.diff(offsets) == 18).all():
        return None
    chars = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(len(column), 18)
    if (chars >= 128).any():
        return None
    digits = _USCC_VALUE[chars]
    check = (31 - (digits[:, :17] @ _USCC_WEIGHTS) % 31) % 31
    valid = (digits >= 0).all(axis=1) & (digits[:, 17] == check)
    return np.flatnonzero(~valid).tolist()


_PHONE_RE2 = f"^(?:{PHONE.pattern})$"  # RE2's $ is the end of the text, as fullmatch asks


def _arrow_failing(rule: Rule, column: pa.Array, typed: pa.Array | list[Any], kind: FieldType) -> list[int] | None:
    """The positions failing RULE, found by Arrow; None when Python is to look (the rule's own way)."""
    if rule.kind is RuleKind.NOT_NULL:
        return _positions(pc.is_null(column)) if column.null_count else []
    if rule.kind is RuleKind.CODE_LIST:
        codes = pa.array(rule.params["values"], type=pa.string())
        return _positions(pc.and_(pc.is_valid(column), pc.invert(pc.is_in(column, value_set=codes))))
    if rule.kind is RuleKind.RANGE:
        numbers = _numeric(typed)
        if numbers is None:
            return None
        low, high = rule.params.get("min", -math.inf), rule.params.get("max", math.inf)
        return _positions(pc.or_(pc.less(numbers, low), pc.greater(numbers, high)))
    if rule.kind is RuleKind.DATE:
        if kind is not FieldType.DATE or not isinstance(typed, pa.Array):
            return None
        out = pa.array(np.zeros(len(typed), dtype=bool))
        for bound, beyond in (("min", pc.less), ("max", pc.greater)):
            if rule.params.get(bound):
                out = pc.or_(out, beyond(typed, pa.scalar(date.fromisoformat(rule.params[bound]), pa.date32())))
        return _positions(out)
    if rule.kind is RuleKind.USCC:
        return _uscc_arrow(column)
    if rule.kind is RuleKind.PHONE:
        return _positions(pc.and_(pc.is_valid(column), pc.invert(pc.match_substring_regex(column, _PHONE_RE2))))
    return None


def _arrow_lonlat_failing(
    python_way: PairTest,
    lons: pa.Array,
    lats: pa.Array,
    lon_typed: pa.Array | list[Any],
    lat_typed: pa.Array | list[Any],
) -> list[int]:
    x, y = _numeric(lon_typed), _numeric(lat_typed)
    if x is None or y is None:
        return python_way(lons.to_pylist(), lats.to_pylist(), None, None)
    area = python_way.area  # type: ignore[attr-defined]
    has_x = np.asarray(pc.is_valid(x).to_numpy(zero_copy_only=False))
    has_y = np.asarray(pc.is_valid(y).to_numpy(zero_copy_only=False))
    both = has_x & has_y
    inside = np.zeros(len(x), dtype=bool)
    if both.any():
        xs = pc.fill_null(x, math.nan).to_numpy()
        ys = pc.fill_null(y, math.nan).to_numpy()
        inside[both] = area.contains_many(xs[both], ys[both])
    return np.flatnonzero((has_x != has_y) | (both & ~inside)).tolist()


# The type of column whose converted values a rule reads (the same as it would read from the text).
