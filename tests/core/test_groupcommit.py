"""Group commit: jobs waiting together share one transaction; a failing job is undone alone; a failed
commit answers every job of its batch with the error and writes nothing; callers hear only after commit."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from countyos.core.db import Database
from countyos.core.groupcommit import GroupCommit
from tests.loops import run_alone


@pytest.fixture
def db(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'g.db'}")
    with database.engine.begin() as c:
        c.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        c.execute(
            text(
                "CREATE TABLE note (id INTEGER PRIMARY KEY,"
                " item_id INTEGER REFERENCES item (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield database
    database.dispose()


def names(db: Database) -> list[str]:
    with db.reading() as s:
        return list(s.execute(text("SELECT name FROM item ORDER BY id")).scalars())


async def queued(writer: GroupCommit, n: int) -> None:
    """Until N jobs wait in the writer's queue (the tasks just made have run up to their await)."""
    for _ in range(100):
        if writer._jobs.qsize() >= n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{writer._jobs.qsize()} jobs queued, not {n}")


def insert(name: str):
    def job(s: Session) -> str:
        s.execute(text("INSERT INTO item (name) VALUES (:n)"), {"n": name})
        return name

    return job


def test_jobs_that_wait_together_share_one_transaction(db):
    writer = GroupCommit(db)
    gate, taken = threading.Event(), threading.Event()

    def first(s: Session) -> str:
        taken.set()
        s.execute(text("INSERT INTO item (name) VALUES ('a')"))
        assert gate.wait(5)  # the others queue meanwhile
        return "a"

    async def main() -> list[str]:
        head = asyncio.ensure_future(writer.run(first))
        assert await asyncio.to_thread(taken.wait, 5)  # the writer has taken "a" alone
        rest = [asyncio.ensure_future(writer.run(insert(n))) for n in "bcd"]
        await queued(writer, 3)
        gate.set()
        return list(await asyncio.gather(head, *rest))

    assert run_alone(main()) == ["a", "b", "c", "d"]
    assert names(db) == ["a", "b", "c", "d"]
    assert (writer.batches, writer.jobs) == (2, 4)  # "a", then "b", "c" and "d" in one transaction


def test_a_failing_job_is_undone_alone_and_its_caller_gets_the_error(db):
    writer = GroupCommit(db)
    gate, taken = threading.Event(), threading.Event()

    def hold(s: Session) -> str:
        taken.set()
        assert gate.wait(5)
        return "held"

    def broken(s: Session) -> str:
        s.execute(text("INSERT INTO item (name) VALUES ('half-written')"))
        raise ValueError("bad report")

    runs: list[str] = []

    def counted_x(s: Session) -> str:
        runs.append("x")
        return insert("x")(s)

    async def main() -> list[object]:
        head = asyncio.ensure_future(writer.run(hold))
        assert await asyncio.to_thread(taken.wait, 5)
        batch = [asyncio.ensure_future(writer.run(j)) for j in (counted_x, broken, insert("y"))]
        await queued(writer, 3)
        gate.set()
        return list(await asyncio.gather(head, *batch, return_exceptions=True))

    held, x, error, y = run_alone(main())
    assert (held, x, y) == ("held", "x", "y")
    assert isinstance(error, ValueError) and str(error) == "bad report"
    assert names(db) == ["x", "y"]  # nothing of the failed job, everything of the others, once
    assert runs == ["x", "x"]  # the first try (no savepoints) was rolled back; then each in a savepoint
    assert writer.batches == 2


def test_a_failed_commit_answers_every_job_of_the_batch_and_writes_nothing(db):
    writer = GroupCommit(db)
    gate, taken = threading.Event(), threading.Event()
    answered: list[str] = []

    def hold(s: Session) -> str:
        taken.set()
        assert gate.wait(5)
        return "held"

    def poison(s: Session) -> str:  # fine on its own, but the COMMIT fails (a deferred constraint)
        s.execute(text("INSERT INTO item (name) VALUES ('p')"))
        s.execute(text("INSERT INTO note (item_id) VALUES (999)"))
        return "p"

    async def one(job) -> str:
        value = await writer.run(job)
        answered.append(value)
        return value

    async def main() -> list[object]:
        head = asyncio.ensure_future(one(hold))
        assert await asyncio.to_thread(taken.wait, 5)
        batch = [asyncio.ensure_future(one(j)) for j in (insert("m"), poison, insert("n"))]
        await queued(writer, 3)
        gate.set()
        return list(await asyncio.gather(head, *batch, return_exceptions=True))

    results = run_alone(main())
    assert results[0] == "held"
    assert all(isinstance(r, IntegrityError) for r in results[1:]), results
    assert answered == ["held"]  # no caller of the failed batch heard "done"
    assert names(db) == []
    # the writer goes on: the next job is written
    assert run_alone(writer.run(insert("after"))) == "after"
    assert names(db) == ["after"]


def test_the_thread_ends_when_idle_and_starts_again_on_demand(db):
    writer = GroupCommit(db, idle_s=0.1)
    assert run_alone(writer.run(insert("one"))) == "one"
    first = writer._thread
    assert first is not None
    first.join(2)
    assert not first.is_alive() and writer._thread is None
    assert run_alone(writer.run(insert("two"))) == "two"
    assert names(db) == ["one", "two"]
