"""Which programme module (domain) a counted use belongs to.

Use is counted by path segment (``core.usage.module_of``: "cases", "m", "r", "open311", "sta", "t", "3", …)
and records by audit action code ("case.create", "village.cert.issue", …). Both are mapped to the modules of
``service.modules.SPECS``:

- a path segment: derived from the application's routes — each route's endpoint lives in ``countyos.<domain>``
  and its path's first segment is the segment (``segments``); a segment served by several domains goes to the
  one with most routes under it; ``data/index_modules.json`` names what routes cannot tell (the shell's
  pages, sign-in) and overrides;
- an audit action: its first dotted part, the module of that name or the file's ``audit_prefixes``.

What maps to no module counts as ``platform``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from countyos.core.usage import module_of
from countyos.programme.service.modules import BY_CODE

PLATFORM = "platform"
DATA = Path(__file__).resolve().parent.parent / "data" / "index_modules.json"


@cache
def table() -> dict[str, Any]:
    """The mapping file (segments, audit prefixes, actions that create no record)."""
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


def domain_of_endpoint(module_name: str) -> str:
    parts = module_name.split(".")
    if len(parts) >= 2 and parts[0] == "countyos" and parts[1] in BY_CODE:
        return parts[1]
    return PLATFORM


def segments(routes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Path segment → module, from the routes (each its full path and its endpoint's Python module) and the
    file."""
    votes: dict[str, Counter[str]] = {}
    for path, endpoint_module in routes:
        seg = module_of(path)
        if seg is None or "{" in seg:
            continue
        votes.setdefault(seg, Counter())[domain_of_endpoint(endpoint_module)] += 1
    out = {seg: c.most_common(1)[0][0] for seg, c in votes.items()}
    out.update(table()["segments"])
    return out


_BY_APP: dict[int, dict[str, str]] = {}


def for_app(key: int, routes: Callable[[], Iterable[tuple[str, str]]]) -> dict[str, str]:
    """``segments`` of an application (KEY: its identity), worked out once."""
    found = _BY_APP.get(key)
    if found is None:
        if len(_BY_APP) > 8:
            _BY_APP.clear()
        found = _BY_APP[key] = segments(routes())
    return found


def module_of_segment(mapping: Mapping[str, str], segment: str) -> str:
    return mapping.get(segment, PLATFORM)


def segments_of(mapping: Mapping[str, str], module: str) -> list[str]:
    """The path segments counted for a module."""
    return sorted(seg for seg, dom in mapping.items() if dom == module)


def module_of_action(action: str) -> str:
    """The module whose record an audit action code creates."""
    prefix = action.split(".", 1)[0]
    if prefix in BY_CODE:
        return prefix
    prefixes: dict[str, str] = table()["audit_prefixes"]
    return prefixes.get(prefix, PLATFORM)


def creates_record(action: str) -> bool:
    """Whether an audit action counts as a record created (sign-ins, refusals and reads do not)."""
    return not any(action == n or action.startswith(n + ".") for n in table()["not_records"])
