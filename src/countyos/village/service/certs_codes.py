"""Trace codes of batches (追溯码), pure functions.

Two schemes:

- **GS1** (a producer with a GS1 company prefix, China 690–699): the GTIN-13 of the product is the prefix +
  an item reference (given once per entity and product, ``village_gtin``) + the GS1 mod-10 check digit; the
  batch's element string carries it as GTIN-14 with a leading 0 in AI (01), the production (harvest) date
  as YYMMDD in AI (11) and the batch number in AI (10). The URL form is the digits-and-letters element
  string without parentheses, fixed-length AIs first and the variable (10) last, so no separator is needed:
  ``01 06953071000018 11 260501 10 20260501-001`` → ``0106953071000018112605011020260501-001``; the
  human-readable form keeps the parentheses: ``(01)06953071000018(11)260501(10)20260501-001``.
- **County** (everyone else): 21 characters, digits and capital letters:
  ``CCCCCC EEEEE YYMMDD NNN K`` — the county's 6-digit division code, the entity's number (5 digits), the
  harvest date, the entity's sequence of that day (3 digits) and a check character by ISO 7064
  MOD 37,36 over the 20 before it (0–9, A–Z), e.g. ``33112300042260501007K``.

A batch number may hold letters, digits and ``-`` only (GS1 AI (10): at most 20 characters), so both forms
are URL-safe. ``normalise`` turns what a visitor typed or scanned (parentheses, spaces, lower case) into
the stored URL form.
"""

from __future__ import annotations

import re
from datetime import date

BATCH_NO_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
GS1_PREFIX_RE = re.compile(r"^69\d{5,8}$")  # a China GS1 company prefix: 7 to 10 digits, 690–699
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_CODE_CHARS = 80


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of a GTIN/GLN/SSCC body (the digits without the check digit):
    weights 3 and 1 alternating from the rightmost digit."""
    if not body.isdigit():
        raise ValueError("a GS1 key is digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gs1_valid(key: str) -> bool:
    return key.isdigit() and len(key) >= 2 and gs1_check_digit(key[:-1]) == key[-1]


def item_ref_digits(prefix: str) -> int:
    """How many digits the item reference has after this company prefix in a GTIN-13."""
    return 12 - len(prefix)


def gtin13(prefix: str, item_ref: int) -> str:
    digits = item_ref_digits(prefix)
    if not GS1_PREFIX_RE.fullmatch(prefix) or not 0 <= item_ref < 10**digits:
        raise ValueError("the company prefix or the item reference does not fit a GTIN-13")
    body = prefix + str(item_ref).zfill(digits)
    return body + gs1_check_digit(body)


def gs1_element_string(*, gtin14: str, produced: date, batch_no: str) -> str:
    """The URL form: (01) and (11) first (fixed length), (10) last, without parentheses."""
    return f"01{gtin14}11{produced:%y%m%d}10{batch_no}"


def gs1_human(code: str) -> str:
    """``0106953071000018112605011020260501-001`` → ``(01)06953071000018(11)260501(10)20260501-001``."""
    if len(code) < 26 or not code.startswith("01") or code[16:18] != "11" or code[24:26] != "10":
        return code
    return f"(01){code[2:16]}(11){code[18:24]}(10){code[26:]}"


def mod37_36(body: str) -> str:
    """The check character of ISO 7064 MOD 37,36 (hybrid) over digits and capital letters."""
    m = 36
    p = m
    for ch in body:
        p = (p + _ALNUM.index(ch)) % m or m
        p = (p * 2) % (m + 1)
    return _ALNUM[(m + 1 - p) % m]


def mod37_36_valid(code: str) -> bool:
    return len(code) >= 2 and all(c in _ALNUM for c in code) and mod37_36(code[:-1]) == code[-1]


def county_prefix(*, county_code: str, entity_id: int, harvested: date) -> str:
    """The first 17 characters of a county code: county, entity, date (the sequence and check follow)."""
    return f"{county_code[:6].ljust(6, '0')}{entity_id % 100_000:05d}{harvested:%y%m%d}"


def county_code(*, prefix: str, sequence: int) -> str:
    body = f"{prefix}{sequence % 1000:03d}"
    return body + mod37_36(body)


def normalise(raw: str) -> str | None:
    """The stored URL form of a typed or scanned code, or None when it cannot be one."""
    code = re.sub(r"[\s()]", "", raw or "")
    if not code or len(code) > MAX_CODE_CHARS or not re.fullmatch(r"[A-Za-z0-9-]+", code):
        return None
    return code


def human(code: str) -> str:
    """The form to print beside the QR code."""
    return gs1_human(code) if code.startswith("01") and len(code) > 26 and code[16:18] == "11" else code
