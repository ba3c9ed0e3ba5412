"""Notifications behind a small interface: rows first (an outbox), delivery after commit.

``queue(...)`` writes one ``Notification`` per recipient and channel inside the caller's transaction;
its ``dedupe_key`` is unique, so a sweep repeated on another worker adds nothing. In-app messages
are delivered by being there. ``deliver_pending`` (a job, after commit) sends the others through a
``Sender`` chosen by channel: webhook is built in; SMS, WeCom (企业微信) and DingTalk (钉钉) are
adapters configured by the county, with ``FakeSender`` for tests and the demo.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from countyos.cases.models import Notification
from countyos.core.clock import utcnow

log = logging.getLogger("countyos.cases.notify")
CHANNELS = ("inapp", "webhook", "sms", "wecom", "dingtalk")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Message:
    channel: str
    address: str | None
    title: str
    body: str | None


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class WebhookSender:
    """POSTs JSON to a URL (the address, or the default URL)."""

    def __init__(self, default_url: str | None = None, timeout: float = 5.0) -> None:
        self.default_url, self.timeout = default_url, timeout

    def send(self, message: Message) -> None:
        import httpx

        url = message.address or self.default_url
        if not url:
            raise ValueError("no webhook URL")
        r = httpx.post(url, json={"title": message.title, "body": message.body}, timeout=self.timeout)
        r.raise_for_status()


class WeComSender(WebhookSender):
    """企业微信群机器人: the address is the robot's webhook URL."""

    def send(self, message: Message) -> None:
        import httpx

        url = message.address or self.default_url
        if not url:
            raise ValueError("no WeCom robot URL")
        body = {"msgtype": "text", "text": {"content": f"{message.title}\n{message.body or ''}"}}
        httpx.post(url, json=body, timeout=self.timeout).raise_for_status()


class DingTalkSender(WeComSender):
    """钉钉群机器人: same message shape as WeCom's text message."""


@dataclass
class FakeSender:
    """Records messages; ``fail`` makes every send raise (to test retries)."""

    sent: list[Message] = field(default_factory=list)
    fail: bool = False

    def send(self, message: Message) -> None:
        if self.fail:
            raise RuntimeError("fake sender told to fail")
        self.sent.append(message)


_senders: dict[str, Sender] = {}


def set_sender(channel: str, sender: Sender | None) -> None:
    if sender is None:
        _senders.pop(channel, None)
    else:
        _senders[channel] = sender


def sender_for(channel: str) -> Sender | None:
    if channel in _senders:
        return _senders[channel]
    if channel == "webhook":
        return WebhookSender()
    return None  # SMS/WeCom/DingTalk are configured by the county (set_sender); none by default


def queue(
    session: Session,
    *,
    key: str,
    kind: str,
    title: str,
    body: str | None = None,
    case_id: int | None = None,
    user_ids: Iterable[int] = (),
    channel: str = "inapp",
    addresses: Iterable[str] = (),
) -> int:
    """Queue one message per user (in-app) or address; returns how many were new."""
    n = 0
    targets: list[tuple[int | None, str | None]] = [(u, None) for u in dict.fromkeys(user_ids)]
    targets += [(None, a) for a in dict.fromkeys(addresses)]
    for user_id, address in targets:
        dedupe = f"{key}:{channel}:{user_id if user_id is not None else address}"[:120]
        if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe)) is not None:
            continue
        note = Notification(
            dedupe_key=dedupe,
            case_id=case_id,
            kind=kind,
            channel=channel,
            user_id=user_id,
            address=address,
            title=title[:200],
            body=body,
            sent_at=utcnow() if channel == "inapp" else None,
        )
        try:
            with session.begin_nested():
                session.add(note)
                session.flush()
        except IntegrityError:
            continue  # another worker queued it first
        n += 1
    return n


def inbox(session: Session, *, user_id: int, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id, Notification.channel == "inapp")
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, *, user_id: int, ids: list[int] | None = None) -> int:
    stmt = select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids:
        stmt = stmt.where(Notification.id.in_(ids))
    n = 0
    for note in session.scalars(stmt):
        note.read_at = utcnow()
        n += 1
    session.flush()
    return n


def deliver_pending(session: Session, *, limit: int = 100, now: datetime | None = None) -> int:
    """Send queued external messages (run after the writes committed). Returns how many were sent."""
    now = now or utcnow()
    stmt = (
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.channel != "inapp", Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    sent = 0
    for note in session.scalars(stmt):
        sender = sender_for(note.channel)
        note.attempts += 1
        if sender is None:
            note.error = f"no sender configured for {note.channel}"
            continue
        try:
            sender.send(Message(note.channel, note.address, note.title, note.body))
        except Exception as exc:  # delivery failures are recorded and retried, never raised
            note.error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("notification %s failed: %s", note.id, note.error)
            continue
        note.sent_at, note.error = now, None
        sent += 1
    session.flush()
    return sent


def as_json(note: Notification) -> str:
    return json.dumps({"id": note.id, "title": note.title, "body": note.body}, ensure_ascii=False)
