"""Notifications behind a small interface: rows first (an outbox), delivery after commit.

``queue(...)`` writes one ``Notification`` per recipient and channel inside the caller's transaction;
its ``dedupe_key`` is unique, so a sweep repeated on another worker adds nothing. In-app messages
are delivered by being there. Which kinds also go out by SMS, WeCom (企业微信), DingTalk (钉钉) or a
webhook is data (``settings.notify_channels``): an SMS row names the person (their phone is decrypted
only when it is sent, never copied), a group-robot or webhook row is one message per event.
``deliver_pending`` (a job, after commit) sends them through a ``Sender`` chosen by channel and built
from the settings (``FakeSender`` for tests), retrying up to ``MAX_ATTEMPTS`` times.
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

from countyos.cases.lifecycle import ACTION_LABELS
from countyos.cases.models import Notification
from countyos.core.clock import utcnow
from countyos.core.i18n import N_, gettext, use_locale
from countyos.core.settings import get_settings
from countyos.org.models import User

log = logging.getLogger("countyos.cases.notify")
KIND_LABELS = {
    "assigned": N_("New task"),
    "yellow": N_("Due soon"),
    "red": N_("Overdue"),
    "supervision": N_("Supervision"),
    "status": N_("Status changed"),
    "crowding": N_("Crowding alarm"),
}
CHANNELS = ("inapp", "webhook", "sms", "wecom", "dingtalk")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Message:
    channel: str
    address: str | None
    title: str
    body: str | None
    kind: str = ""
    url: str | None = None  # the case's page

    @property
    def text(self) -> str:
        return "\n".join(x for x in (self.title, self.body, self.url) if x)


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
        body = {"title": message.title, "body": message.body, "kind": message.kind, "url": message.url}
        httpx.post(url, json=body, timeout=self.timeout).raise_for_status()


class WeComSender(WebhookSender):
    """企业微信群机器人: the address is the robot's webhook URL."""

    def send(self, message: Message) -> None:
        import httpx

        url = message.address or self.default_url
        if not url:
            raise ValueError("no WeCom robot URL")
        body = {"msgtype": "text", "text": {"content": message.text}}
        r = httpx.post(url, json=body, timeout=self.timeout)
        r.raise_for_status()
        answer = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if answer.get("errcode", 0) != 0:  # the robots answer 200 with an error code
            raise RuntimeError(f"robot refused the message: {answer.get('errcode')} {answer.get('errmsg', '')}")


class DingTalkSender(WeComSender):
    """钉钉群机器人: same message shape as WeCom's text message."""


class SmsGatewaySender:
    """The county's SMS gateway (政务短信平台 or a carrier's HTTP interface): POST {"phone", "text"}."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, message: Message) -> None:
        import httpx

        if not message.address:
            raise ValueError("the person has no phone number")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        r = httpx.post(
            self.url, json={"phone": message.address, "text": message.text}, headers=headers, timeout=self.timeout
        )
        r.raise_for_status()


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
    """The sender set for tests, else the one the settings configure, else None (nothing configured)."""
    if channel in _senders:
        return _senders[channel]
    s = get_settings()
    if channel == "webhook":
        return WebhookSender(s.notify_webhook_url)
    if channel == "wecom" and s.notify_wecom_url:
        return WeComSender(s.notify_wecom_url)
    if channel == "dingtalk" and s.notify_dingtalk_url:
        return DingTalkSender(s.notify_dingtalk_url)
    if channel == "sms" and s.notify_sms_url:
        token = s.notify_sms_token.get_secret_value() if s.notify_sms_token else None
        return SmsGatewaySender(s.notify_sms_url, token)
    return None


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
    group: bool = False,
) -> int:
    """Queue one message per user or address (``group``: one for the channel's configured destination),
    and for an in-app message the external ones ``settings.notify_channels`` asks for its kind.
    Returns how many were new."""
    n = 0
    user_ids = list(dict.fromkeys(user_ids))
    targets: list[tuple[int | None, str | None]] = [(u, None) for u in user_ids]
    targets += [(None, a) for a in dict.fromkeys(addresses)]
    if group:
        targets = [(None, None)]
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
    if channel == "inapp":
        for ext in get_settings().notify_channels.get(kind, ()):
            common = dict(key=key, kind=kind, title=title, body=body, case_id=case_id, channel=ext)
            if ext == "sms":  # to each person; the phone is looked up when sending
                n += queue(session, user_ids=user_ids, **common)  # type: ignore[arg-type]
            elif user_ids:  # a group robot or webhook: one message for the event
                n += queue(session, group=True, **common)  # type: ignore[arg-type]
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
            sender.send(_message(session, note))
        except Exception as exc:  # delivery failures are recorded and retried, never raised
            note.error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("notification %s failed: %s", note.id, note.error)
            continue
        note.sent_at, note.error = now, None
        sent += 1
    session.flush()
    return sent


def _message(session: Session, note: Notification) -> Message:
    from countyos.cases.service import people

    address = note.address
    if address is None and note.user_id is not None and note.channel == "sms":
        user = session.get(User, note.user_id)
        address = people.decrypt(user.phone_enc) if user is not None and user.is_active else None
    with use_locale(get_settings().default_locale):
        label = gettext(KIND_LABELS[note.kind]) if note.kind in KIND_LABELS else note.kind
        body = gettext(ACTION_LABELS.get(note.body, note.body)) if note.body else None
    url = f"{get_settings().public_url.rstrip('/')}/cases/{note.case_id}" if note.case_id else None
    return Message(note.channel, address, f"【{label}】{note.title}", body, note.kind, url)


def as_json(note: Notification) -> str:
    return json.dumps({"id": note.id, "title": note.title, "body": note.body}, ensure_ascii=False)
