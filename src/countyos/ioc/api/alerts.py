"""Urgent notices for the person at their desk, from the live feed (server-sent events).

Every signed-in person may open it: the same feed as the operations view (``service/live.py``: one
poller per process, cursors, catch-up), narrowed to what is urgent FOR THIS PERSON — an urgent or
critical case entering one of their queues (a new report for the operations centre, a dispatch or a
rework for the department's handlers: ``cases.service.work.urgent_for``) and a new critical alarm for
the people who acknowledge alarms. Each is sent as an ``urgent`` event; the page (``alerts.js``) shows
a notice, plays a short tone and, when allowed, raises a browser notification. The stream's limits are
those of the live feed (``live.SLOTS``); ``after`` (or ``Last-Event-ID``) resumes where the previous
page left off, so nothing is missed while the person moves from page to page.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from countyos.cases.service import work
from countyos.core import i18n
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.i18n import N_
from countyos.ioc.api.live import KEEPALIVE_S, MAX_STREAMS_PER_USER, RETRY_MS, SLOTS, _catch_up_gate
from countyos.ioc.service import live
from countyos.web.deps import Auth, authenticated, get_db

router = APIRouter(tags=["ioc"])

CASE_NOTICE = {
    "case_reported": N_("New urgent case"),
    "case_dispatched": N_("Urgent case dispatched to your department"),
    "case_rework": N_("Urgent case sent back for rework"),
}
ALARM_NOTICE = N_("New critical alarm")
PRIORITY_LABELS = {"urgent": N_("Urgent"), "critical": N_("Critical")}


def relevant(db: Database, actor: Actor, events: list[live.FeedEvent]) -> list[live.FeedEvent]:
    """The events that are urgent for this person (one read for the case events of a batch)."""
    out: list[live.FeedEvent] = []
    pairs = [
        (e.case_id, action)
        for e in events
        if e.case_id is not None
        and not e.kind.startswith("alarm_")
        and e.priority in work.URGENT_PRIORITIES
        and (action := _action_of(e.kind)) is not None
    ]
    ok: set[tuple[int, str]] = set()
    if pairs:
        with db.reading() as s:
            ok = work.urgent_for(s, actor=actor, events=pairs)
    for e in events:
        if e.kind == "alarm_raised":
            if e.severity == "critical" and actor.can("alarm.ack"):
                out.append(e)
        elif e.kind in CASE_NOTICE and (e.case_id, _action_of(e.kind)) in ok:
            out.append(e)
    return out


def _action_of(kind: str) -> str | None:
    return {"case_reported": "report", "case_dispatched": "dispatch", "case_rework": "check_fail"}.get(kind)


def _frame(ev: live.FeedEvent, locale: str) -> str:
    with i18n.use_locale(locale):
        if ev.kind == "alarm_raised":
            notice = i18n.gettext(ALARM_NOTICE)
            level = i18n.gettext("Critical")
        else:
            notice = i18n.gettext(CASE_NOTICE[ev.kind])
            level = i18n.gettext(PRIORITY_LABELS.get(ev.priority or "", "Urgent"))
    data: dict[str, Any] = {
        "kind": ev.kind,
        "notice": notice,
        "level": level,
        "title": ev.title,
        "ref": ev.ref,
        "url": ev.url,
        "at": ev.at,
    }
    return f"id: {ev.cursor}\nevent: urgent\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


WORDS = {
    "mute": N_("Mute the sound of urgent notices"),
    "unmute": N_("Sound urgent notices"),
    "dismiss": N_("Dismiss"),
    "open": N_("Open"),
}


def _words(locale: str) -> dict[str, str]:
    """The words of the page's notice controls, in the person's language."""
    with i18n.use_locale(locale):
        return {k: i18n.gettext(v) for k, v in WORDS.items()}


@router.get("/alerts/stream")
async def alerts(
    request: Request,
    a: Annotated[Auth, Depends(authenticated)],
    after: Annotated[str | None, Query(max_length=100)] = None,
    linger: Annotated[int, Query(ge=0, le=3600)] = 600,
) -> StreamingResponse:
    """Urgent items for you (urgent cases entering your queues, new critical alarms) as they commit."""
    db = get_db(request)
    hub = live.hub_for(db)
    actor = a.actor
    locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
    resume = live.Cursor.parse((request.headers.get("last-event-id") or after or "")[:100])
    if "text/event-stream" not in request.headers.get("accept", ""):
        linger = 0
    slot = SLOTS.take(f"user:{actor.id}", MAX_STREAMS_PER_USER)

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
                if missed is not None:  # too much missed: only what comes from now on
                    for old in await asyncio.to_thread(relevant, db, actor, missed[0]):
                        yield _frame(old, locale)
                    sent = missed[1].after(sent)
            yield f"id: {sent}\nevent: hello\ndata: {json.dumps(_words(locale), ensure_ascii=False)}\n\n"
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
                    continue
                sent = ev.cursor.after(sent)
                for out in await asyncio.to_thread(relevant, db, actor, [ev]):
                    yield _frame(out, locale)
                yield f"id: {sent}\nevent: tick\ndata: {{}}\n\n"
        finally:
            hub.unsubscribe(q)
            slot.release()

    body = frames()
    weakref.finalize(body, slot.release)
    return StreamingResponse(
        body, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
