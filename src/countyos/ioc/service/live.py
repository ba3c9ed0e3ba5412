"""The live feed: new cases, dispatches, closures, rework, supervision and alarms, pushed to every
open operations view within about a second.

How events reach the stream: each process runs ONE poller (while it has subscribers) that reads the
case timeline (``case_event``) and the alarm timeline (``sensing_alarm_event``) by increasing id
every second and fans the new rows out to its subscribers. The timelines are written in the same
transaction as the change itself, so what the feed shows has been committed; and because every
process reads the database, it works the same with one process or several workers, with no broker.

The timelines are read in commit order (``core.commitorder``): on PostgreSQL a row whose id was taken
by a transaction that commits later than the row after it is still delivered, after it, instead of
being skipped. The cursor ``c<case position>.a<alarm position>`` is the SSE event id, a position being
``<row id>`` on SQLite and ``<transaction id>:<row id>`` on PostgreSQL (``c12.a3``, ``c1890:12.a1875:3``):
a reconnecting browser sends it back (``Last-Event-ID``) and receives what it missed, also after a
server restart. What it missed is replayed only when that is little (:func:`catch_up`): after more
than ``CATCH_UP_MAX_EVENTS`` events or ``CATCH_UP_MAX_AGE`` the browser is told to reload instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from countyos.cases.service import ioc_queries as cases_q
from countyos.core.clock import utcnow
from countyos.core.commitorder import Position
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


_POSITION = re.compile(r"(?:(\d{1,20}):)?(\d{1,19})")


def _position_text(p: Position) -> str:
    return str(p[1]) if p[0] == 0 else f"{p[0]}:{p[1]}"


def _parse_position(text: str) -> Position | None:
    m = _POSITION.fullmatch(text)
    return None if m is None else (int(m.group(1) or 0), int(m.group(2)))


@dataclass(frozen=True)
class Cursor:
    """How far a stream has gone in each timeline: row ids, with their transaction ids on PostgreSQL."""

    case_event: int = 0
    alarm_event: int = 0
    case_xact: int = 0
    alarm_xact: int = 0

    @property
    def case(self) -> Position:
        return self.case_xact, self.case_event

    @property
    def alarm(self) -> Position:
        return self.alarm_xact, self.alarm_event

    @classmethod
    def at(cls, case: Position, alarm: Position) -> Cursor:
        return cls(case[1], alarm[1], case[0], alarm[0])

    def __str__(self) -> str:
        return f"c{_position_text(self.case)}.a{_position_text(self.alarm)}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        c, _, a = text.strip().partition(".")
        if not (c.startswith("c") and a.startswith("a")):
            return None
        case, alarm = _parse_position(c[1:]), _parse_position(a[1:])
        return None if case is None or alarm is None else cls.at(case, alarm)

    def after(self, other: Cursor) -> Cursor:
        return Cursor.at(max(self.case, other.case), max(self.alarm, other.alarm))

    def ahead_of(self, other: Cursor) -> bool:
        """Whether either part is beyond ``other``'s (a cursor from another database, or a restore)."""
        return self.case > other.case or self.alarm > other.alarm


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
            return self.cursor.alarm <= sent.alarm
        return self.cursor.case <= sent.case

    def data(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("cursor")
        return out


def current(db: Database) -> Cursor:
    with db.reading() as s:
        return Cursor.at(cases_q.last_event_position(s), sensing_q.last_alarm_event_position(s))


def read_after(db: Database, cursor: Cursor, limit: int = 200) -> tuple[list[FeedEvent], Cursor]:
    """The feed events after ``cursor`` (oldest first, at most ``limit`` of each timeline) and the
    cursor after them."""
    out: list[FeedEvent] = []
    with db.reading() as s:
        case_rows = cases_q.events_after(s, after=cursor.case, limit=limit)
        alarm_rows = sensing_q.alarm_events_after(s, after=cursor.alarm, limit=limit)
    c, a = cursor.case, cursor.alarm
    for r in case_rows:
        c = (int(r.xact or 0), r.id)
        out.append(
            FeedEvent(
                Cursor.at(c, a),
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
        a = (int(r.xact or 0), r.id)
        out.append(
            FeedEvent(
                Cursor.at(c, a),
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
    return out, Cursor.at(c, a)


CATCH_UP_MAX_EVENTS = 1000  # more missed than this: the browser reloads instead
CATCH_UP_MAX_AGE = timedelta(minutes=30)  # missed events older than this: the same
CATCH_UP_PAGE = 200


def catch_up(db: Database, cursor: Cursor, *, now: datetime | None = None) -> tuple[list[FeedEvent], Cursor] | None:
    """What a stream resuming at ``cursor`` missed (oldest first) and the cursor after it, or ``None``
    when that is too much to replay: more than ``CATCH_UP_MAX_EVENTS`` events, any older than
    ``CATCH_UP_MAX_AGE``, or a cursor ahead of the feed (another database, a restore). The stream
    then tells the browser to reload (``reset``) instead of replaying. Read in pages, each in its own
    short read transaction (call it off the event loop), after a probe of one row of each timeline,
    so that a hopeless resume (``after=c0.a0`` on a county's history) costs a few index reads."""
    if cursor.ahead_of(current(db)):
        return None
    oldest = (now or utcnow()) - CATCH_UP_MAX_AGE
    probe, _ = read_after(db, cursor, limit=1)  # the oldest missed event of each timeline
    if any(datetime.fromisoformat(e.at) < oldest for e in probe):
        return None
    out: list[FeedEvent] = []
    page, cur = read_after(db, cursor, limit=CATCH_UP_PAGE) if probe else ([], cursor)
    while page:
        if any(datetime.fromisoformat(e.at) < oldest for e in page):
            return None
        out += page
        if len(out) > CATCH_UP_MAX_EVENTS:
            return None
        page, cur = read_after(db, cur, limit=CATCH_UP_PAGE)
    return out, cur


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
