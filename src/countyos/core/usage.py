"""Counting use of the platform (page views, API calls, actions per module and role).

Requests add to an in-memory counter; a scheduled job drains it into daily rows. Counts of the
last minute before a crash are lost, which is acceptable for a usage statistic.

Besides the counts, the counter keeps who was seen: one (day, module, user id, role) per signed-in person,
module and role a day, however many requests they made (the "active users" measure; a set, so bounded by
people × modules × roles).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

UsageKey = tuple[date, str, str, str]  # (day, module, role, kind)
ActiveKey = tuple[date, str, int, str]  # (day, module, user id, role)


class UsageCounter:
    def __init__(self) -> None:
        self._counts: Counter[UsageKey] = Counter()
        self._seen: set[ActiveKey] = set()
        self._lock = threading.Lock()

    def add(self, day: date, module: str, roles: list[str], kind: str, user_id: int | None = None) -> None:
        with self._lock:
            for role in roles or ["-"]:
                self._counts[(day, module, role, kind)] += 1
                if user_id is not None:
                    self._seen.add((day, module, user_id, role))

    def drain(self) -> dict[UsageKey, int]:
        """The counts so far (the people seen stay until ``drain_all``)."""
        with self._lock:
            out = dict(self._counts)
            self._counts.clear()
            return out

    def drain_all(self) -> tuple[dict[UsageKey, int], set[ActiveKey]]:
        """The counts and the people seen so far, both emptied at once."""
        with self._lock:
            out, seen = dict(self._counts), self._seen
            self._counts.clear()
            self._seen = set()
            return out, seen

    def restore(self, counts: dict[UsageKey, int], seen: set[ActiveKey] | None = None) -> None:
        """Put counts (and the people seen) back after a failed flush."""
        with self._lock:
            self._counts.update(counts)
            self._seen.update(seen or ())


COUNTER = UsageCounter()


def module_of(path: str) -> str | None:
    """The module a path belongs to: /admin/users → admin, /api/v1/cases/3 → cases, /static → None."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] in ("static", "healthz", "metrics", "favicon.ico", "lang"):
        return None if parts else "home"
    if parts[0] == "api" and len(parts) >= 3:
        return parts[2]
    return parts[0]
