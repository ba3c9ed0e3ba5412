"""Trace codes: the GS1 mod-10 check digit on known keys, GTIN-13 from a company prefix, the element string
in its URL and human forms, the county code's MOD 37,36 check character catching a changed character."""

from __future__ import annotations

from datetime import date

import pytest

from countyos.village.service import certs_codes as codes


@pytest.mark.parametrize("key", ["4006381333931", "9780306406157", "6901234567892", "00012345600012"])
def test_known_gs1_keys_are_valid(key: str) -> None:
    assert codes.gs1_check_digit(key[:-1]) == key[-1]
    assert codes.gs1_valid(key)
    wrong = key[:-1] + str((int(key[-1]) + 1) % 10)
    assert not codes.gs1_valid(wrong)


def test_gtin13_from_a_prefix_and_item_reference() -> None:
    g = codes.gtin13("6901234", 1)
    assert g == "690123400001" + codes.gs1_check_digit("690123400001") and len(g) == 13
    assert codes.gtin13("69012345", 7).startswith("690123450007")
    with pytest.raises(ValueError):
        codes.gtin13("6901234", 100_000)  # five digits left for the item reference
    with pytest.raises(ValueError):
        codes.gtin13("4006381", 1)  # not a China prefix


def test_element_string_forms() -> None:
    gtin14 = "0" + codes.gtin13("6901234", 3)
    url = codes.gs1_element_string(gtin14=gtin14, produced=date(2026, 5, 1), batch_no="20260501-001")
    assert url == f"01{gtin14}1126050110" + "20260501-001"
    assert codes.human(url) == f"(01){gtin14}(11)260501(10)20260501-001"
    assert codes.normalise(codes.human(url)) == url
    assert codes.normalise(" (01) 0690 ") == "010690"
    assert codes.normalise("a/b") is None and codes.normalise("x" * 81) is None


def test_county_code_check_character() -> None:
    prefix = codes.county_prefix(county_code="331123", entity_id=42, harvested=date(2026, 5, 1))
    code = codes.county_code(prefix=prefix, sequence=7)
    assert code.startswith("33112300042260501007") and len(code) == 21
    assert codes.mod37_36_valid(code)
    for i in range(20):  # any single changed character is caught
        changed = code[:i] + ("1" if code[i] != "1" else "2") + code[i + 1 :]
        assert not codes.mod37_36_valid(changed)
    a, b = code[5], code[6]  # so is a swap of two different neighbours
    swapped = code[:5] + b + a + code[7:]
    assert a == b or not codes.mod37_36_valid(swapped)
