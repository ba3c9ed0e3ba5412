"""Writes that are not a request's own, done off the request path by one thread per application.

- When a cookie session was last seen and an API token last used. The request that finds such a time
  due (``TOUCH_EVERY`` in ``web/deps.py``) resolved its caller in a read transaction and hands the time
  over here, so it never waits for the SQLite writer lock or a PostgreSQL row lock. The latest time
  seen of each session is also kept in memory (:meth:`SideWriter.last_seen`), so idle expiry in this
  process counts a visit whose write still waits.
- Audit records of refusals (``web/refusals.py``): the refused request waits for its record at most a
  moment, and never on the event loop.

One transaction writes everything waiting. The thread starts on the first write and ends after
``idle_s`` without work; when a transaction fails (the lock not free within the busy timeout, the
database unreachable) the writes are kept and tried again after ``retry_s``, and at most
``max_records`` audit records wait (the oldest are dropped, and logged). What waits when the process
stops is written by :meth:`SideWriter.close` at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.org.models import AuditResult
from countyos.org.service import audit, auth, tokens

log = logging.getLogger("countyos.sidewrites")


@dataclass(frozen=True)
class AuditEntry:
    """One audit record to write (the arguments of ``audit.record``)."""

    actor: Actor | None
    action: str
    result: AuditResult = AuditResult.SUCCESS
    detail: dict[str, Any] = field(default_factory=dict)
    target_type: str | None = None
    target_id: object | None = None


# Called on every pass of the thread: the records now due and in how many seconds the next one is (None:
# nothing later), e.g. the summaries of coalesced refusals at the end of their minute.
Periodic = Callable[[], tuple[list[AuditEntry], float | None]]


class SideWriter:
    def __init__(
        self,
        db: Database,
        *,
        idle_s: float = 5.0,
        retry_s: float = 1.0,
        max_records: int = 10_000,
        max_seen: int = 100_000,
    ) -> None:
        self._db = db
        self.idle_s, self.retry_s, self.max_records, self.max_seen = idle_s, retry_s, max_records, max_seen
        self._cond = threading.Condition()
        self._sessions: dict[int, datetime] = {}  # waiting to be written
        self._tokens: dict[int, datetime] = {}
        self._records: list[tuple[AuditEntry, Future[None]]] = []
        self._seen: dict[int, datetime] = {}  # the latest time seen of each session in this process
        self._periodic: list[Periodic] = []
        self._thread: threading.Thread | None = None
        self._busy = False
        self._kick = False  # run the periodic sources now (drain)
        self._closed = False
        self.transactions = 0  # committed, and failed: what tests and metrics read
        self.failures = 0
        self.dropped = 0

    # -- what requests hand over -------------------------------------------------------------------

    def session_seen(self, session_id: int, at: datetime) -> None:
        with self._cond:
            if session_id not in self._sessions or self._sessions[session_id] < at:
                self._sessions[session_id] = at
            if session_id not in self._seen or self._seen[session_id] < at:
                if len(self._seen) >= self.max_seen:  # forget the ones already written
                    self._seen = {k: v for k, v in self._seen.items() if k in self._sessions}
                self._seen[session_id] = at
            self._wake()

    def token_used(self, token_id: int, at: datetime) -> None:
        with self._cond:
            if token_id not in self._tokens or self._tokens[token_id] < at:
                self._tokens[token_id] = at
            self._wake()

    def last_seen(self, session_id: int) -> datetime | None:
        """When this process last saw the session (its database row may not say so yet)."""
        with self._cond:
            return self._seen.get(session_id)

    def audit(self, entry: AuditEntry) -> Future[None]:
        """Write ``entry`` soon; the future is done once it is committed."""
        done: Future[None] = Future()
        with self._cond:
            self._records.append((entry, done))
            if len(self._records) > self.max_records:
                self._drop(len(self._records) - self.max_records)
            self._wake()
        return done

    def add_periodic(self, source: Periodic) -> None:
        with self._cond:
            self._periodic.append(source)

    def wake(self) -> None:
        """Run the periodic sources now (a new record may be due later than the thread will look)."""
        with self._cond:
            self._wake()

    # -- waiting for it ----------------------------------------------------------------------------

    def drain(self, timeout: float = 10.0) -> bool:
        """Write what waits and what the periodic sources have due now; False if not done in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._kick = True
            self._wake()
            while self._kick or self._busy or self._pending():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """At shutdown: write what waits (as far as the database lets within ``timeout``), then stop."""
        self.drain(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- the thread --------------------------------------------------------------------------------

    def _pending(self) -> bool:
        return bool(self._sessions or self._tokens or self._records)

    def _wake(self) -> None:
        self._closed = False
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="countyos-side-writes", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _drop(self, n: int) -> None:
        for _, done in self._records[:n]:
            done.cancel()
        del self._records[:n]
        self.dropped += n
        log.error("dropped %d audit records of refusals: the database has not taken writes for a while", n)

    def _due(self) -> tuple[list[AuditEntry], float | None]:
        entries: list[AuditEntry] = []
        next_due: float | None = None
        for source in self._periodic:
            due, later = source()
            entries.extend(due)
            if later is not None:
                next_due = later if next_due is None else min(next_due, later)
        return entries, next_due

    def _take(self) -> tuple[dict[int, datetime], dict[int, datetime], list[tuple[AuditEntry, Future[None]]]] | None:
        """The writes waiting (blocking for some), or None when idle or closed: the thread ends."""
        with self._cond:
            while True:
                due, next_due = self._due()
                self._kick = False
                for entry in due:
                    self._records.append((entry, Future()))
                if self._pending():
                    batch = self._sessions, self._tokens, self._records
                    self._sessions, self._tokens, self._records = {}, {}, []
                    self._busy = True
                    return batch
                self._cond.notify_all()  # drain() waits for this
                if self._closed:
                    self._thread = None
                    return None
                wait = self.idle_s if next_due is None else next_due
                if not self._cond.wait(wait) and next_due is None and not self._kick:
                    self._thread = None  # idle: session_seen() and friends start a new one
                    return None

    def _work(self) -> None:
        while (batch := self._take()) is not None:
            sessions, used, records = batch
            try:
                with self._db.unit_of_work() as s:
                    for entry, _ in records:
                        audit.record(
                            s,
                            actor=entry.actor,
                            action=entry.action,
                            result=entry.result,
                            detail=entry.detail,
                            target_type=entry.target_type,
                            target_id=entry.target_id,
                        )
                    if sessions:
                        auth.mark_sessions_seen(s, seen=sessions)
                    if used:
                        tokens.mark_used(s, used=used)
            except Exception:
                log.warning("side writes failed; trying again in %.1f s", self.retry_s, exc_info=True)
                self._put_back(sessions, used, records)
                with self._cond:
                    self.failures += 1
                    self._busy = False
                    self._cond.notify_all()
                    if not self._closed:
                        self._cond.wait(self.retry_s)
                    elif self._pending():  # closing and the database still refuses: give up
                        self._thread = None
                        return
                continue
            with self._cond:
                self.transactions += 1
                self._busy = False
                self._cond.notify_all()
            for _, done in records:
                if done.set_running_or_notify_cancel():
                    done.set_result(None)

    def _put_back(
        self,
        sessions: dict[int, datetime],
        used: dict[int, datetime],
        records: list[tuple[AuditEntry, Future[None]]],
    ) -> None:
        with self._cond:
            for sid, at in sessions.items():
                if sid not in self._sessions or self._sessions[sid] < at:
                    self._sessions[sid] = at
            for tid, at in used.items():
                if tid not in self._tokens or self._tokens[tid] < at:
                    self._tokens[tid] = at
            self._records[:0] = records
            if len(self._records) > self.max_records:
                self._drop(len(self._records) - self.max_records)


def for_app(state: Any, db: Database) -> SideWriter:
    """The application's side writer (one per application and database)."""
    writer: SideWriter | None = getattr(state, "side_writer", None)
    if writer is None or writer._db is not db:
        with _CREATE:
            writer = getattr(state, "side_writer", None)
            if writer is None or writer._db is not db:
                writer = state.side_writer = SideWriter(db)
    return writer


_CREATE = threading.Lock()


async def close(state: Any) -> None:
    """At the application's shutdown: write what waits (in a worker thread, not on the event loop)."""
    writer: SideWriter | None = getattr(state, "side_writer", None)
    if writer is not None:
        await asyncio.to_thread(writer.close)
