"""The GB/T 39046 code sets: every member has its national code and a label; codes read back."""

from __future__ import annotations

import pytest

from countyos.services import codes


@pytest.mark.parametrize("kind", list(codes.NATIONAL))
def test_every_member_has_a_national_code_and_a_label(kind) -> None:
    assert set(codes.NATIONAL[kind]) == set(kind)
    assert len(set(codes.NATIONAL[kind].values())) == len(kind)  # no two members share a code
    assert set(codes.LABELS[kind]) == {m.value for m in kind}
    for member in kind:
        assert codes.from_national(kind, codes.national_code(member)) is member


def test_codes_are_the_standards() -> None:
    assert codes.national_code(codes.MatterType.LICENSING) == "01"
    assert codes.national_code(codes.MatterType.PUBLIC_SERVICE) == "20"
    assert codes.national_code(codes.Level.COUNTY) == "4"
    assert codes.national_code(codes.ApplicationKind.IMMEDIATE) == "1"
    assert codes.national_code(codes.Satisfaction.VERY_SATISFIED) == "1"
    # the provincial order is the opposite one: the meaning is what is stored
    assert codes.SATISFACTION_ASCENDING[codes.Satisfaction.VERY_SATISFIED] == "5"
    assert codes.national_code(codes.RatingChannel.SMS) == "7"
    with pytest.raises(ValueError):
        codes.from_national(codes.Level, "8")
