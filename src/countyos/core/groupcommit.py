"""Group commit: one thread runs write jobs, several of them in one transaction.

A route that many clients post to at once (Open311) hands its write to ``GroupCommit.run`` instead of
opening a unit of work of its own. The writer thread takes every job waiting (up to ``max_batch``),
runs each in a savepoint of one write transaction and commits once:

- a job that raises is undone alone (its savepoint is rolled back) and its caller gets the exception;
  the others go on;
- a caller is answered only after the commit that holds its job: when the commit fails, every job of
  the batch gets the commit's error and nothing of it was written;
- a job returns plain data (numbers, strings), never ORM objects, because its session is closed after
  the commit.

Why: each request's own transaction costs a thread hop into the pool and back for the session, a
wait in the writer queue, a BEGIN and a COMMIT. Under load the jobs queue anyway (SQLite admits one
writer), so the queue is drained in one transaction and the per-transaction cost is paid once per
batch; with one job waiting it is one job per transaction, as before.

The thread starts on the first job and ends after ``idle_s`` without work.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from countyos.core.db import Database

T = TypeVar("T")
Job = tuple[Callable[[Session], Any], "Future[Any]"]


class GroupCommit:
    def __init__(self, db: Database, *, max_batch: int = 32, idle_s: float = 5.0) -> None:
        self._db = db
        self.max_batch = max_batch
        self.idle_s = idle_s
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # transactions run (committed or failed) and the jobs in them: what tests check
        self.jobs = 0

    async def run(self, job: Callable[[Session], T]) -> T:
        """Run ``job(session)`` in the next group transaction; its value once that has committed."""
        done: Future[T] = Future()
        with self._lock:
            self._jobs.put((job, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="countyos-group-commit", daemon=True)
                self._thread.start()
        return await asyncio.wrap_future(done)

    def _take(self) -> list[Job] | None:
        """The jobs waiting (at least one, blocking for it), or None when idle: the thread ends."""
        try:
            first = self._jobs.get(timeout=self.idle_s)
        except queue.Empty:
            with self._lock:  # run() starts a new thread when it finds none
                if self._jobs.empty():
                    self._thread = None
                    return None
            first = self._jobs.get()
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                batch.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        while (batch := self._take()) is not None:
            self._commit(batch)

    def _commit(self, batch: list[Job]) -> None:
        ran: list[tuple[Future[Any], Any]] = []
        self.batches += 1
        self.jobs += len(batch)
        try:
            with self._db.unit_of_work() as session:
                for job, done in batch:
                    if not done.set_running_or_notify_cancel():
                        continue
                    try:
                        with session.begin_nested():
                            value = job(session)
                    except Exception as exc:  # this job alone is undone; the caller gets its error
                        done.set_exception(exc)
                    else:
                        ran.append((done, value))
            for done, value in ran:  # committed: now, and only now, the callers are answered
                done.set_result(value)
        except BaseException as exc:  # the transaction failed (commit, begin): nothing of the batch was written
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return  # the thread goes on with the next batch


def for_app(state: Any, db: Database) -> GroupCommit:
    """The application's group-commit writer (one per application and database)."""
    writer: GroupCommit | None = getattr(state, "group_commit", None)
    if writer is None or writer._db is not db:
        writer = state.group_commit = GroupCommit(db)
    return writer
