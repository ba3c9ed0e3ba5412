"""The desk's ID-number checks: GB 11643 公民身份号码 (date of birth, check character) and GB 32100
统一社会信用代码, as ``DeskApplicationIn`` applies them."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from countyos.org.service import uscc
from countyos.services import idnumbers
from countyos.services.schemas import DeskApplicationIn


def test_resident_id_check_character_and_date_of_birth() -> None:
    assert idnumbers.resident_check_char("11010519491231002") == "X"  # the standard's own example
    assert idnumbers.resident_id_ok("11010519491231002X")
    assert idnumbers.resident_id_ok("331125196001011236")
    assert not idnumbers.resident_id_ok("331125196001011235")  # wrong check character
    assert not idnumbers.resident_id_ok("331125196002301231")  # 30 February
    assert not idnumbers.resident_id_ok("33112519600101123")  # 17 characters
    assert not idnumbers.resident_id_ok("331125600101123")  # a first-generation 15-digit number
    assert not idnumbers.resident_id_ok("000000196001011233")  # no division
    born_tomorrow = "3311252027010112" + "3"
    assert not idnumbers.resident_id_ok(
        born_tomorrow + idnumbers.resident_check_char(born_tomorrow), today=date(2026, 12, 3)
    )


def _desk(**changes: object) -> DeskApplicationIn:
    return DeskApplicationIn.model_validate({"matter_id": 1, "applicant_name": "蓝水生", **changes})


def test_the_desk_model_checks_the_number_for_its_document_type() -> None:
    assert _desk(id_number="11010519491231002x").id_number == "11010519491231002X"
    with pytest.raises(ValidationError) as exc:
        _desk(id_number="110105194912310021")
    assert [e["loc"] for e in exc.value.errors()] == [("id_number",)]
    code = "91331125MA28" + "00001"
    code += uscc.check_char(code)
    assert _desk(id_type="uscc", id_number=code.lower(), applicant_kind="enterprise").id_number == code
    with pytest.raises(ValidationError):
        _desk(id_type="uscc", id_number=code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert _desk(id_type="passport", id_number="E12345678").id_number == "E12345678"  # no national check
