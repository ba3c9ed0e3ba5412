"""The rules an 实施编码 must follow, as data a county can change.

GB/T 39046 gives the code as an..24, real provincial codes are longer (the implementing body's 18-char
credit code + 13 characters), so the default rule is tolerant: 1–64 letters, digits and hyphens. A
county whose province publishes a stricter pattern adds a rule (``RULES.append(...)``) or replaces
the list (``using(...)`` in tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from countyos.core.i18n import N_


@dataclass(frozen=True)
class CodeRule:
    pattern: str  # a regular expression the whole code must match
    message: str  # message id shown when it does not

    def accepts(self, code: str) -> bool:
        return re.fullmatch(self.pattern, code) is not None


DEFAULT_RULES: tuple[CodeRule, ...] = (CodeRule(r"[0-9A-Za-z-]{1,64}", N_("Use 1 to 64 letters, digits or hyphens")),)
RULES: list[CodeRule] = list(DEFAULT_RULES)


def check(code: str) -> str | None:
    """The message id of the first rule CODE breaks, or None."""
    for rule in RULES:
        if not rule.accepts(code):
            return rule.message
    return None


@contextmanager
def using(rules: list[CodeRule]) -> Iterator[None]:
    saved = list(RULES)
    RULES[:] = rules
    try:
        yield
    finally:
        RULES[:] = saved
