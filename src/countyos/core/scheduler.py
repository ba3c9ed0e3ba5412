"""A small in-process scheduler for periodic jobs (one thread, jobs run one at a time).

Jobs are data: ``Job(name, every_seconds, run)`` where ``run`` takes the Database. Every job must be
safe to run on several workers at once (they take row locks or use idempotent writes), so running
``countyos worker`` beside ``countyos serve`` is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from countyos.core.db import Database

log = logging.getLogger("countyos.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Database], object]
    module: str = ""  # the domain whose job it is (set by ``countyos.domains.jobs``): skipped while it is off


class Scheduler:
    def __init__(self, db: Database, jobs: list[Job], off: Callable[[], frozenset[str]] | None = None) -> None:
        self.db = db
        self.jobs = jobs
        self.off = off  # the modules switched off now: their jobs wait, and run at the first tick they are on
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_run: dict[str, float] = {}
        self.last_error: dict[str, str] = {}

    def run_due(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        ran = []
        off = self._off()
        for job in self.jobs:
            if job.module in off:
                self.last_run.pop(job.name, None)  # due at once when the module is back on
                continue
            last = self.last_run.get(job.name)
            if last is not None and now - last < job.every_seconds:
                continue
            self.last_run[job.name] = now
            try:
                job.run(self.db)
                self.last_error.pop(job.name, None)
            except Exception as exc:  # a failing job must not stop the others
                log.exception("job %s failed", job.name)
                self.last_error[job.name] = f"{type(exc).__name__}: {exc}"
            ran.append(job.name)
        return ran

    def _off(self) -> frozenset[str]:
        if self.off is None:
            return frozenset()
        try:
            return self.off()
        except Exception:  # the database is away: run nothing rather than everything
            log.exception("could not read which modules are off")
            return frozenset(j.module for j in self.jobs)

    def start(self, tick: float = 1.0) -> None:
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(tick):
                self.run_due()

        self._thread = threading.Thread(target=loop, name="countyos-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
