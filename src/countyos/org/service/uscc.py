"""统一社会信用代码 (GB 32100-2015): 18 characters with a check character.

Position 1: registration authority, 2: organisation kind, 3–8: division code, 9–17: organisation
code, 18: check character. Characters come from ``0-9A-Z`` without I, O, Z, S, V.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in ALPHABET for c in code):
        return False
    return check_char(code[:17]) == code[17]
