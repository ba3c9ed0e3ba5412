"""The rules' tests, value by value and over a column of Python values (fast when every value passes)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import date
from typing import Any, cast

import numpy as np
import orjson
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from countyos.data.service.quality.rules import PHONE
from countyos.data.service.readers import parse_moment
from countyos.org.service import uscc

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
