"""Data-quality rules (数据质量规则) as data, checked row by row while a file is loaded.

A rule is a kind (:class:`~countyos.data.codes.RuleKind`), a column and parameters, kept as JSON on the
resource so that a county changes its rules without code::

    [{"kind": "not_null", "column": "c1"},
     {"kind": "code_list", "column": "c4", "params": {"values": ["330000", "330100"]}},
     {"kind": "range", "column": "c5", "params": {"min": 0, "max": 150}},
     {"kind": "date", "column": "c6", "params": {"min": "1900-01-01"}},
     {"kind": "in_county", "column": "lon,lat"}]

:class:`Checker` compiles each rule once into a small test and runs them over every row; it counts
every failure per (column, rule) and keeps the first ones for the report, so a million rows cost one
dictionary update per failure and a function call per rule. :meth:`Checker.check_block` checks many
rows at once, column by column — a rule over a whole column in a few calls (a set, a regular expression
mapped over the values, numpy for check characters and points) when every value passes, value by value
only where one fails — and finds and records exactly what :meth:`Checker.check` row by row would. An
empty value (``None`` or ``""``) passes every rule except ``not_null``: whether a value must be present
is that rule's business alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, cast

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from countyos.core.clock import utcnow
from countyos.core.i18n import N_, gettext
from countyos.core.idnumbers import resident_id_ok
from countyos.data.codes import FieldType, RuleKind
from countyos.data.service.readers import InferredColumn, parse_moment
from countyos.org.service import uscc

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


# --- checking ----------------------------------------------------------------------------------------

Test = Callable[[str], bool]
Column = Sequence[str | None]
# The positions of the values in a column that fail; the second argument, when not None, is the column
# as its type (floats of a number column, dates of a date column): what the test would read from the text.
ColumnTest = Callable[[Column, "list[Any] | None"], list[int]]
PairTest = Callable[[Column, Column, "list[Any] | None", "list[Any] | None"], list[int]]
_ISO_DAYS = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}\x1f)*")


def _filled(values: Column) -> Sequence[str] | None:
    """VALUES when none of them is empty (where a column's test has its fast way), else None."""
    if not values or None in values or "" in values:
        return None
    return cast(Sequence[str], values)


class _Unique:
    """The second and later occurrences of a value fail; the first passes."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, value: str) -> bool:
        if value in self.seen:
            return False
        self.seen.add(value)
        return True

    def failing(self, values: Column, _typed: list[Any] | None = None) -> list[int]:
        texts = _filled(values)
        if texts is not None:
            found = set(texts)
            if len(found) == len(texts) and self.seen.isdisjoint(found):
                self.seen |= found
                return []
        return _failing(values, self)


def _failing(values: Column, test: Test) -> list[int]:
    """The positions of the non-empty values that fail TEST (value by value, in order)."""
    return [n for n, value in enumerate(values) if value and not test(value)]


def _column_test(test: Test) -> ColumnTest:
    """TEST over a column: one pass at C speed when every value passes (TEST builtin or cheap)."""

    def failing(values: Column, _typed: list[Any] | None = None) -> list[int]:
        if all(map(test, filter(None, values))):
            return []
        return _failing(values, test)

    return failing


def _not_null_failing(values: Column, _typed: list[Any] | None = None) -> list[int]:
    if None not in values and "" not in values:
        return []
    return [n for n, value in enumerate(values) if not value]


def _code_list_failing(codes: frozenset[str]) -> ColumnTest:
    def failing(values: Column, _typed: list[Any] | None = None) -> list[int]:
        found = set(values)
        found.discard(None)
        found.discard("")
        if found <= codes:
            return []
        return _failing(values, codes.__contains__)

    return failing


_USCC_VALUE = np.full(129, -1, dtype=np.int64)  # a character's value in the code (-1: not allowed); 128: beyond
_USCC_VALUE[[ord(c) for c in uscc.ALPHABET]] = np.arange(len(uscc.ALPHABET))
_USCC_WEIGHTS = np.array(uscc.WEIGHTS, dtype=np.int64)


def _uscc_failing(values: Column, _typed: list[Any] | None = None) -> list[int]:
    """``uscc.is_valid`` over a column, with numpy: the check characters of a million codes at once."""
    texts = _filled(values)
    if texts is None:
        return _failing(values, uscc.is_valid)
    n = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    chars = np.array(texts, dtype="U18").view(np.uint32).reshape(n, 18)  # longer codes cut: refused by length
    digits = _USCC_VALUE[np.minimum(chars, 128)]
    check = (31 - (digits[:, :17] @ _USCC_WEIGHTS) % 31) % 31
    valid = (lengths == 18) & (digits >= 0).all(axis=1) & (digits[:, 17] == check)
    return np.flatnonzero(~valid).tolist()


def _in_range(low: float, high: float) -> Test:
    def in_range(value: str) -> bool:
        try:
            number = float(value)
        except ValueError:
            return False
        return math.isfinite(number) and low <= number <= high

    return in_range


def _range_failing(low: float, high: float) -> ColumnTest:
    test = _in_range(low, high)

    def failing(values: Column, typed: list[Any] | None = None) -> list[int]:
        texts = _filled(values)
        if texts is not None:
            try:
                numbers = typed or list(map(float, texts))
            except ValueError:
                numbers = []
            if numbers and math.isfinite(sum(numbers)) and low <= min(numbers) and max(numbers) <= high:
                return []
        return _failing(values, test)

    return failing


def _dates_failing(earliest: date | None, latest: date | None) -> ColumnTest:
    test = _in_dates(earliest, latest)

    def failing(values: Column, typed: list[Any] | None = None) -> list[int]:
        days: list[date] = []
        texts = _filled(values)
        if texts is None:
            pass
        elif typed is not None:
            days = typed
        elif _ISO_DAYS.fullmatch("\x1f".join(texts) + "\x1f"):
            with suppress(ValueError):
                days = list(map(date.fromisoformat, texts))
        if days and (earliest is None or min(days) >= earliest) and (latest is None or max(days) <= latest):
            return []
        return _failing(values, test)

    return failing


def _in_dates(earliest: date | None, latest: date | None) -> Test:
    def in_dates(value: str) -> bool:
        day = None
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return False
        else:
            found = parse_moment(value)
            if found is None:
                return False
            day = found[0].date()
        return (earliest is None or day >= earliest) and (latest is None or day <= latest)

    return in_dates


def _phone(value: str) -> bool:
    return PHONE.fullmatch(value) is not None


_phone_match = cast(Test, PHONE.fullmatch)  # a match is true, None false: _phone without a Python call


def _not_null(value: str) -> bool:
    return True  # reached only for a value that is there


class _Area:
    """The county's boundary, answering "is this point inside?" fast for a million points.

    A grid of GRID × GRID cells over its bounding box is classified once: cells wholly inside, wholly
    outside, or crossed by the boundary. Only a point in a crossed cell is tested against the (prepared)
    boundary itself; the rest cost a little arithmetic."""

    GRID = 128

    def __init__(self, county: BaseGeometry) -> None:
        self.geometry = shapely.from_wkb(shapely.to_wkb(county))  # a copy to prepare: the caller's stays
        shapely.prepare(self.geometry)
        self.x0, self.y0, self.x1, self.y1 = self.geometry.bounds
        width, height = self.x1 - self.x0, self.y1 - self.y0
        self.states = b""
        if width > 0 and height > 0:
            n = self.GRID
            self.fx, self.fy = n / width, n / height
            i, j = np.meshgrid(np.arange(n), np.arange(n))  # row j (y), column i (x)
            cells = shapely.box(
                self.x0 + i / self.fx, self.y0 + j / self.fy, self.x0 + (i + 1) / self.fx, self.y0 + (j + 1) / self.fy
            ).ravel()
            inside = shapely.contains_properly(self.geometry, cells)
            outside = shapely.disjoint(self.geometry, cells)
            self.states = np.where(inside, 1, np.where(outside, 0, 2)).astype(np.uint8).tobytes()

    def contains(self, x: float, y: float) -> bool:
        if not (self.x0 < x < self.x1 and self.y0 < y < self.y1):
            return False  # also NaN
        if self.states:
            n = self.GRID
            state = self.states[min(int((y - self.y0) * self.fy), n - 1) * n + min(int((x - self.x0) * self.fx), n - 1)]
            if state != 2:
                return state == 1
        return bool(shapely.contains_xy(self.geometry, x, y))

    def contains_many(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """:meth:`contains` for arrays of points: the same answers, in a few numpy calls."""
        inside = np.zeros(len(x), dtype=bool)
        candidates = np.flatnonzero((self.x0 < x) & (x < self.x1) & (self.y0 < y) & (y < self.y1))
        if self.states:
            n = self.GRID
            cx, cy = x[candidates], y[candidates]
            row = np.minimum(((cy - self.y0) * self.fy).astype(np.int64), n - 1)
            col = np.minimum(((cx - self.x0) * self.fx).astype(np.int64), n - 1)
            state = np.frombuffer(self.states, dtype=np.uint8)[row * n + col]
            inside[candidates[state == 1]] = True
            candidates = candidates[state == 2]
        if len(candidates):
            inside[candidates] = shapely.contains_xy(self.geometry, x[candidates], y[candidates])
        return inside


def _in_county_geometry(area: _Area) -> Test:
    def in_county(value: str) -> bool:
        try:
            geometry = orjson.loads(value)
        except orjson.JSONDecodeError:
            return False
        if type(geometry) is dict and geometry.get("type") == "Point":
            try:
                lon, lat = (float(c) for c in geometry["coordinates"][:2])
            except (KeyError, TypeError, ValueError):
                return False
            return area.contains(lon, lat)
        try:
            return bool(area.geometry.contains(shapely.from_geojson(value)))
        except (GEOSException, ValueError, TypeError):
            return False

    return in_county


def _in_county_lonlat(area: _Area) -> Callable[[str, str], bool]:
    def in_county(lon: str, lat: str) -> bool:
        try:
            return area.contains(float(lon), float(lat))
        except ValueError:
            return False

    return in_county


def _lonlat_failing(area: _Area) -> PairTest:
    test = _in_county_lonlat(area)

    def failing(
        lons: Column, lats: Column, lon_typed: list[Any] | None = None, lat_typed: list[Any] | None = None
    ) -> list[int]:
        lon_texts, lat_texts = _filled(lons), _filled(lats)
        if lon_texts is not None and lat_texts is not None:
            try:
                x = np.array(lon_typed or list(map(float, lon_texts)), dtype=np.float64)
                y = np.array(lat_typed or list(map(float, lat_texts)), dtype=np.float64)
            except ValueError:
                pass
            else:
                return np.flatnonzero(~area.contains_many(x, y)).tolist()
        return [
            n
            for n, (lon, lat) in enumerate(zip(lons, lats, strict=True))
            if (lon and lat and not test(lon, lat)) or bool(lon) != bool(lat)  # a place needs both, or neither
        ]

    failing.area = area  # type: ignore[attr-defined]  # for the Arrow way (_arrow_lonlat_failing)
    return failing


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
_READS = {RuleKind.RANGE: FieldType.NUMBER, RuleKind.DATE: FieldType.DATE, RuleKind.IN_COUNTY: FieldType.NUMBER}


class Checker:
    """Checks rows against rules, counting every failure and keeping the first KEEP_FAILURES.

    ``row`` holds one cell per column of COLUMNS, in order (text; ``None`` or ``""`` when empty)."""

    def __init__(
        self,
        rules: Sequence[Rule],
        columns: Sequence[InferredColumn],
        *,
        county: BaseGeometry | None = None,
        keep_failures: int = 1000,
    ) -> None:
        where = {c.name: n for n, c in enumerate(columns)}
        self._single: list[tuple[int, Test, Rule]] = []
        self._pairs: list[tuple[int, int, Callable[[str, str], bool], Rule]] = []
        self._columns: list[tuple[int, ColumnTest, Rule]] = []  # the same rules, for check_block
        self._column_pairs: list[tuple[int, int, PairTest, Rule]] = []
        self._types = [c.type for c in columns]
        # the boundary's grid of cells costs a moment to classify: only for a table with an in-county rule
        needed = county is not None and any(rule.kind is RuleKind.IN_COUNTY for rule in rules)
        area = _Area(county) if needed and county is not None else None
        today = utcnow().date()
        for rule in rules:
            names = rule.column.split(",")
            missing = [name for name in names if name not in where]
            if missing:
                raise RuleError(
                    N_("A quality rule names a column the table does not have: %(column)s"), column=missing[0]
                )
            if rule.kind is RuleKind.IN_COUNTY and area is None:
                raise RuleError(N_("The county's boundary is needed to check that places are in the county"))
            if len(names) > 1 and (rule.kind is not RuleKind.IN_COUNTY or len(names) != 2):
                raise RuleError(N_("Only an in-county rule takes two columns, as lon,lat"))
            if len(names) == 2 and area is not None:
                self._pairs.append((where[names[0]], where[names[1]], _in_county_lonlat(area), rule))
                self._column_pairs.append((where[names[0]], where[names[1]], _lonlat_failing(area), rule))
            else:
                test = self._test(rule, area, today)
                self._single.append((where[names[0]], test, rule))
                self._columns.append((where[names[0]], self._column_test(rule, test), rule))
        self._keep = keep_failures
        self._checked = self._failed = 0
        self._failures: list[Failure] = []
        self._counts: dict[tuple[str, RuleKind], int] = {}

    @staticmethod
    def _test(rule: Rule, area: _Area | None, today: date) -> Test:
        kind, params = rule.kind, rule.params
        if kind is RuleKind.NOT_NULL:
            return _not_null
        if kind is RuleKind.UNIQUE:
            return _Unique()
        if kind is RuleKind.CODE_LIST:
            return frozenset(params["values"]).__contains__
        if kind is RuleKind.RANGE:
            return _in_range(params.get("min", -math.inf), params.get("max", math.inf))
        if kind is RuleKind.DATE:
            low, high = params.get("min"), params.get("max")
            return _in_dates(date.fromisoformat(low) if low else None, date.fromisoformat(high) if high else None)
        if kind is RuleKind.RESIDENT_ID:
            return partial(resident_id_ok, today=today)
        if kind is RuleKind.USCC:
            return uscc.is_valid
        if kind is RuleKind.PHONE:
            return _phone
        assert area is not None
        return _in_county_geometry(area)

    @staticmethod
    def _column_test(rule: Rule, test: Test) -> ColumnTest:
        kind, params = rule.kind, rule.params
        if kind is RuleKind.NOT_NULL:
            return _not_null_failing
        if isinstance(test, _Unique):
            return test.failing
        if kind is RuleKind.CODE_LIST:
            return _code_list_failing(frozenset(params["values"]))
        if kind is RuleKind.RANGE:
            return _range_failing(params.get("min", -math.inf), params.get("max", math.inf))
        if kind is RuleKind.DATE:
            low, high = params.get("min"), params.get("max")
            return _dates_failing(date.fromisoformat(low) if low else None, date.fromisoformat(high) if high else None)
        if kind is RuleKind.USCC:
            return _uscc_failing
        if kind is RuleKind.PHONE:
            return _column_test(_phone_match)
        return _column_test(test)

    def _fail(self, row_no: int, rule: Rule, value: str | None) -> None:
        key = (rule.column, rule.kind)
        self._counts[key] = self._counts.get(key, 0) + 1
        if len(self._failures) < self._keep:
            kept = None if value is None else value[:MAX_VALUE_KEPT]
            self._failures.append(Failure(row=row_no, column=rule.column, rule=rule.kind, value=kept))

    def check(self, row_no: int, row: Sequence[str | None]) -> bool:
        """Whether the row passes every rule; failures are recorded under ROW_NO."""
        self._checked += 1
        ok = True
        for at, test, rule in self._single:
            value = row[at]
            if value:
                if test(value):
                    continue
            elif rule.kind is not RuleKind.NOT_NULL:
                continue
            ok = False
            self._fail(row_no, rule, value)
        for at_lon, at_lat, pair_test, rule in self._pairs:
            lon, lat = row[at_lon], row[at_lat]
            if lon and lat:
                if pair_test(lon, lat):
                    continue
            elif not lon and not lat:
                continue  # no place given: empty passes
            ok = False  # a place needs both its longitude and latitude
            self._fail(row_no, rule, f"{lon or ''},{lat or ''}")
        if not ok:
            self._failed += 1
        return ok

    def check_block(
        self, numbers: Sequence[int], columns: Sequence[Column], *, typed: Sequence[list[Any] | None] | None = None
    ) -> list[bool] | None:
        """Rows given by column (``columns[k][i]``: column k of the row numbered ``numbers[i]``), checked
        and recorded as :meth:`check` would, row after row. Returns None when every row passes, else
        whether each passes. TYPED, when given, holds each column converted to its type (see
        ``readers.convert_column``; None for a column that was not): the rules on numbers and dates
        read them instead of the text."""

        def as_type(at: int, kind: RuleKind) -> list[Any] | None:
            wanted = _READS.get(kind)
            return typed[at] if typed is not None and wanted is not None and self._types[at] is wanted else None

        found: list[tuple[int, int, Rule, str | None]] = []  # (position, rule's place, rule, value)
        for place, (at, failing, rule) in enumerate(self._columns):
            values = columns[at]
            found.extend((n, place, rule, values[n]) for n in failing(values, as_type(at, rule.kind)))
        for place, (at_lon, at_lat, pair_failing, rule) in enumerate(self._column_pairs, start=len(self._columns)):
            lons, lats = columns[at_lon], columns[at_lat]
            bad = pair_failing(lons, lats, as_type(at_lon, rule.kind), as_type(at_lat, rule.kind))
            found.extend((n, place, rule, f"{lons[n] or ''},{lats[n] or ''}") for n in bad)
        return self._record(numbers, found)

    def _record(
        self, numbers: Sequence[int] | np.ndarray, found: list[tuple[int, int, Rule, str | None]]
    ) -> list[bool] | None:
        """Record FOUND (position, rule's place, rule, value) in the rows' order, as :meth:`check` would."""
        self._checked += len(numbers)
        if not found:
            return None
        found.sort(key=lambda f: (f[0], f[1]))
        passed = [True] * len(numbers)
        for n, _, rule, value in found:
            self._fail(int(numbers[n]), rule, value)
            passed[n] = False
        self._failed += passed.count(False)
        return passed

    def check_arrow(
        self,
        numbers: np.ndarray,
        text: Sequence[pa.Array],
        typed: Sequence[pa.Array | list[Any]],
        text_list: Callable[[int], list[str | None]] | None = None,
    ) -> list[bool] | None:
        """:meth:`check_block` for columns held by Arrow (``arrowcsv.Prepared``): TEXT, each column's
        cells (null when empty), TYPED its values as its type. The rules Arrow answers in native code
        (not null, code list, range, date, check characters, phone, in the county) run there; the rest
        read the column as Python values, as :meth:`check_block` does (TEXT_LIST(k), when given: column
        k's cells as Python strings, made once for whoever wants them)."""
        as_list = text_list or (lambda k: text[k].to_pylist())
        found: list[tuple[int, int, Rule, str | None]] = []
        for place, (at, failing, rule) in enumerate(self._columns):
            column = text[at]
            bad = _arrow_failing(rule, column, typed[at], self._types[at])
            if bad is None:
                typed_py = typed[at] if _READS.get(rule.kind) is self._types[at] else None
                if isinstance(typed_py, pa.Array):
                    typed_py = typed_py.to_pylist()
                bad = failing(as_list(at), typed_py)
            found.extend((n, place, rule, column[n].as_py()) for n in bad)
        for place, (at_lon, at_lat, pair_failing, rule) in enumerate(self._column_pairs, start=len(self._columns)):
            lons, lats = text[at_lon], text[at_lat]
            bad = _arrow_lonlat_failing(pair_failing, lons, lats, typed[at_lon], typed[at_lat])
            found.extend((n, place, rule, f"{lons[n].as_py() or ''},{lats[n].as_py() or ''}") for n in bad)
        return self._record(numbers, found)

    def report(self) -> QualityReport:
        passed = self._checked - self._failed
        return QualityReport(
            rows_checked=self._checked,
            rows_failed=self._failed,
            failures=list(self._failures),
            counts=dict(self._counts),
            score=passed / self._checked if self._checked else 1.0,
        )
