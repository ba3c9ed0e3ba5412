"""Sending a text message to a phone: the adapter interface and its two adapters.

``GatewaySms`` posts ``{"phone", "text"}`` to the county's SMS gateway (政务短信平台 or a carrier's HTTP
interface; ``notify_sms_url`` and ``notify_sms_token``, the same gateway as case notifications).
``ConsoleSms`` is for development: it prints the message on the server's console, so a developer can
sign in without a gateway; production refuses it. Tests set their own with :func:`set_sender`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Protocol

from countyos.core.crypto import mask_phone
from countyos.core.errors import ServiceUnavailable
from countyos.core.settings import get_settings

log = logging.getLogger("countyos.sms")


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class GatewaySms:
    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        r = httpx.post(self.url, json={"phone": phone, "text": text}, headers=headers, timeout=self.timeout)
        r.raise_for_status()


class ConsoleSms:
    """Development only: the message on the console (stderr), the phone masked in the log."""

    def send(self, phone: str, text: str) -> None:
        print(f"[SMS to {phone}] {text}", file=sys.stderr, flush=True)
        log.warning("development SMS adapter: a message to %s was printed on the console", mask_phone(phone))


@dataclass
class MemorySms:
    """Keeps what was sent (tests, and the demo's own checks)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))

    def last_to(self, phone: str) -> str | None:
        return next((text for p, text in reversed(self.sent) if p == phone), None)


_override: SmsSender | None = None


def set_sender(sender: SmsSender | None) -> None:
    global _override
    _override = sender


def sender() -> SmsSender:
    """The sender the settings choose (or the one a test set)."""
    if _override is not None:
        return _override
    s = get_settings()
    choice = s.portal_sms or ("gateway" if s.notify_sms_url else "console")
    if choice == "gateway":
        if not s.notify_sms_url:
            raise ServiceUnavailable("Text messages cannot be sent: no SMS gateway is configured")
        return GatewaySms(s.notify_sms_url, s.notify_sms_token.get_secret_value() if s.notify_sms_token else None)
    if s.env == "prod":
        raise ServiceUnavailable("Text messages cannot be sent: no SMS gateway is configured")
    return ConsoleSms()
