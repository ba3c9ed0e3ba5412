"""Checks of the identity numbers an applicant gives (申请者证件号码).

- 居民身份证 (GB 11643-1999 公民身份号码): 18 characters — a 6-digit division code, the date of birth
  (YYYYMMDD), a 3-digit sequence and a check character computed by ISO 7064 MOD 11-2 (``0``–``9`` or
  ``X``). First-generation 15-digit numbers are no longer valid documents and are refused.
- 统一社会信用代码 (GB 32100-2015): ``org.service.uscc``.
"""

from __future__ import annotations

from datetime import date

from countyos.core.clock import utcnow

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"  # check character for (weighted sum mod 11)
EARLIEST_BIRTH = date(1890, 1, 1)


def resident_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the first 17 characters of a resident ID number are digits")
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def resident_birth(number: str) -> date | None:
    """The date of birth in an 18-character resident ID number, or None if it is not a real date."""
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if born >= EARLIEST_BIRTH else None


def resident_id_ok(number: str, *, today: date | None = None) -> bool:
    """Whether NUMBER (upper case) is a well-formed 18-character 公民身份号码 with its check character."""
    if len(number) != 18 or not number[:17].isdigit() or not number[:6].strip("0"):
        return False
    born = resident_birth(number)
    if born is None or born > (today or utcnow().date()):
        return False
    return resident_check_char(number[:17]) == number[17]
