"""Counting use of the platform (page views, API calls, actions per module and role).

Requests add to an in-memory counter; a scheduled job drains it into daily rows. Counts of the
last minute before a crash are lost, which is acceptable for a usage statistic.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

UsageKey = tuple[date, str, str, str]  # (day, module, role, kind)


class UsageCounter:
    def __init__(self) -> None:
        self._counts: Counter[UsageKey] = Counter()
        self._lock = threading.Lock()

    def add(self, day: date, module: str, roles: list[str], kind: str) -> None:
        with self._lock:
            for role in roles or ["-"]:
                self._counts[(day, module, role, kind)] += 1

    def drain(self) -> dict[UsageKey, int]:
        with self._lock:
            out = dict(self._counts)
            self._counts.clear()
            return out

    def restore(self, counts: dict[UsageKey, int]) -> None:
        """Put counts back after a failed flush."""
        with self._lock:
            self._counts.update(counts)


COUNTER = UsageCounter()


def module_of(path: str) -> str | None:
    """The module a path belongs to: /admin/users → admin, /api/v1/cases/3 → cases, /static → None."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] in ("static", "healthz", "metrics", "favicon.ico", "lang"):
        return None if parts else "home"
    if parts[0] == "api" and len(parts) >= 3:
        return parts[2]
    return parts[0]
