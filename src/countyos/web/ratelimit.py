"""A small in-process sliding-window limiter (per client IP), for login and public posting.

With several API workers each process keeps its own window; the account lockout in the database
is the limit that holds across workers.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Record a hit; return None when allowed, else seconds until the next hit is allowed."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                if len(self._hits) >= self.max_keys:
                    self._evict(now)
                q = self._hits[key] = deque()
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(1, int(self.window - (now - q[0])) + 1)
            q.append(now)
            return None

    def blocked(self, key: str) -> int | None:
        """Like :meth:`hit` without recording one: seconds to wait when ``key`` is at its limit."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                return None
            while q and now - q[0] >= self.window:
                q.popleft()
            return max(1, int(self.window - (now - q[0])) + 1) if len(q) >= self.limit else None

    def _evict(self, now: float) -> None:
        for k in [k for k, q in self._hits.items() if not q or now - q[-1] >= self.window]:
            del self._hits[k]
        if len(self._hits) >= self.max_keys:
            self._hits.clear()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
