"""Group commit: one thread runs write jobs, several of them in one transaction.

A route that many clients post to at once (Open311) hands its write to ``GroupCommit.run`` instead of
opening a unit of work of its own. The writer thread takes every job waiting (up to ``max_batch``),
runs them in one write transaction and commits once:

- a job that raises gets its exception and nothing of it is written; the others go on. (They run
  first without savepoints; when one raises, the transaction is rolled back and the others run again,
  each in a savepoint, so a failing job is undone alone. Jobs must therefore not act outside the
  database before their commit, and may run twice.)
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


class _Retry(Exception):
    """A job of a first try failed: the transaction is rolled back and the others run again."""


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
        self.batches += 1
        self.jobs += len(batch)
        jobs = [(job, done) for job, done in batch if done.set_running_or_notify_cancel()]
        try:
            if not self._run(jobs, isolated=False):  # a job failed: the others again, each in a savepoint
                rest = [(job, done) for job, done in jobs if not done.done()]
                if rest:
                    self._run(rest, isolated=True)
        except BaseException as exc:  # the transaction failed (commit, begin): nothing of the batch was written
            for _, done in jobs:
                if not done.done():
                    done.set_exception(exc)

    def _run(self, jobs: list[Job], *, isolated: bool) -> bool:
        """Run the jobs in one transaction and commit; answer them after the commit.

        Not ``isolated`` (the first try): no savepoints, which cost about a tenth of a report; the first
        job that raises gets its error, the transaction is rolled back and False is returned, with
        nothing written. ``isolated``: each job in a savepoint, a failing job is undone alone."""
        ran: list[tuple[Future[Any], Any]] = []
        try:
            with self._db.unit_of_work() as session:
                for job, done in jobs:
                    try:
                        if isolated:
                            with session.begin_nested():
                                value = job(session)
                        else:
                            value = job(session)
                    except Exception as exc:  # its caller gets its error
                        done.set_exception(exc)
                        if not isolated:
                            raise _Retry from exc  # rolls the transaction back
                    else:
                        ran.append((done, value))
        except _Retry:
            return False
        for done, value in ran:  # committed: now, and only now, the callers are answered
            done.set_result(value)
        return True


def for_app(state: Any, db: Database) -> GroupCommit:
    """The application's group-commit writer (one per application and database)."""
    writer: GroupCommit | None = getattr(state, "group_commit", None)
    if writer is None or writer._db is not db:
        writer = state.group_commit = GroupCommit(db)
    return writer
