"""Refusals in the audit log, without letting a flood of them flood the log.

Recorded: a bearer token refused (``auth.token_failed``: unknown, malformed, revoked, expired, its
account disabled — never the token itself), a CSRF check failed (``auth.csrf_rejected``) and every
permission refusal (``access.denied``: a route's requirement, a token whose scopes do not cover the
route, a service's own check), each with the path, the method and the client address.

Coalescing: per (action, client address, account) the first refusal of a minute is recorded at once;
the next ones of that minute are only counted, and when the minute is over one more record of the same
action says how many there were (``repeated``), from when to when, and up to ``MAX_PATHS`` of their
paths. Over all addresses at most ``max_per_minute`` refusals are recorded at once per minute; any
beyond (many addresses at once) are counted in one ``audit.refusals_suppressed`` record per minute
with the ``MAX_ADDRESSES`` busiest addresses. So one address adds at most two records a minute per
account and action, and the whole log at most about ``2 × max_per_minute + 1``, however fast the
refusals come. The counts live in this process (each worker counts its own).

The records are written by the application's side writer (``web/sidewrites.py``); the refused request
waits at most ``WAIT_S`` for its record, awaiting (the event loop serves other requests meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.errors import CountyError, PermissionDenied
from countyos.org.models import AuditResult
from countyos.web import sidewrites
from countyos.web.sidewrites import AuditEntry

WINDOW_S = 60.0
MAX_PER_MINUTE = 300
MAX_PATHS = 10
MAX_ADDRESSES = 10
MAX_COUNTED_ADDRESSES = 1000
WAIT_S = 1.0
SUPPRESSED = "audit.refusals_suppressed"


@dataclass(frozen=True)
class Refusal:
    """What a check that refuses leaves on ``request.state.refusal`` for the error handler to record."""

    action: str
    result: AuditResult = AuditResult.DENIED
    detail: dict[str, Any] = field(default_factory=dict)
    target_type: str | None = None
    target_id: object | None = None


def anonymous(ip: str | None) -> Actor:
    return Actor(id=None, name="anonymous", ip=ip)


@dataclass
class _Window:
    started: float
    first_at: datetime
    entry: AuditEntry
    repeated: int = 0
    last_at: datetime | None = None
    paths: list[str] = field(default_factory=list)


class RefusalLog:
    """Decides which refusals are recorded now and which are counted for a summary (thread-safe)."""

    def __init__(self, *, max_per_minute: int = MAX_PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_per_minute = max_per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str | None, int | str | None], _Window] = {}
        self._budget_started = clock()
        self._budget_used = 0
        self._suppressed: Counter[str] = Counter()
        self._suppressed_from: datetime | None = None
        self._pending_summaries: list[AuditEntry] = []  # minutes found over by note(), for due()

    def note(self, entry: AuditEntry, path: str) -> tuple[AuditEntry | None, bool]:
        """The record to write now for this refusal (None: counted for a summary), and whether a
        summary has just become due later (the side writer must then look at the end of the minute)."""
        actor = entry.actor
        key = (entry.action, actor.ip if actor else None, (actor.id or actor.name) if actor else None)
        now, at = self.clock(), utcnow()
        with self._lock:
            win = self._windows.get(key)
            if win is not None and now - win.started < WINDOW_S:
                win.repeated += 1
                win.last_at = at
                if path not in win.paths and len(win.paths) < MAX_PATHS:
                    win.paths.append(path)
                return None, win.repeated == 1
            if now - self._budget_started >= WINDOW_S:
                self._budget_started, self._budget_used = now, 0
            if self._budget_used >= self.max_per_minute:
                ip = (actor.ip if actor else None) or "-"
                first = not self._suppressed
                if ip in self._suppressed or len(self._suppressed) < MAX_COUNTED_ADDRESSES:
                    self._suppressed[ip] += 1
                else:
                    self._suppressed["other"] += 1
                self._suppressed_from = self._suppressed_from or at
                return None, first
            self._budget_used += 1
            if win is not None and win.repeated:  # its minute is over: summary first, then this one
                self._pending_summaries.append(self._summary(win))
            self._windows[key] = _Window(started=now, first_at=at, entry=entry)
            return entry, False

    def due(self) -> tuple[list[AuditEntry], float | None]:
        """The summaries of the minutes that are over, and in how many seconds the next one ends
        (``sidewrites.Periodic``)."""
        out: list[AuditEntry] = []
        next_due: float | None = None
        now = self.clock()
        with self._lock:
            out.extend(self._pending_summaries)
            self._pending_summaries.clear()
            for key, win in list(self._windows.items()):
                ends = win.started + WINDOW_S
                if now >= ends:
                    del self._windows[key]
                    if win.repeated:
                        out.append(self._summary(win))
                elif win.repeated:
                    next_due = ends - now if next_due is None else min(next_due, ends - now)
            if self._suppressed:
                ends = self._budget_started + WINDOW_S
                if now >= ends:
                    out.append(self._suppressed_summary())
                else:
                    next_due = ends - now if next_due is None else min(next_due, ends - now)
        return out, next_due

    def _summary(self, win: _Window) -> AuditEntry:
        e = win.entry
        detail = {
            "repeated": win.repeated,
            "from": win.first_at.isoformat(timespec="seconds"),
            "to": (win.last_at or win.first_at).isoformat(timespec="seconds"),
            "paths": win.paths,
        }
        return AuditEntry(actor=e.actor, action=e.action, result=e.result, detail=detail, target_type=e.target_type)

    def _suppressed_summary(self) -> AuditEntry:
        busiest = dict(self._suppressed.most_common(MAX_ADDRESSES))
        detail = {
            "count": sum(self._suppressed.values()),
            "addresses": len(self._suppressed),
            "busiest": busiest,
            "from": (self._suppressed_from or utcnow()).isoformat(timespec="seconds"),
            "to": utcnow().isoformat(timespec="seconds"),
            "limit_per_minute": self.max_per_minute,
        }
        self._suppressed.clear()
        self._suppressed_from = None
        return AuditEntry(actor=None, action=SUPPRESSED, result=AuditResult.DENIED, detail=detail)


def for_app(state: Any, db: Database) -> tuple[RefusalLog, sidewrites.SideWriter]:
    """The application's refusal log and the side writer that writes its records."""
    writer = sidewrites.for_app(state, db)
    log: RefusalLog | None = getattr(state, "refusal_log", None)
    if log is None or getattr(state, "refusal_log_writer", None) is not writer:
        with _CREATE:
            log = getattr(state, "refusal_log", None)
            if log is None or getattr(state, "refusal_log_writer", None) is not writer:
                log = state.refusal_log = RefusalLog()
                state.refusal_log_writer = writer
                writer.add_periodic(log.due)
    return log, writer


