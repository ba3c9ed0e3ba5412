"""Signals: a domain announces what happened inside a transaction, other domains act on it in the same
transaction, and neither imports the other.

A domain that sends owns its :class:`Signal` (``sensing.service.alarms.ALARM_RAISED``,
``cases.service.cases.CASE_CREATED``). A domain that listens connects its receivers in an optional
module ``receivers.py`` (see ``countyos.domains``); every domain's receivers are connected the first
time any signal is sent in the process, whichever entry point (server, worker, command) runs.

Receivers take the session first and keyword arguments, never commit, and run inside the sender's
transaction: what they write commits or rolls back with what caused it. A receiver that raises undoes
the sender's work too, so a receiver that must never stop the sender catches its own errors inside a
savepoint.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

Receiver = Callable[..., None]

_lock = threading.Lock()
_connected = False


def _connect_all() -> None:
    """Import each domain's ``receivers`` module once (by name: core imports no domain)."""
    global _connected
    if _connected:
        return
    with _lock:
        if _connected:
            return
        importlib.import_module("countyos.domains").modules("receivers")
        _connected = True


class Signal:
    """A named point in one domain's write path that other domains may act on."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Receiver] = []

    def connect(self, fn: Receiver) -> Receiver:
        if fn not in self._receivers:
            self._receivers.append(fn)
        return fn

    def disconnect(self, fn: Receiver) -> None:
        if fn in self._receivers:
            self._receivers.remove(fn)

    @property
    def receivers(self) -> list[Receiver]:
        _connect_all()
        return list(self._receivers)

    def send(self, session: Any, **kwargs: Any) -> None:
        receivers = self.receivers
        if not receivers:
            return
        # a domain switched off (programme.service.modules) does not act on other domains' news
        domains = importlib.import_module("countyos.domains")
        off: frozenset[str] | None = None
        for fn in receivers:
            domain = domains.domain_of(fn.__module__)
            if domain:
                off = domains.modules_off(session) if off is None else off
                if domain in off:
                    continue
            fn(session, **kwargs)
