"""Data-quality rules: each kind with rows that pass and rows that fail (real valid and invalid ID numbers
and credit codes), empty values passing all but not_null, the report's counts and score, rules parsed
from JSON with clear refusals."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from countyos.core import idnumbers
from countyos.data.codes import FieldType, RuleKind
from countyos.data.service.quality import Checker, Failure, Rule, RuleError, parse_rules
from countyos.data.service.readers import InferredColumn
from countyos.org.service import uscc

K = RuleKind
COUNTY = Point(120.0, 30.0).buffer(0.5, quad_segs=64)  # a round county: many cells cross its boundary


def _resident(body17: str) -> str:
    return body17 + idnumbers.resident_check_char(body17)


VALID_IDS = ["11010519491231002X", _resident("33112519600101123"), _resident("33010219881231456")]
INVALID_IDS = [
    "11010519491231003X",  # one digit changed
    "11010519491231002x",  # lower-case x
    "110105194912310021",  # wrong check character
    _resident("33112519600230123")[:17] + "0",  # 30 February
    "33112519600101123",  # 17 characters
    "１１０１０５１９４９１２３１００２X",  # full-width digits
    "000000194912310021",  # no division
]
VALID_USCC = ["91331125MA2800001" + uscc.check_char("91331125MA2800001"), "91350100M000100Y43"]
INVALID_USCC = ["91331125MA2800002" + uscc.check_char("91331125MA2800001"), "91350100M000100Y44", "9135010OM000100Y4"]


def _columns(*specs: tuple[str, FieldType]) -> list[InferredColumn]:
    return [InferredColumn(name=n, label=n, type=t, max_length=0) for n, t in specs]


def _check(rule: Rule, values: list[str | None], **kwargs: object) -> list[bool]:
    checker = Checker([rule], _columns((rule.column, FieldType.TEXT)), **kwargs)  # type: ignore[arg-type]
    return [checker.check(n, [v]) for n, v in enumerate(values, start=1)]


def test_the_standards_own_examples_hold() -> None:
    assert idnumbers.resident_check_char("11010519491231002") == "X"
    assert uscc.is_valid("91350100M000100Y43")


def test_resident_id_numbers() -> None:
    assert _check(Rule(K.RESIDENT_ID, "id"), VALID_IDS) == [True] * len(VALID_IDS)
    assert _check(Rule(K.RESIDENT_ID, "id"), INVALID_IDS) == [False] * len(INVALID_IDS)


def test_a_resident_born_tomorrow_is_refused() -> None:
    tomorrow = date.today() + timedelta(days=2)
    assert _check(Rule(K.RESIDENT_ID, "id"), [_resident(f"330102{tomorrow:%Y%m%d}123")]) == [False]


def test_unified_social_credit_codes() -> None:
    assert _check(Rule(K.USCC, "code"), VALID_USCC) == [True, True]
    assert _check(Rule(K.USCC, "code"), INVALID_USCC) == [False, False, False]


def test_not_null_is_the_only_rule_an_empty_value_fails() -> None:
    assert _check(Rule(K.NOT_NULL, "a"), ["x", None, "", "0"]) == [True, False, False, True]
    every_other = [
        Rule(K.UNIQUE, "a"),
        Rule(K.CODE_LIST, "a", {"values": ["1"]}),
        Rule(K.RANGE, "a", {"min": 1, "max": 2}),
        Rule(K.DATE, "a", {"min": "2000-01-01"}),
        Rule(K.RESIDENT_ID, "a"),
        Rule(K.USCC, "a"),
        Rule(K.PHONE, "a"),
        Rule(K.IN_COUNTY, "a"),
    ]
    for rule in every_other:
        assert _check(rule, [None, "", None], county=COUNTY) == [True, True, True], rule.kind


def test_unique_fails_the_second_and_later_occurrences() -> None:
    assert _check(Rule(K.UNIQUE, "a"), ["1", "2", "1", "01", "1"]) == [True, True, False, True, False]


def test_code_list_compares_exact_text() -> None:
    rule = parse_rules([{"kind": "code_list", "column": "a", "params": {"values": ["0570", 330000]}}])[0]
    assert _check(rule, ["0570", "330000", "570", "0570 "]) == [True, True, False, False]


def test_range_takes_numbers_within_bounds() -> None:
    rule = Rule(K.RANGE, "a", {"min": 0, "max": 150})
    assert _check(rule, ["0", "150", "36.6", "-1", "150.01", "abc", "nan", "inf"]) == [True] * 3 + [False] * 5
    assert _check(Rule(K.RANGE, "a", {"min": 10}), ["1e6", "9.99"]) == [True, False]


def test_date_takes_real_calendar_dates_within_bounds() -> None:
    rule = Rule(K.DATE, "a", {"min": "2000-01-01", "max": "2024-12-31"})
    good = ["2024-02-29", "2000/1/1", "2024年12月31日", "20240501", "2024-05-01 08:30"]
    bad = ["2023-02-29", "1999-12-31", "2025-01-01", "2024-13-01", "soon"]
    assert _check(rule, good + bad) == [True] * len(good) + [False] * len(bad)
    assert _check(Rule(K.DATE, "a"), ["1900-01-01", "2024-04-31"]) == [True, False]


def test_phone_numbers_mobile_and_landline() -> None:
    good = ["13812345678", "+86 13812345678", "+8619912345678", "0570-8123456", "057081234567", "010-62345678"]
    good += ["(0570)3123456", "0570-8123456-802", "+86 570 8123456", "0570 8123456"]
    bad = ["12812345678", "1381234567", "138123456789", "8123456", "0570-812345", "0570-0123456"]
    bad += ["0570-1234567", "phone", "１３８１２３４５６７８"]  # no local number starts with 0 or 1
    assert _check(Rule(K.PHONE, "a"), good + bad) == [True] * len(good) + [False] * len(bad)


def test_in_county_for_a_geometry_column() -> None:
    inside = json.dumps({"type": "Point", "coordinates": [120.1, 30.1]})
    outside = json.dumps({"type": "Point", "coordinates": [121.0, 30.0]})
    field = json.dumps({"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30], [120.01, 30.01], [120, 30]]]})
    crossing = json.dumps({"type": "LineString", "coordinates": [[120, 30], [121, 30]]})
    values = [inside, outside, field, crossing, "not json", '{"type": "Point"}']
    assert _check(Rule(K.IN_COUNTY, "geometry"), values, county=COUNTY) == [True, False, True, False, False, False]


def test_in_county_for_lon_lat_columns_agrees_with_the_exact_test() -> None:
    rule = parse_rules([{"kind": "in_county", "column": "lon, lat"}])[0]
    assert rule.column == "lon,lat"
    checker = Checker([rule], _columns(("lon", FieldType.NUMBER), ("lat", FieldType.NUMBER)), county=COUNTY)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(119.4, 120.6, 5000), rng.uniform(29.4, 30.6, 5000)
    points = zip(xs.tolist(), ys.tolist(), strict=True)
    found = [checker.check(n, [str(x), str(y)]) for n, (x, y) in enumerate(points, start=1)]
    assert found == shapely.contains_xy(COUNTY, xs, ys).tolist()
    assert checker.check(1, [None, None])  # no place given
    assert not checker.check(2, ["120.0", None])  # half a place
    assert not checker.check(3, ["east", "30.0"])


def test_in_county_needs_the_county() -> None:
    with pytest.raises(RuleError, match="boundary"):
        Checker([Rule(K.IN_COUNTY, "g")], _columns(("g", FieldType.GEOMETRY)))


def test_the_report_counts_every_failure_and_keeps_the_first() -> None:
    columns = _columns(("name", FieldType.TEXT), ("id", FieldType.TEXT), ("age", FieldType.INTEGER))
    rules = parse_rules(
        [
            {"kind": "not_null", "column": "name"},
            {"kind": "resident_id", "column": "id"},
            {"kind": "range", "column": "age", "params": {"min": 0, "max": 150}},
        ]
    )
    checker = Checker(rules, columns, keep_failures=2)
    rows: list[list[str | None]] = [
        ["张三", VALID_IDS[0], "30"],
        [None, INVALID_IDS[0] * 20, "30"],
        ["李四", VALID_IDS[1], "200"],
        [None, VALID_IDS[2], "-1"],
    ]
    passed = [checker.check(n, row) for n, row in enumerate(rows, start=1)]

    report = checker.report()
    assert passed == [True, False, False, False]
    assert (report.rows_checked, report.rows_failed, report.score) == (4, 3, 0.25)
    assert report.counts == {("name", K.NOT_NULL): 2, ("id", K.RESIDENT_ID): 1, ("age", K.RANGE): 2}
    assert report.failures == [
        Failure(row=2, column="name", rule=K.NOT_NULL, value=None),
        Failure(row=2, column="id", rule=K.RESIDENT_ID, value=(INVALID_IDS[0] * 20)[:200]),
    ]
    assert report.as_dict()["counts"] == {"name:not_null": 2, "id:resident_id": 1, "age:range": 2}
    assert Checker([], columns).report().score == 1.0


def test_parse_rules_reads_json_rules() -> None:
    raw = [
        {"kind": "not_null", "column": "a"},
        {"kind": "range", "column": "b", "params": {"max": 10}},
        {"kind": "date", "column": "c", "params": {"min": "2000-01-01", "max": None}},
        {"kind": "code_list", "column": "d", "params": {"values": ["1", 2]}},
    ]
    assert parse_rules(raw) == [
        Rule(K.NOT_NULL, "a"),
        Rule(K.RANGE, "b", {"max": 10.0}),
        Rule(K.DATE, "c", {"min": "2000-01-01"}),
        Rule(K.CODE_LIST, "d", {"values": ["1", "2"]}),
    ]
    assert parse_rules(None) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "not_null"}, "are a list"),
        ([{"kind": "spelling", "column": "a"}], "Rule 1: unknown kind spelling"),
        ([{"kind": "not_null", "column": "a"}, {"kind": "unique"}], "Rule 2: the column is missing"),
        ([{"kind": "code_list", "column": "a"}], "a code list needs its values"),
        ([{"kind": "code_list", "column": "a", "params": {"values": [True]}}], "text or whole numbers"),
        ([{"kind": "range", "column": "a", "params": {}}], "a minimum, a maximum or both"),
        ([{"kind": "range", "column": "a", "params": {"min": "1"}}], "min must be a number"),
        ([{"kind": "range", "column": "a", "params": {"min": 5, "max": 1}}], "minimum is above the maximum"),
        ([{"kind": "date", "column": "a", "params": {"min": "2024/1/1"}}], "written 2024-05-01"),
        ([{"kind": "phone", "column": "a", "params": {"mobile": True}}], "unknown parameter mobile"),
        ([{"kind": "unique", "column": "a,b"}], "only an in-county rule takes two columns"),
        ([{"kind": "unique", "column": "a", "field": 1}], "unknown field field"),
        (["not_null"], "is not an object"),
    ],
)
def test_parse_rules_refuses_with_a_clear_message(raw: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(raw)  # type: ignore[arg-type]


def test_a_rule_on_a_column_the_table_lacks_is_refused() -> None:
    with pytest.raises(RuleError, match="does not have: b") as exc:
        Checker([Rule(K.NOT_NULL, "b")], _columns(("a", FieldType.TEXT)))
    assert isinstance(exc.value, ValueError)
