"""The tamper-evident audit log: append in the caller's transaction, verify, browse, prune.

Each row's ``hash`` is HMAC-SM3(key, prev_hash || canonical row). The chain head row is locked while
appending (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite write transactions are already exclusive),
so concurrent writers can never fork the chain. ``verify`` detects an edited row (hash mismatch), a
deleted row (gap in ``seq`` or a head that points past the end) and a reordered row (``prev_hash``
no longer links).

The two ends of the chain are anchors: the head (last ``seq`` and ``hash``) and the pruning marker
(the last removed row's ``seq`` and ``hash``). Both are sealed together by ``AuditHead.mac``, an
HMAC-SM3 with a key of its own derived from the secret key, rewritten with every append and every
prune. Without the key nobody can cut rows off either end and move the head or the marker to a
surviving row. Pruning also appends an ``audit.prune`` row saying what it removed (count, first and
last ``seq``, last ``hash``), which ``verify`` checks against the marker.

A seal cannot tell the current head from an older one that was once valid: someone who copied the
head row earlier, holds database write access and removes the rows written since, is found only by
comparing with a head kept elsewhere (``countyos audit verify`` prints it).
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
from countyos.core.crypto import constant_time_equals, derive_key, sm3_hmac
from countyos.core.i18n import N_
from countyos.core.paging import PageParams, fetch_page
from countyos.core.settings import get_settings
from countyos.org.models import AuditEvent, AuditHead, AuditResult

GENESIS = "0" * 64

# What the audit log page shows for action and target codes: English message ids, filled by each
# domain's pages for its own codes (``name_codes``); a code without a name is shown as itself.
ACTION_NAMES: dict[str, str] = {}
TARGET_NAMES: dict[str, str] = {}


# Actors that are not people (``Actor(id=None, name=...)``): what the pages call them.
ACTOR_NAMES: dict[str, str] = {
    "system": N_("System (automatic)"),
    "schedule": N_("Scheduled job"),
    "demo": N_("Demonstration data"),
    "cli": N_("Command line"),
    "anonymous": N_("Anonymous visitor"),
    "citizen": N_("Citizen"),
    "reporter": N_("Reporter"),
    "device": N_("Device"),
    "mqtt": N_("MQTT bridge"),
    "sensing": N_("Sensing"),
    "simulate": N_("Simulator"),
    "safety.inspections": N_("Hidden-danger inspections (automatic)"),
}


def actor_label(name: str | None) -> str | None:
    """The message id naming a non-person actor, or None for a person's (or an unknown) name."""
    return ACTOR_NAMES.get(name or "")


def name_codes(*, actions: dict[str, str] | None = None, targets: dict[str, str] | None = None) -> None:
    """Register the message ids naming audit action and target codes (at import of a pages module)."""
    ACTION_NAMES.update(actions or {})
    TARGET_NAMES.update(targets or {})


def _key() -> bytes:
    return _chain_key(get_settings().secret_key.get_secret_value())


@lru_cache(maxsize=4)
def _chain_key(secret: str) -> bytes:
    return derive_key(secret, "audit-chain")


def _head_key() -> bytes:
    return _anchor_key(get_settings().secret_key.get_secret_value())


@lru_cache(maxsize=4)
def _anchor_key(secret: str) -> bytes:
    return derive_key(secret, "audit-head")


def head_mac(key: bytes, *, seq: int, hash: str, pruned_before_seq: int, pruned_anchor_hash: str | None) -> str:
    """The seal over both anchors of the chain (the migration that added it computes the same)."""
    body = f"head|{seq}|{hash}|{pruned_before_seq}|{pruned_anchor_hash or ''}"
    return sm3_hmac(key, body.encode())


def _seal(head: AuditHead) -> None:
    head.mac = head_mac(
        _head_key(),
        seq=head.seq,
        hash=head.hash,
        pruned_before_seq=head.pruned_before_seq or 0,
        pruned_anchor_hash=head.pruned_anchor_hash,
    )


def _sealed(head: AuditHead) -> bool:
    if not head.mac:
        return False
    expected = head_mac(
        _head_key(),
        seq=head.seq,
        hash=head.hash,
        pruned_before_seq=head.pruned_before_seq or 0,
        pruned_anchor_hash=head.pruned_anchor_hash,
    )
    return constant_time_equals(expected, head.mac)


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
        head = AuditHead(id=1, seq=0, hash=GENESIS, pruned_before_seq=0)
        _seal(head)
        session.add(head)
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
    _seal(head)
    session.flush()
    return ev


HEAD_REPLACED = "the chain head is not the one the log wrote; rows were removed or the head was replaced"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str | None = None
    head_seq: int | None = None  # the sealed head, to note elsewhere and compare with later
    head_hash: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    key = _key()
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(ok=True, checked=0)
    if not head.mac:
        return VerifyResult(False, 0, head.seq, "the chain head carries no seal")
    if not _sealed(head):
        return VerifyResult(False, 0, head.seq, HEAD_REPLACED)
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
    if head.pruned_before_seq:
        marker = _check_prune_record(session, head)
        if marker is not None:
            return marker
    return VerifyResult(True, checked, head_seq=head.seq, head_hash=head.hash)


def _check_prune_record(session: Session, head: AuditHead) -> VerifyResult | None:
    """The newest ``audit.prune`` row (kept, as it is newer than what it removed) names the marker."""
    rec = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "audit.prune").order_by(AuditEvent.seq.desc()).limit(1)
    )
    if rec is None:
        return VerifyResult(False, 0, head.pruned_before_seq, "rows were pruned but no record of the pruning remains")
    detail = rec.detail or {}
    through = detail.get("last_seq", detail.get("through_seq"))
    if through != head.pruned_before_seq or detail.get("last_hash", head.pruned_anchor_hash) != head.pruned_anchor_hash:
        return VerifyResult(False, 0, rec.seq, f"row {rec.seq} records a different pruning than the marker")
    return None


def prune(session: Session, *, now: datetime | None = None) -> int:
    """Remove rows older than the retention period (≥ 180 days), keeping the chain verifiable."""
    days = get_settings().audit_retention_days
    cutoff = (now or utcnow()) - timedelta(days=days)
    last_old = session.scalar(select(AuditEvent).where(AuditEvent.at < cutoff).order_by(AuditEvent.seq.desc()).limit(1))
    if last_old is None:
        return 0
    head = session.execute(_LOCKED_HEAD).scalar_one()
    first_seq = head.pruned_before_seq + 1
    last_seq, last_hash = last_old.seq, last_old.hash
    n = session.execute(delete(AuditEvent).where(AuditEvent.seq <= last_seq)).rowcount or 0  # type: ignore[attr-defined]
    head.pruned_before_seq = last_seq
    head.pruned_anchor_hash = last_hash
    _seal(head)
    session.flush()
    # the signed record of what went: it is itself a row of the chain, sealed by the head
    record(
        session,
        actor=SYSTEM,
        action="audit.prune",
        detail={
            "removed": n,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "last_hash": last_hash,
            "retention_days": days,
        },
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
