"""Finding a name the way people type it at a desk: the name itself, its pinyin initials ("yyzz" →
营业执照) or its full pinyin. The catalogues that offer such a search (case categories, service matters)
add their own fields (codes, keywords, themes) and take the best of the qualities."""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=8192)
def pinyin_of(text: str) -> tuple[str, str]:
    """(initials, full pinyin) of a name, letters and digits only, lower case (memoised per process)."""
    syllables = [s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="default")]
    letters = [re.sub(r"[^0-9a-z]", "", s) for s in syllables]
    return "".join(s[:1] for s in letters if s), "".join(letters)


def name_quality(name: str, initials: str, spelled: str, q: str, q_lower: str) -> int | None:
    """How well a name matches Q (0 the name itself … 4 inside its pinyin; lower is better), or None.

    1: the name starts with Q or Q is all its initials; 2: its initials or pinyin start with Q;
    3: Q is inside the name; 4: Q is inside its initials (or, 3 letters or more, its pinyin)."""
    if name == q:
        return 0
    if name.startswith(q) or initials == q_lower:
        return 1
    if q_lower.isascii() and q_lower.isalnum():
        if initials.startswith(q_lower) or spelled.startswith(q_lower):
            return 2
        if q_lower in initials or (len(q_lower) >= 3 and q_lower in spelled):
            return 4
    if q in name:
        return 3
    return None


def best(*qualities: int | None) -> int | None:
    """The best (lowest) of the qualities that matched, or None when none did."""
    found = [q for q in qualities if q is not None]
    return min(found) if found else None
