"""办件编号 and 受理文书编号 rules: rendering in the county's days, counter scopes, validation, an..50."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from countyos.core import i18n
from countyos.core.errors import ValidationFailed
from countyos.services import numbering
from countyos.services.numbering import Rule

CST = ZoneInfo("Asia/Shanghai")


def test_the_default_application_number() -> None:
    rule = Rule.parse(numbering.APPLICATION_DEFAULT)
    assert rule.fields == {"division", "yyyymmdd", "seq"}
    number = rule.render(seq=42, at=datetime(2026, 12, 3, 10, tzinfo=CST), division="341125100000")
    assert number == "3411251000002026120300042"
    assert rule.longest == 25


def test_the_default_receipt_number_in_the_countys_year() -> None:
    rule = Rule.parse(numbering.RECEIPT_DEFAULT)
    # 31 Dec 2026 17:00 UTC is already 1 Jan 2027 in the county: the document belongs to 2027
    late = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert rule.render(seq=7, at=late, dept_short="市监") == "市监受字〔2027〕7号"
    assert rule.render(seq=7, at=late, dept_short="市监", tz="UTC") == "市监受字〔2026〕7号"


def test_the_scope_keys_the_callers_counter_by_everything_but_the_sequence() -> None:
    rule = Rule.parse("{division}-{yyyy}{mm}-{seq:04}")
    a = datetime(2026, 12, 3, 10, tzinfo=CST)
    assert rule.scope(at=a, division="341125") == "341125-202612-#"
    assert rule.scope(at=datetime(2027, 1, 1, 8, tzinfo=CST), division="341125") == "341125-202701-#"  # new month
    assert rule.scope(at=a, division="341125100") == "341125100-202612-#"  # another township
    assert rule.render(seq=12345, at=a, division="341125") == "341125-202612-12345"  # overflow widens


def test_all_fields_render() -> None:
    rule = Rule.parse("{dept_code}/{matter_code}/{yy}{mm}{dd}/{seq:03}")
    a = datetime(2026, 3, 9, 10, tzinfo=CST)
    assert rule.render(seq=5, at=a, dept_code="11341125MB1234567X", matter_code="000104003") == (
        "11341125MB1234567X/000104003/260309/005"
    )


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "A numbering rule has 1 to %(max)s characters"),
        ("x" * 121, "A numbering rule has 1 to %(max)s characters"),
        ("{division}{seq", "The braces of the numbering rule do not match"),
        ("{division}}{seq}", "The braces of the numbering rule do not match"),
        ("{division}", "A numbering rule contains the sequence {seq} exactly once"),
        ("{seq}{seq}", "A numbering rule contains the sequence {seq} exactly once"),
        ("{name}{seq}", "Unknown field {%(field)s} in the numbering rule"),
        ("{seq.__class__}", "Unknown field {%(field)s} in the numbering rule"),
        ("{yyyy!r}{seq}", "Unknown field {%(field)s} in the numbering rule"),
        ("{}{seq}", "Unknown field {%(field)s} in the numbering rule"),
        ("{seq:>5}", "The sequence is written {seq} or {seq:05} (zero-padded to 5 digits)"),
        ("{seq:5}", "The sequence is written {seq} or {seq:05} (zero-padded to 5 digits)"),
        ("{yyyy:04}{seq}", "Only the sequence number may carry a format, e.g. {seq:05}"),
        ("A {seq}", "A numbering rule may not contain spaces, control characters or #"),
        ("A#{seq}", "A numbering rule may not contain spaces, control characters or #"),
        ("A\x00{seq}", "A numbering rule may not contain spaces, control characters or #"),
        (
            "{division}{dept_code}{yyyymmdd}{seq:013}",
            "The longest number this rule can make has %(length)s characters; at most %(max)s are allowed",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_message(pattern: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        Rule.parse(pattern)
    assert info.value.message_id == message
    assert info.value.status == 422
    assert [e["field"] for e in info.value.errors] == ["pattern"]


def test_the_refusal_reads_in_the_interface_language() -> None:
    with i18n.use_locale("zh_CN"):
        with pytest.raises(ValidationFailed) as info:
            Rule.parse("{division}{dept_code}{yyyymmdd}{seq:013}")
        assert info.value.message == "该规则可能生成的最长编号为 51 个字符，最多允许 50 个"
        assert info.value.errors[0]["message"] == "该规则可能生成的最长编号为 51 个字符，最多允许 50 个"


def test_the_longest_rule_allowed_is_fifty_characters() -> None:
    rule = Rule.parse("{dept_code}{division}{yyyymmdd}{seq:012}")  # 18 + 12 + 8 + 12
    assert rule.longest == 50
    number = rule.render(
        seq=1, at=datetime(2026, 12, 3, tzinfo=CST), dept_code="11341125MB1234567X", division="341125100000"
    )
    assert len(number) == 50


def test_values_and_sequences_are_checked_when_a_number_is_made() -> None:
    rule = Rule.parse("{division}{dept_short}{seq}")
    a = datetime(2026, 12, 3, tzinfo=CST)
    with pytest.raises(ValueError, match="needs the field dept_short"):
        rule.render(seq=1, at=a, division="341125")
    with pytest.raises(ValueError, match="not a valid value for the field division"):
        rule.render(seq=1, at=a, division="34112", dept_short="民政")  # 5 digits
    with pytest.raises(ValueError, match="not a valid value for the field dept_short"):
        rule.render(seq=1, at=a, division="341125", dept_short="民 政")
    with pytest.raises(ValueError, match="not a valid value for the field dept_short"):
        rule.render(seq=1, at=a, division="341125", dept_short="{seq}")
    for seq in (0, -1, numbering.MAX_SEQ + 1):
        with pytest.raises(ValueError, match="sequence number"):
            rule.render(seq=seq, at=a, division="341125", dept_short="民政")
    with pytest.raises(ValueError, match="naive"):
        rule.render(seq=1, at=datetime(2026, 12, 3), division="341125", dept_short="民政")
    assert rule.render(seq=1, at=a, division="341125", dept_short="民政") == "341125民政1"


def test_a_number_longer_than_fifty_characters_is_refused_when_made() -> None:
    rule = Rule.parse("{dept_code}{division}{yyyymmdd}BJ-NO-{seq}")  # 50 with a 6-digit sequence
    assert rule.longest == 50
    a = datetime(2026, 12, 3, tzinfo=CST)
    values = {"dept_code": "11341125MB1234567X", "division": "341125100000"}
    assert len(rule.render(seq=999_999, at=a, **values)) == 50
    with pytest.raises(ValueError, match="longer than 50"):
        rule.render(seq=1_000_000, at=a, **values)
