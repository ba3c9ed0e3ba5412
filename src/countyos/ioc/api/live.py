"""The live feed as server-sent events (``text/event-stream``).

The stream starts with ``retry:`` (reconnect after 2 s), sends each event with its cursor as the
event id, a comment every 15 s so that a dead connection is noticed, and ends after ``linger``
seconds or when the server shuts down; the browser's EventSource then reconnects with
``Last-Event-ID`` and receives what it missed (see ``service/live.py``) — or, when it missed too
much, a ``reset`` event: it reloads its figures and goes on from the cursor of that event.

Streams are held open for minutes, so each one is counted: a person may have ``MAX_STREAMS_PER_USER``
open in this process (a desk, a wall and a phone), a client address ``MAX_STREAMS_PER_ADDRESS``, and
the process ``MAX_STREAMS`` in all; beyond that the answer is 429 (503 for the process) as
problem+json. At most ``CATCH_UP_AT_ONCE`` streams read what they missed at the same time, off the
event loop, so reconnecting browsers never starve the API of database connections or threads.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from countyos.cases.service import ioc_queries as cases_q
from countyos.core.errors import RateLimited, ServiceUnavailable
from countyos.core.i18n import N_
from countyos.ioc.service import live
from countyos.web.deps import Auth, get_db, require

router = APIRouter(tags=["ioc"])

RETRY_MS = 2000
KEEPALIVE_S = 15.0
MAX_STREAMS_PER_USER = 8
MAX_STREAMS_PER_ADDRESS = 32  # for a caller without a user id
MAX_STREAMS = 1000  # per process
CATCH_UP_AT_ONCE = 4


class StreamSlots:
    """The open streams of this process, by holder (``user:<id>`` or ``ip:<address>``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open: Counter[str] = Counter()

    def take(self, holder: str, limit: int) -> Slot:
        with self._lock:
            if sum(self.open.values()) >= MAX_STREAMS:
                raise ServiceUnavailable(N_("Too many live connections on this server; try again shortly"))
            if self.open[holder] >= limit:
                raise RateLimited(
                    N_("At most %(n)s live connections at a time; close another view first"), n=limit, retry_after=30
                )
            self.open[holder] += 1
        return Slot(self, holder)

    def give_back(self, holder: str) -> None:
        with self._lock:
            self.open[holder] -= 1
            if self.open[holder] <= 0:
                del self.open[holder]


class Slot:
    def __init__(self, slots: StreamSlots, holder: str) -> None:
        self._slots, self._holder, self._held = slots, holder, True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots.give_back(self._holder)


SLOTS = StreamSlots()
_catch_up_gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _catch_up_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _catch_up_gates.get(loop)
    if gate is None:
        for old in [k for k in _catch_up_gates if k.is_closed()]:
            del _catch_up_gates[old]
        gate = _catch_up_gates[loop] = asyncio.Semaphore(CATCH_UP_AT_ONCE)
    return gate


def _frame(ev: live.FeedEvent) -> str:
    return f"id: {ev.cursor}\nevent: {ev.kind}\ndata: {json.dumps(ev.data(), ensure_ascii=False)}\n\n"


@router.get("/ioc/stream")
async def stream(
    request: Request,
    a: Annotated[Auth, Depends(require("ioc.view"))],
    after: Annotated[str | None, Query(max_length=100)] = None,
    linger: Annotated[int, Query(ge=0, le=3600)] = 600,
) -> StreamingResponse:
    """New cases, dispatches, closures, rework, supervision and alarms as they are committed."""
    db = get_db(request)
    hub = live.hub_for(db)
    actor = a.actor
    sees_all = actor.can("case.read_all")
    resume = live.Cursor.parse((request.headers.get("last-event-id") or after or "")[:100])
    if "text/event-stream" not in request.headers.get("accept", ""):
        linger = 0  # not an EventSource: the current cursor (and what was missed since ``after``), then the end
    if actor.id is not None:
        slot = SLOTS.take(f"user:{actor.id}", MAX_STREAMS_PER_USER)
    else:
        slot = SLOTS.take(f"ip:{request.client.host if request.client else '?'}", MAX_STREAMS_PER_ADDRESS)

    async def visible(events: list[live.FeedEvent]) -> list[live.FeedEvent]:
        if sees_all:
            return events
        ids = {e.case_id for e in events if e.case_id is not None}

        def check() -> set[int]:
            with db.reading() as s:
                return cases_q.visible_case_ids(s, actor=actor, ids=ids)

        ok = await asyncio.to_thread(check) if ids else set()
        return [e for e in events if e.case_id is None or e.case_id in ok]

    async def frames() -> AsyncIterator[str]:
        try:
            q = await hub.subscribe()
        except BaseException:
            slot.release()
            raise
        try:
            assert hub.cursor is not None
            sent = hub.cursor
            yield f"retry: {RETRY_MS}\n\n"
            if resume is not None:
                async with _catch_up_gate():
                    missed = await asyncio.to_thread(live.catch_up, db, resume)
                if missed is None:  # too much to replay: the browser reloads what it shows
                    yield f"id: {sent}\nevent: reset\ndata: {{}}\n\n"
                else:
                    for old in await visible(missed[0]):
                        yield _frame(old)
                    sent = missed[1].after(sent)
            yield f"id: {sent}\nevent: hello\ndata: {{}}\n\n"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + linger
            while not hub.closing:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    ev: live.FeedEvent | None = await asyncio.wait_for(q.get(), timeout=min(KEEPALIVE_S, left))
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    yield ": keep-alive\n\n"
                    continue
                if ev is None:
                    break
                if ev.seen_by(sent):
                    continue  # already sent while catching up
                sent = ev.cursor.after(sent)
                for out in await visible([ev]):
                    yield _frame(out)
        finally:
            hub.unsubscribe(q)
            slot.release()

    body = frames()
    weakref.finalize(body, slot.release)  # also when the stream is never started (the client left)
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
