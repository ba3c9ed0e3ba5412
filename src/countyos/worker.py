"""``countyos worker``: the scheduler (and, when configured, ingest) without the web application.

Run it beside several API workers started with ``countyos serve --workers N`` and
``COUNTYOS_RUN_JOBS=false``, so that scheduled work runs in one place.
"""

from __future__ import annotations

import signal
import threading

from countyos import domains
from countyos.core.db import Database
from countyos.core.scheduler import Scheduler
from countyos.core.settings import Settings


def run(settings: Settings, *, tick: float = 1.0) -> None:
    db = Database(settings.database_url)
    scheduler = Scheduler(db, domains.jobs(), off=lambda: domains.modules_off_now(db))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        scheduler.run_due()
        stop.wait(tick)
    db.dispose()
