"""SQLite writers of one process wait their turn in arrival order, and a wait has the busy timeout's limit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from countyos.core import db as core_db
from countyos.core.db import Database, WriterQueue


def test_the_queue_serves_waiters_in_arrival_order():
    q = WriterQueue()
    assert q.acquire(1)
    order: list[int] = []
    threads = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: (q.acquire(5), order.append(i), q.release()))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while len(q._waiters) < i + 1 and time.monotonic() < deadline:  # queued before the next starts
            time.sleep(0.001)
        assert len(q._waiters) == i + 1
    q.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_wait_gives_up_after_the_timeout_and_leaves_the_queue():
    q = WriterQueue()
    assert q.acquire(1)
    started = time.monotonic()
    assert not q.acquire(0.2)
    assert time.monotonic() - started >= 0.2
    q.release()
    assert q.acquire(0.1)  # the one that gave up is not served later
    q.release()


@pytest.fixture
def sqlite_db(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with database.engine.begin() as c:
        c.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        c.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield database
    database.dispose()


def test_concurrent_writers_all_succeed_and_none_is_lost(sqlite_db):
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(20):
                with sqlite_db.unit_of_work() as s:
                    n = s.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                    s.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with sqlite_db.reading() as s:
        assert s.execute(text("SELECT n FROM counter")).scalar_one() == 160


def test_a_failed_transaction_hands_the_turn_on(sqlite_db):
    with pytest.raises(RuntimeError), sqlite_db.unit_of_work() as s:
        s.execute(text("UPDATE counter SET n = 5"))
        raise RuntimeError("the request failed")
    done = threading.Event()

    def other() -> None:
        with sqlite_db.unit_of_work() as s:
            s.execute(text("UPDATE counter SET n = 7"))
        done.set()

    threading.Thread(target=other).start()
    assert done.wait(5)
    with sqlite_db.reading() as s:
        assert s.execute(text("SELECT n FROM counter")).scalar_one() == 7


def test_a_writer_waiting_past_the_busy_timeout_gets_an_operational_error(sqlite_db, monkeypatch):
    monkeypatch.setattr(core_db, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite_db.session(write=True)
    holder.execute(text("UPDATE counter SET n = 1"))  # holds the writer's turn until it ends
    try:
        result: list[BaseException] = []

        def late() -> None:
            try:
                with sqlite_db.unit_of_work() as s:
                    s.execute(text("UPDATE counter SET n = 2"))
            except BaseException as exc:
                result.append(exc)

        t = threading.Thread(target=late)
        t.start()
        t.join(10)
        assert len(result) == 1 and isinstance(result[0], OperationalError)
    finally:
        holder.rollback()
        holder.close()
