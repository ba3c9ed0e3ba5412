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
is that rule's business alone. :meth:`Checker.check_arrow` does the same over columns held by Arrow.

The parts: ``rules`` (parsing, the failures and the report), ``columns`` (each rule's test, value by
value and over a column), ``arrow`` (the rules Arrow answers natively).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
from shapely.geometry.base import BaseGeometry

from countyos.core.clock import utcnow
from countyos.core.i18n import N_
from countyos.core.idnumbers import resident_id_ok
from countyos.data.codes import FieldType, RuleKind
from countyos.data.service.quality.arrow import _arrow_failing, _arrow_lonlat_failing
from countyos.data.service.quality.columns import (
    Column,
    ColumnTest,
    PairTest,
    Test,
    _Area,
    _code_list_failing,
    _column_test,
    _dates_failing,
    _in_county_geometry,
    _in_county_lonlat,
    _in_dates,
    _in_range,
    _lonlat_failing,
    _not_null,
    _not_null_failing,
    _phone,
    _phone_match,
    _range_failing,
    _Unique,
    _uscc_failing,
)
from countyos.data.service.quality.rules import (
    MAX_CODE_VALUES,
    MAX_RULES,
    MAX_VALUE_KEPT,
    PHONE,
    Failure,
    QualityReport,
    Rule,
    RuleError,
    parse_rules,
)
from countyos.data.service.readers import InferredColumn
from countyos.org.service import uscc

__all__ = [
    "MAX_CODE_VALUES",
    "MAX_RULES",
    "PHONE",
    "Checker",
    "Failure",
    "QualityReport",
    "Rule",
    "RuleError",
    "parse_rules",
]

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
