"""A webhook on every state change of an application (办件), for a provincial connector or any listener.

Every applied action (``applications.create`` submitting, every ``applications.act``) calls
``queue_event``, which writes one outbox row per configured URL (``settings.services_webhook_urls``)
in the caller's transaction: nothing is sent for a change that is rolled back. ``deliver_pending``
(the job ``services.deliver_webhooks``, every ``EVERY_SECONDS``; it runs after the change committed)
POSTs each row's JSON and marks it sent on a 2xx answer; otherwise it records the status or error and
tries again later (``BACKOFF``), at most ``MAX_ATTEMPTS`` times. On PostgreSQL the rows are taken with
``FOR UPDATE SKIP LOCKED``, so several workers never send one row twice.

The body (``event_body``) has the standard's field names and no personal field: 事件编号 (the same for
every URL; a receiver drops repeats by it), 办件编号, 实施编码, 事项名称, 业务动作, the previous and the
new 办件状态 with their codes (``exchange.STATE_CODES``), 环节名称, 办结结果, 发生时间 in county time.
It is signed: ``X-CountyOS-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes under
settings.services_webhook_secret>``; ``X-CountyOS-Event`` repeats the event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.scheduler import Job
from countyos.core.settings import get_settings
from countyos.services.lifecycle import Action, Decision, State
from countyos.services.models import Application, ApplicationEvent, Matter, MatterVersion, WebhookDelivery
from countyos.services.service import exchange

log = logging.getLogger("countyos.services.webhooks")
SIGNATURE_HEADER = "X-CountyOS-Signature"
EVENT_HEADER = "X-CountyOS-Event"
MAX_ATTEMPTS = 8
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
EVERY_SECONDS = 10
TIMEOUT_S = 5.0
BATCH = 100


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, secret: str) -> bool:
    """What a receiver does: compare the header with the body's signature in constant time."""
    return hmac.compare_digest(sign(body, secret), signature)


def event_body(session: Session, *, app: Application, event: ApplicationEvent, event_id: str) -> dict[str, Any]:
    version = session.get(MatterVersion, app.matter_version_id)
    matter = session.get(Matter, app.matter_id)
    assert version is not None and matter is not None
    before = State(event.from_state) if event.from_state else None
    after = State(event.to_state)
    step = None
    if after is State.IN_PROGRESS and event.step is not None and event.step < len(version.steps):
        step = version.steps[event.step].name
    decision = Decision(app.decision) if after is State.DECIDED and app.decision else None
    return {
        "事件编号": event_id,
        "事件类型": "办件状态变更",
        "办件编号": app.number,
        "实施编码": matter.code,
        "事项名称": version.name,
        "业务动作": exchange.ACTION_NAMES[Action(event.action)],
        "业务动作代码": event.action,
        "原办件状态": exchange.STATE_NAMES[before] if before else None,
        "原办件状态代码": exchange.STATE_CODES[before] if before else None,
        "办件状态": exchange.STATE_NAMES[after],
        "办件状态代码": exchange.STATE_CODES[after],
        "环节名称": step,
        "办结结果": exchange.DECISION_NAMES[decision] if decision else None,
        "办结结果代码": exchange.DECISION_CODES[decision] if decision else None,
        "发生时间": exchange.county_time(event.at),
    }


def queue_event(session: Session, *, app: Application, event: ApplicationEvent) -> int:
    """One outbox row per configured URL for this applied action; returns how many (0: none configured)."""
    urls = get_settings().services_webhook_urls
    if not urls:
        return 0
    event_id = str(uuid.uuid4())
    body = json.dumps(event_body(session, app=app, event=event, event_id=event_id), ensure_ascii=False)
    now = utcnow()
    for url in dict.fromkeys(urls):
        session.add(
            WebhookDelivery(
                event_id=event_id, application_id=app.id, url=url, body=body, created_at=now, next_attempt_at=now
            )
        )
    return len(set(urls))


def deliver_pending(session: Session, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Send what is due (run after the changes committed); returns how many were delivered."""
    import httpx

    now = now or utcnow()
    stmt = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.sent_at.is_(None),
            WebhookDelivery.attempts < MAX_ATTEMPTS,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    if not rows:
        return 0
    secret = get_settings().services_webhook_secret
    sent = 0
    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False) as client:
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
            if secret is None:
                row.error = "no webhook secret configured (services_webhook_secret)"
                continue
            data = row.body.encode()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: sign(data, secret.get_secret_value()),
                EVENT_HEADER: row.event_id,
            }
            try:
                answer = client.post(row.url, content=data, headers=headers)
            except httpx.HTTPError as exc:  # recorded and retried, never raised
                row.error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("webhook %s to %s failed: %s", row.id, row.url, row.error)
                continue
            row.last_status = answer.status_code
            if 200 <= answer.status_code < 300:
                row.sent_at, row.error = now, None
                sent += 1
            else:
                row.error = f"HTTP {answer.status_code}"
    session.flush()
    return sent


def deliver(db: Database) -> int:
    with db.unit_of_work() as session:
        return deliver_pending(session)


JOBS = [Job("services.deliver_webhooks", EVERY_SECONDS, deliver)]
