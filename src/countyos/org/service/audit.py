"""The tamper-evident audit log: append in the caller's transaction, verify, browse, prune.

Each row's ``hash`` is HMAC-SM3(key, prev_hash || canonical row). The chain head row is locked while
appending (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite write transactions are already exclusive),
so concurrent writers can never fork the chain. ``verify`` detects an edited row (hash mismatch), a
deleted row (gap in ``seq`` or a head that points past the end) and a reordered row (``prev_hash``
no longer links).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from countyos.core.actor import SYSTEM, Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import derive_key, sm3_hmac
from countyos.core.paging import PageParams, fetch_page
from countyos.core.settings import get_settings
from countyos.org.models import AuditEvent, AuditHead, AuditResult

GENESIS = "0" * 64


def _key() -> bytes:
    return _chain_key(get_settings().secret_key.get_secret_value())


@lru_cache(maxsize=4)
def _chain_key(secret: str) -> bytes:
    return derive_key(secret, "audit-chain")


def _canonical(ev: AuditEvent) -> bytes:
    body = {
        "seq": ev.seq,
        "at": ev.at.isoformat(timespec="microseconds"),
        "actor_id": ev.actor_id,
        "actor_name": ev.actor_name,
        "action": ev.action,
        "target_type": ev.target_type,
        "target_id": ev.target_id,
        "result": str(ev.result),
        "ip": ev.ip,
        "detail": ev.detail,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _row_hash(key: bytes, prev_hash: str, ev: AuditEvent) -> str:
    return sm3_hmac(key, prev_hash.encode() + b"|" + _canonical(ev))


def ensure_head(session: Session) -> None:
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, seq=0, hash=GENESIS, pruned_before_seq=0))
        session.flush()


_LOCKED_HEAD = select(AuditHead).where(AuditHead.id == 1).with_for_update()  # built once: every write runs it
_KEPT_HEAD = "countyos.audit_head"


def _locked_head(session: Session) -> AuditHead | None:
    """The chain head, locked for the caller's transaction.

    On SQLite the write transaction itself is exclusive, so once read the head cannot change under it:
    it is kept in the session for the transaction's later records (several reports committed together,
    an import) instead of being read again for each. A savepoint rolled back expires it, so it is then
    read again. On PostgreSQL it is read with ``FOR UPDATE`` every time: a row lock taken before a
    savepoint that is rolled back may be lost, and taking it again is cheap."""
    tx = session.get_transaction()
    kept = session.info.get(_KEPT_HEAD)
    if kept is not None and kept[0] is tx and kept[1] in session:
        head: AuditHead = kept[1]
        return head
    found = session.execute(_LOCKED_HEAD).scalar_one_or_none()
    if found is not None and session.get_bind().dialect.name == "sqlite":
        session.info[_KEPT_HEAD] = (tx, found)
    return found


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str | None = None,
    target_id: object | None = None,
    result: AuditResult = AuditResult.SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit record in the caller's transaction."""
    head = _locked_head(session)
    if head is None:
        ensure_head(session)
        head = session.execute(_LOCKED_HEAD).scalar_one()
    clean_detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    ev = AuditEvent(
        seq=head.seq + 1,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        result=result,
        ip=actor.ip if actor else None,
        detail=clean_detail,
        prev_hash=head.hash,
    )
    ev.hash = _row_hash(_key(), head.hash, ev)
    session.add(ev)
    head.seq = ev.seq
    head.hash = ev.hash
    session.flush()
    return ev


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    key = _key()
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(ok=True, checked=0)
    expected_seq = head.pruned_before_seq + 1
    prev = head.pruned_anchor_hash or GENESIS
    checked = 0
    last_seq = head.pruned_before_seq
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(batch)
            )
        )
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, f"row {expected_seq} is missing")
            if ev.prev_hash != prev:
                return VerifyResult(False, checked, ev.seq, f"row {ev.seq} does not link to row {ev.seq - 1}")
            if _row_hash(key, prev, ev) != ev.hash:
                return VerifyResult(False, checked, ev.seq, f"row {ev.seq} was altered")
            prev = ev.hash
            last_seq = ev.seq
            expected_seq += 1
            checked += 1
        session.expunge_all()
    if last_seq != head.seq or prev != head.hash:
        return VerifyResult(
            False,
            checked,
            last_seq + 1,
            f"the log ends at row {last_seq} but the head says {head.seq}; rows were removed",
        )
    return VerifyResult(True, checked)


def prune(session: Session, *, now: datetime | None = None) -> int:
    """Remove rows older than the retention period (≥ 180 days), keeping the chain verifiable."""
    days = get_settings().audit_retention_days
    cutoff = (now or utcnow()) - timedelta(days=days)
    last_old = session.scalar(select(AuditEvent).where(AuditEvent.at < cutoff).order_by(AuditEvent.seq.desc()).limit(1))
    if last_old is None:
        return 0
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    n = session.execute(delete(AuditEvent).where(AuditEvent.seq <= last_old.seq)).rowcount or 0  # type: ignore[attr-defined]
    head.pruned_before_seq = last_old.seq
    head.pruned_anchor_hash = last_old.hash
    session.flush()
    record(
        session,
        actor=SYSTEM,
        action="audit.prune",
        detail={"removed": n, "through_seq": last_old.seq, "retention_days": days},
    )
    return n


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def query(f: AuditFilter) -> Select[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if f.actor:
        stmt = stmt.where(AuditEvent.actor_name.contains(f.actor))
    if f.action:
        stmt = stmt.where(AuditEvent.action.startswith(f.action))
    if f.target_type:
        stmt = stmt.where(AuditEvent.target_type == f.target_type)
    if f.result:
        stmt = stmt.where(AuditEvent.result == f.result)
    if f.since:
        stmt = stmt.where(AuditEvent.at >= f.since)
    if f.until:
        stmt = stmt.where(AuditEvent.at < f.until)
    return stmt


def list_events(session: Session, f: AuditFilter, page: PageParams) -> tuple[list[AuditEvent], int]:
    return fetch_page(session, query(f), page)
