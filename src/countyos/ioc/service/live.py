"""The live feed: new cases, dispatches, closures, rework, supervision and alarms, pushed to every
open operations view within about a second.

How events reach the stream: each process runs ONE poller (while it has subscribers) that reads the
case timeline (``case_event``) and the alarm timeline (``sensing_alarm_event``) by increasing id
every second and fans the new rows out to its subscribers. The timelines are written in the same
transaction as the change itself, so what the feed shows has been committed; and because every
process reads the database, it works the same with one process or several workers, with no broker.
The cursor ``c<case event id>.a<alarm event id>`` is the SSE event id: a reconnecting browser sends
it back (``Last-Event-ID``) and receives what it missed, also after a server restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from dataclasses import asdict, dataclass
from typing import Any

from countyos.cases.service import ioc_queries as cases_q
from countyos.core.db import Database
from countyos.sensing.service import ioc_queries as sensing_q

log = logging.getLogger("countyos.ioc.live")

POLL_SECONDS = 1.0
CASE_KINDS = {
    "report": "case_reported",
    "dispatch": "case_dispatched",
    "redispatch": "case_dispatched",
    "close": "case_closed",
    "self_close": "case_closed",
    "check_fail": "case_rework",
    "supervise": "case_supervised",
}
ALARM_KINDS = {"active": "alarm_raised", "acknowledged": "alarm_acknowledged", "cleared": "alarm_cleared"}


@dataclass(frozen=True)
class Cursor:
    case_event: int = 0
    alarm_event: int = 0

    def __str__(self) -> str:
        return f"c{self.case_event}.a{self.alarm_event}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            c, a = text.strip().split(".")
            if c[0] != "c" or a[0] != "a":
                return None
            return cls(int(c[1:]), int(a[1:]))
        except (ValueError, IndexError):
            return None

    def after(self, other: Cursor) -> Cursor:
        return Cursor(max(self.case_event, other.case_event), max(self.alarm_event, other.alarm_event))


@dataclass(frozen=True)
class FeedEvent:
    cursor: Cursor  # the position after this event
    kind: str
    at: str  # ISO time
    title: str
    ref: str
    url: str
    lon: float | None = None
    lat: float | None = None
    township: str | None = None
    severity: str | None = None
    priority: str | None = None
    case_id: int | None = None  # for visibility checks

    def seen_by(self, sent: Cursor) -> bool:
        """Whether a stream that has sent up to ``sent`` has sent this event already."""
        if self.kind.startswith("alarm_"):
            return self.cursor.alarm_event <= sent.alarm_event
        return self.cursor.case_event <= sent.case_event

    def data(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("cursor")
        return out


def current(db: Database) -> Cursor:
    with db.reading() as s:
        return Cursor(cases_q.last_event_id(s), sensing_q.last_alarm_event_id(s))


def read_after(db: Database, cursor: Cursor, limit: int = 200) -> tuple[list[FeedEvent], Cursor]:
    """The feed events after ``cursor`` (oldest first) and the cursor after them."""
    out: list[FeedEvent] = []
    with db.reading() as s:
        case_rows = cases_q.events_after(s, after_id=cursor.case_event, limit=limit)
        alarm_rows = sensing_q.alarm_events_after(s, after_id=cursor.alarm_event, limit=limit)
    c, a = cursor.case_event, cursor.alarm_event
    for r in case_rows:
        c = r.id
        out.append(
            FeedEvent(
                Cursor(c, a),
                CASE_KINDS.get(r.action, "case_" + r.action),
                r.at.isoformat(),
                r.title,
                r.number or str(r.case_id),
                f"/cases/{r.case_id}",
                r.lon,
                r.lat,
                r.township_name,
                None,
                str(r.priority),
                r.case_id,
            )
        )
    for r in alarm_rows:
        a = r.id
        out.append(
            FeedEvent(
                Cursor(c, a),
                ALARM_KINDS.get(r.to_state, "alarm_" + r.to_state),
                r.at.isoformat(),
                r.title,
                r.thing_name,
                f"/ioc/alarms/{r.alarm_id}",
                r.lon,
                r.lat,
                None,
                str(r.severity),
                None,
                r.case_id,
            )
        )
    # Case events first, then alarm events: each part of the cursor only grows along the stream, so a
    # browser that reconnects with the id of the last event it saw misses nothing.
    return out, Cursor(c, a)


class Hub:
    """One poller per process and database, fanning events out to the subscribed streams."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.subscribers: set[asyncio.Queue[FeedEvent | None]] = set()
        self.cursor: Cursor | None = None
        self.closing = False
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def subscribe(self) -> asyncio.Queue[FeedEvent | None]:
        q: asyncio.Queue[FeedEvent | None] = asyncio.Queue(maxsize=1000)
        if self.cursor is None or self._task is None or self._task.done():
            self.cursor = await asyncio.to_thread(current, self.db)
        self.subscribers.add(q)
        if self._task is None or self._task.done():
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run())
            _watch_shutdown(self)
        return q

    def unsubscribe(self, q: asyncio.Queue[FeedEvent | None]) -> None:
        self.subscribers.discard(q)

    async def _run(self) -> None:
        while self.subscribers and not self.closing:
            try:
                await self.poll()
            except Exception:  # the database may be restarting; try again next second
                log.exception("ioc live poll failed")
            await asyncio.sleep(POLL_SECONDS)

    async def poll(self) -> int:
        assert self.cursor is not None
        events, self.cursor = await asyncio.to_thread(read_after, self.db, self.cursor)
        for q in list(self.subscribers):
            for ev in events:
                with contextlib.suppress(asyncio.QueueFull):  # a stalled client loses events, not the server
                    q.put_nowait(ev)
        return len(events)

    def close(self) -> None:
        """End every stream now (the server is shutting down; browsers reconnect to the next one)."""
        self.closing = True
        for q in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)


_hubs: dict[int, Hub] = {}


def hub_for(db: Database) -> Hub:
    hub = _hubs.get(id(db))
    if hub is None or hub.db is not db:
        hub = _hubs[id(db)] = Hub(db)
    return hub


_watched: set[int] = set()


def _watch_shutdown(hub: Hub) -> None:
    """Open streams would keep a graceful shutdown waiting for ever: on SIGTERM/SIGINT, end them
    first, then let the server's own handler run. Only possible from the main thread."""
    if id(hub) in _watched or threading.current_thread() is not threading.main_thread():
        return
    _watched.add(id(hub))
    loop = hub._loop
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(hub.close)
            if callable(previous):
                previous(signum, frame)

        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, handler)
