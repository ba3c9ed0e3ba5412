"""core.signals: receivers run in the sender's call with its arguments, once each; every domain's
``receivers`` module is connected before the first signal is delivered."""

from __future__ import annotations

from typing import Any

from countyos.cases.service.cases import CASE_CREATED
from countyos.core.signals import Signal
from countyos.safety.service import triggers
from countyos.sensing.service.alarms import ALARM_RAISED


def test_receivers_get_the_session_and_the_arguments_once_each() -> None:
    sig = Signal("test.signal")
    got: list[tuple[Any, dict[str, Any]]] = []

    def receiver(session: Any, **kwargs: Any) -> None:
        got.append((session, kwargs))

    sig.connect(receiver)
    sig.connect(receiver)  # connecting twice delivers once
    sig.send("the session", a=1, b="two")
    assert got == [("the session", {"a": 1, "b": "two"})]
    sig.disconnect(receiver)
    sig.send("the session", a=2)
    assert len(got) == 1


def test_a_failing_receiver_stops_the_sender() -> None:
    sig = Signal("test.failing")

    def broken(session: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    sig.connect(broken)
    try:
        sig.send(None)
    except RuntimeError as exc:
        assert str(exc) == "boom"
    else:
        raise AssertionError("the receiver's error must reach the sender")


def test_the_domains_receivers_are_connected_before_the_first_delivery() -> None:
    assert triggers.on_alarm_raised in ALARM_RAISED.receivers
    assert triggers.on_case_created in CASE_CREATED.receivers
