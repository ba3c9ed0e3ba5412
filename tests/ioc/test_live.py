"""The live feed: commit order (no event skipped when a lower id commits later, on PostgreSQL), bounded
catch-up (a resume from far back is told to reload), and a limit of open streams per person."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from countyos.cases.models import Case, CaseEvent, Channel
from countyos.core.clock import utcnow
from countyos.ioc.api import live as live_api
from countyos.ioc.service import live
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmState, Severity, Thing
from tests.cases.conftest import World
from tests.factories import login, person
from tests.ioc.conftest import settle
from tests.ioc.test_view import frames


def _case(db, w: World, title: str = "井盖缺失") -> int:
    with db.unit_of_work() as s:
        c = Case(channel=Channel.GRID, category_id=w.cat_manhole, title=title, state="reported", version=1,
                 number=f"L{utcnow().timestamp():.0f}", lon=119.1, lat=28.5)  # fmt: skip
        s.add(c)
        s.flush()
        return c.id


def _event(s, case_id: int, seq: int, *, action: str = "report", minutes_ago: float = 0) -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    s.add(CaseEvent(case_id=case_id, seq=seq, at=at, action=action, to_state="reported"))
    s.flush()


def _alarm(db) -> int:
    with db.unit_of_work() as s:
        t = Thing(name="水位站", device_key="wl-live", device_class="river_gauge", lon=119.1, lat=28.5)
        s.add(t)
        s.flush()
        a = Alarm(kind=AlarmKind.RULE, thing_id=t.id, severity=Severity.MAJOR, state=AlarmState.ACTIVE,
                  title="水位超警戒", raised_at=utcnow(), last_raised_at=utcnow())  # fmt: skip
        s.add(a)
        s.flush()
        return a.id


# --- the cursor --------------------------------------------------------------------------------


def test_cursors_name_transaction_and_row_and_read_the_old_form():
    c = live.Cursor.parse("c1890:12.a1875:3")
    assert c == live.Cursor(12, 3, 1890, 1875) and str(c) == "c1890:12.a1875:3"
    assert c.case == (1890, 12) and c.alarm == (1875, 3)
    assert live.Cursor.parse("c12.a3") == live.Cursor(12, 3) and str(live.Cursor(12, 3)) == "c12.a3"
    assert live.Cursor.parse("c0.a0") == live.Cursor()
    for bad in ("c1:.a1", "c-1.a2", "c1.b2", "c1:2:3.a1", "c" + "9" * 40 + ".a1", "", None):
        assert live.Cursor.parse(bad) is None, bad
    # a later transaction is later, whatever its row id
    assert live.Cursor(5, 0, 20, 0).after(live.Cursor(9, 0, 19, 0)) == live.Cursor(5, 0, 20, 0)
    assert live.Cursor(5, 0, 20, 0).ahead_of(live.Cursor(9, 0, 19, 0))


# --- commit order ------------------------------------------------------------------------------


@pytest.mark.committed  # the feed reads only committed rows below the PostgreSQL horizon
def test_events_are_read_in_commit_order(db, world):
    case_id = _case(db, world)
    start = live.current(db)
    with db.unit_of_work() as s:
        _event(s, case_id, 1)
        _event(s, case_id, 2, action="dispatch")
    settle(db)
    events, cur = live.read_after(db, start)
    assert [e.kind for e in events] == ["case_reported", "case_dispatched"]
    assert cur == events[-1].cursor and live.read_after(db, cur)[0] == []
    assert live.current(db) == cur


def _drain(db, cur: live.Cursor, want: int) -> tuple[list[live.FeedEvent], live.Cursor]:
    """Read until ``want`` events came (a transaction in progress anywhere on the server holds the
    horizon back for a moment)."""
    got: list[live.FeedEvent] = []
    deadline = time.monotonic() + 60
    while len(got) < want and time.monotonic() < deadline:
        events, cur = live.read_after(db, cur)
        got += events
        if len(got) < want:
            time.sleep(0.1)
    return got, cur


@pytest.mark.postgres_only
@pytest.mark.committed  # two writers of their own: real transactions
@pytest.mark.parametrize("older", ["lower id", "higher id"])
def test_an_event_whose_lower_id_commits_later_is_still_delivered(db, world, older):
    """Two writers: A takes the lower id, B the higher one and commits first. The feed does not move
    past A while A is in progress and delivers both, in the order of their transactions: none is
    skipped (before, the cursor moved past B's id and A's event was lost)."""
    case_id = _case(db, world)
    start = live.current(db)
    a, b = db.session(write=True), db.session(write=True)
    try:
        if older == "higher id":  # B's transaction began (took its id) before A's
            b.execute(text("SELECT pg_current_xact_id()"))
        _event(a, case_id, 1)  # the lower id, not committed yet
        _event(b, case_id, 2, action="dispatch")
        b.commit()
        early, cur = live.read_after(db, start)
        if older == "lower id":
            assert early == [] and cur == start  # held back while A is in progress
        else:
            assert [e.kind for e in early] in ([], ["case_dispatched"])
        a.commit()
        rest, end = _drain(db, cur, 2 - len(early))
        kinds = [e.kind for e in early + rest]
        expected = ["case_reported", "case_dispatched"]
        assert kinds == (expected if older == "lower id" else expected[::-1])
        assert live.read_after(db, end)[0] == [] and live.current(db) == end
    finally:
        a.close()
        b.close()


def _run(coro) -> None:
    """Run a coroutine on a loop of its own (another test may leave a loop running in this thread)."""
    t = threading.Thread(target=asyncio.run, args=(coro,))
    t.start()
    t.join()


@pytest.mark.postgres_only
@pytest.mark.committed  # two writers of their own: real transactions
def test_the_hub_delivers_a_lower_id_committed_later(db, world):
    case_id = _case(db, world)
    hub = live.Hub(db)
    hub.cursor = live.current(db)
    q: asyncio.Queue[live.FeedEvent | None] = asyncio.Queue()
    hub.subscribers.add(q)
    a, b = db.session(write=True), db.session(write=True)
    try:
        _event(a, case_id, 1)
        _event(b, case_id, 2, action="dispatch")
        b.commit()
        _run(hub.poll())
        assert q.empty()
        a.commit()
        deadline = time.monotonic() + 60
        while q.qsize() < 2 and time.monotonic() < deadline:
            _run(hub.poll())
            time.sleep(0.1)
        got = [q.get_nowait() for _ in range(q.qsize())]
        assert [e.kind for e in got if e is not None] == ["case_reported", "case_dispatched"]
    finally:
        a.close()
        b.close()


# --- bounded catch-up --------------------------------------------------------------------------


@pytest.mark.committed  # the feed reads only committed rows below the PostgreSQL horizon
def test_a_resume_from_far_back_is_told_to_reload_not_replayed(client, db, world):
    case_id = _case(db, world)
    with db.unit_of_work() as s:
        for n in range(3):
            _event(s, case_id, n + 1, minutes_ago=120 - n)  # two hours ago
    settle(db)
    login(client, person(db, ["dispatcher"]))
    hello = frames(client.get("/api/v1/ioc/stream").text)[-1]
    for after in ("c0.a0", None):
        headers = {"Last-Event-ID": after} if after else {}
        got = frames(client.get("/api/v1/ioc/stream", params={"after": "c0.a0"}, headers=headers).text)
        assert [f.get("event") for f in got] == [None, "reset", "hello"]
        assert got[1]["id"] == got[2]["id"] == hello["id"]
    assert live.catch_up(db, live.Cursor()) is None


@pytest.mark.committed  # the feed reads only committed rows below the PostgreSQL horizon
def test_a_resume_that_missed_too_many_events_is_told_to_reload(client, db, world, monkeypatch):
    monkeypatch.setattr(live, "CATCH_UP_MAX_EVENTS", 5)
    monkeypatch.setattr(live, "CATCH_UP_PAGE", 2)
    case_id = _case(db, world)
    login(client, person(db, ["dispatcher"]))
    start = frames(client.get("/api/v1/ioc/stream").text)[-1]["id"]
    with db.unit_of_work() as s:
        for n in range(5):
            _event(s, case_id, n + 1)
    settle(db)
    got = frames(client.get("/api/v1/ioc/stream", headers={"Last-Event-ID": start}).text)
    assert [f.get("event") for f in got] == [None, *["case_reported"] * 5, "hello"]  # 5: replayed, in pages
    with db.unit_of_work() as s:
        _event(s, case_id, 6)
    settle(db)
    got = frames(client.get("/api/v1/ioc/stream", headers={"Last-Event-ID": start}).text)
    assert [f.get("event") for f in got] == [None, "reset", "hello"]  # 6: too many


def test_a_cursor_ahead_of_the_feed_is_told_to_reload(client, db, world):
    login(client, person(db, ["dispatcher"]))
    got = frames(client.get("/api/v1/ioc/stream", params={"after": "c999999.a999999"}).text)
    assert [f.get("event") for f in got] == [None, "reset", "hello"]


@pytest.mark.committed  # the feed reads only committed rows below the PostgreSQL horizon
def test_recent_alarm_and_case_events_are_replayed(client, db, world):
    case_id = _case(db, world)
    alarm_id = _alarm(db)
    login(client, person(db, ["dispatcher"]))
    start = frames(client.get("/api/v1/ioc/stream").text)[-1]["id"]
    with db.unit_of_work() as s:
        _event(s, case_id, 1, minutes_ago=10)
        s.add(AlarmEvent(alarm_id=alarm_id, at=utcnow(), action="raise", to_state="active"))
    settle(db)
    got = frames(client.get("/api/v1/ioc/stream", params={"after": start}).text)
    assert [f.get("event") for f in got] == [None, "case_reported", "alarm_raised", "hello"]


# --- open streams per person -------------------------------------------------------------------


def test_open_streams_are_limited_per_person(client, db, world):
    p = person(db, ["dispatcher"])
    login(client, p)
    holder = f"user:{p.id}"
    taken = [live_api.SLOTS.take(holder, live_api.MAX_STREAMS_PER_USER) for _ in range(live_api.MAX_STREAMS_PER_USER)]
    try:
        r = client.get("/api/v1/ioc/stream", params={"after": "c0.a0"})
        assert r.status_code == 429
        assert r.headers["content-type"].startswith("application/problem+json")
        body = json.loads(r.text)
        assert body["code"] == "rate_limited" and body["status"] == 429
        # another person is not affected
        other = person(db, ["dispatcher"])
        client.cookies.clear()
        login(client, other)
        assert client.get("/api/v1/ioc/stream").status_code == 200
        client.cookies.clear()
        login(client, p)
        taken.pop().release()
        assert client.get("/api/v1/ioc/stream").status_code == 200
    finally:
        for slot in taken:
            slot.release()
    assert live_api.SLOTS.open[holder] == 0  # a finished stream gives its place back
