"""Check characters of Chinese identity numbers, pure functions shared by every domain.

居民身份证 (GB 11643-1999 公民身份号码): 18 characters — a 6-digit division code, the date of birth
(YYYYMMDD), a 3-digit sequence and a check character computed by ISO 7064 MOD 11-2 (``0``–``9`` or an
upper-case ``X``). First-generation 15-digit numbers are no longer valid documents and are refused.

They live in ``core`` because both 一网通办 (an applicant's number, ``services.idnumbers``) and the data
domain's quality rules check them, and one domain may not import another's internals.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from countyos.core.clock import utcnow

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"  # check character for (weighted sum mod 11)
EARLIEST_BIRTH = date(1890, 1, 1)


def _check_char(first17: str) -> str:
    # The weights are 2**(18 - i) mod 11, and 13 ≡ 2 (mod 11): the weighted sum is congruent to twice
    # the digits read in base 13, which int() computes in C (a data load checks a million numbers).
    return CHECK[2 * int(first17, 13) % 11]


def resident_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("the first 17 characters of a resident ID number are digits")
    return _check_char(first17)


def resident_birth(number: str) -> date | None:
    """The date of birth in an 18-character resident ID number, or None if it is not a real date."""
    return _birth(number[6:14])


@lru_cache(maxsize=65_536)  # a few tens of thousands of birth dates recur across a million numbers
def _birth(yyyymmdd: str) -> date | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    return born if born >= EARLIEST_BIRTH else None


def resident_id_ok(number: str, *, today: date | None = None) -> bool:
    """Whether NUMBER (upper case) is a well-formed 18-character 公民身份号码 with its check character.

    Only ASCII digits count: full-width ``１`` or ``²`` pass ``str.isdigit`` but are not a number's digits.
    """
    first17 = number[:17]
    if len(number) != 18 or not (first17.isascii() and first17.isdigit()) or not number[:6].strip("0"):
        return False
    born = resident_birth(number)
    if born is None or born > (today or utcnow().date()):
        return False
    return _check_char(first17) == number[17]
