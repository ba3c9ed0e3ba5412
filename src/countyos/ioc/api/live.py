"""The live feed as server-sent events (``text/event-stream``).

The stream starts with ``retry:`` (reconnect after 2 s), sends each event with its cursor as the
event id, a comment every 15 s so that a dead connection is noticed, and ends after ``linger``
seconds or when the server shuts down; the browser's EventSource then reconnects with
``Last-Event-ID`` and receives what it missed (see ``service/live.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from countyos.cases.service import ioc_queries as cases_q
from countyos.ioc.service import live
from countyos.web.deps import Auth, get_db, require

router = APIRouter(tags=["ioc"])

RETRY_MS = 2000
KEEPALIVE_S = 15.0
CATCH_UP_ROUNDS = 10  # of up to 200 + 200 events


def _frame(ev: live.FeedEvent) -> str:
    return f"id: {ev.cursor}\nevent: {ev.kind}\ndata: {json.dumps(ev.data(), ensure_ascii=False)}\n\n"


@router.get("/ioc/stream")
async def stream(
    request: Request,
    a: Annotated[Auth, Depends(require("ioc.view"))],
    after: Annotated[str | None, Query(max_length=40)] = None,
    linger: Annotated[int, Query(ge=0, le=3600)] = 600,
) -> StreamingResponse:
    """New cases, dispatches, closures, rework, supervision and alarms as they are committed."""
    db = get_db(request)
    hub = live.hub_for(db)
    actor = a.actor
    sees_all = actor.can("case.read_all")
    resume = live.Cursor.parse(request.headers.get("last-event-id") or after)
    if "text/event-stream" not in request.headers.get("accept", ""):
        linger = 0  # not an EventSource: the current cursor (and what was missed since ``after``), then the end

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
        q = await hub.subscribe()
        try:
            assert hub.cursor is not None
            sent = hub.cursor
            yield f"retry: {RETRY_MS}\n\n"
            cur = resume
            for _ in range(CATCH_UP_ROUNDS):
                if cur is None:
                    break
                missed, upto = await asyncio.to_thread(live.read_after, db, cur)
                for old in await visible(missed):
                    yield _frame(old)
                sent, cur = upto.after(sent), (upto if missed else None)
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

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