_CREATE = threading.Lock()


def refusal_of(request: Request, exc: CountyError) -> Refusal | None:
    """The refusal to record for ``exc``: what the refusing check left on the request, or, for any other
    permission refusal (a service's own check), ``access.denied`` with its message id."""
    noted: Refusal | None = getattr(request.state, "refusal", None)
    if noted is not None:
        return noted
    if isinstance(exc, PermissionDenied):
        return Refusal("access.denied", detail={"reason": exc.message_id})
    return None


async def record(request: Request, exc: CountyError) -> None:
    """Audit the refusal ``exc`` (coalesced); wait a moment for the record, never blocking the loop."""
    refusal = refusal_of(request, exc)
    if refusal is None:
        return
    auth = getattr(request.state, "auth", None)
    actor = auth.actor if auth is not None else anonymous(request.client.host if request.client else None)
    detail = {"path": request.url.path, "method": request.method, **refusal.detail}
    entry = AuditEntry(
        actor=actor,
        action=refusal.action,
        result=refusal.result,
        detail=detail,
        target_type=refusal.target_type,
        target_id=refusal.target_id,
    )
    log, writer = for_app(request.app.state, request.app.state.db)
    write_now, summary_later = log.note(entry, request.url.path)
    if write_now is None:
        if summary_later:
            writer.wake()  # so that it looks again at the end of the minute
        return
    written = asyncio.wrap_future(writer.audit(write_now))
    await asyncio.wait({written}, timeout=WAIT_S)
    written.cancel()  # not written by then: the side writer still writes it, nobody waits for it


def record_in_thread(request: Request, entry: AuditEntry) -> None:
    """``record`` for a synchronous route (it runs in the thread pool): the same coalescing, and the
    same short wait for the record, so a flood of refusals never floods the log or the writer."""
    log, writer = for_app(request.app.state, request.app.state.db)
    write_now, summary_later = log.note(entry, request.url.path)
    if write_now is None:
        if summary_later:
            writer.wake()
        return
    with contextlib.suppress(TimeoutError):  # not written by then: the side writer still writes it
        writer.audit(write_now).result(timeout=WAIT_S)
