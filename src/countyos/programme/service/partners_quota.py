"""Daily quotas of partners' sandbox keys, counted in memory and written every minute.

Every request made with a bearer token sends ``org.service.tokens.TOKEN_USED``; :func:`count` (connected
in ``programme.receivers``) finds whether the token is a partner key through a hot cache (no query per
request), counts the call against the key's quota for the county's local day and refuses it with 429 and
``Retry-After`` (seconds to local midnight) past the quota. The counts are kept per process: with several
server processes each counts its own calls, seeded at its first call of the day from what the table holds
(:func:`flush`, every 60 s, adds what this process counted since its last flush to
``programme_partner_key_usage``).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from countyos.core.clock import county_day, county_day_bounds, utcnow
from countyos.core.errors import RateLimited
from countyos.core.hotcache import HotCache
from countyos.core.i18n import N_
from countyos.org.models import ApiToken
from countyos.programme.models.partners import PartnerKey, PartnerKeyUsage


@dataclass(frozen=True)
class KeyQuota:
    key_id: int
    daily_quota: int


@dataclass
class _Count:
    calls: int = 0  # calls allowed today (seeded with what the table held at this process's first call)
    refused: int = 0
    pending_calls: int = 0  # counted since the last flush
    pending_refused: int = 0


# Which tokens are partner keys (token id → key id and quota); emptied by writes to the keys table.
_KEYS: HotCache[KeyQuota | None] = HotCache(
    "partner keys", tables=(PartnerKey.__tablename__, ApiToken.__tablename__), ttl=30.0
)
_lock = threading.Lock()
_counts: dict[tuple[int, date], _Count] = {}


def key_of_token(session: Session, *, token_id: int) -> KeyQuota | None:
    def load() -> KeyQuota | None:
        row = session.execute(
            select(PartnerKey.id, PartnerKey.daily_quota).where(PartnerKey.api_token_id == token_id)
        ).first()
        return KeyQuota(row[0], row[1]) if row is not None else None

    return _KEYS.get(session, token_id, load)


def _stored(session: Session, key_id: int, day: date) -> tuple[int, int]:
    row = session.execute(
        select(PartnerKeyUsage.calls, PartnerKeyUsage.refused).where(
            PartnerKeyUsage.key_id == key_id, PartnerKeyUsage.day == day
        )
    ).first()
    return (row[0], row[1]) if row is not None else (0, 0)


def count(session: Session, *, token_id: int) -> None:
    """Count one request made with ``token_id``; refuse it (429) when its key's quota for today is spent."""
    quota = key_of_token(session, token_id=token_id)
    if quota is None:
        return
    now = utcnow()
    day = county_day(now)
    k = (quota.key_id, day)
    with _lock:
        seen = k in _counts
    if not seen:
        calls, refused = _stored(session, quota.key_id, day)  # once per key, day and process
        with _lock:
            _counts.setdefault(k, _Count(calls=calls, refused=refused))
    with _lock:
        c = _counts[k]
        if c.calls >= quota.daily_quota:
            c.refused += 1
            c.pending_refused += 1
            over = True
        else:
            c.calls += 1
            c.pending_calls += 1
            over = False
    if over:
        _, end = county_day_bounds(day)
        raise RateLimited(
            N_("This key's daily quota of %(quota)s calls is used up; it renews at midnight"),
            retry_after=max(1, math.ceil((end - now).total_seconds())),
            quota=quota.daily_quota,
        )


def unwritten(key_id: int) -> dict[date, tuple[int, int]]:
    """What this process counted for the key and has not written yet, by day (calls, refused)."""
    with _lock:
        return {d: (c.pending_calls, c.pending_refused) for (k, d), c in _counts.items() if k == key_id}


def take_pending() -> dict[tuple[int, date], tuple[int, int]]:
    """The counts since the last flush (and forget them); days before yesterday are dropped from memory."""
    out: dict[tuple[int, date], tuple[int, int]] = {}
    today = county_day(utcnow())
    with _lock:
        for k, c in list(_counts.items()):
            if c.pending_calls or c.pending_refused:
                out[k] = (c.pending_calls, c.pending_refused)
                c.pending_calls = c.pending_refused = 0
            if (today - k[1]).days > 1:
                del _counts[k]
    return out


def give_back(pending: dict[tuple[int, date], tuple[int, int]]) -> None:
    """Put counts whose write failed back, for the next flush."""
    with _lock:
        for k, (calls, refused) in pending.items():
            c = _counts.setdefault(k, _Count())
            c.pending_calls += calls
            c.pending_refused += refused


def add_usage(session: Session, *, pending: dict[tuple[int, date], tuple[int, int]]) -> int:
    """Add counts to ``programme_partner_key_usage`` (one upsert per key and day); not audited, like a use."""
    if not pending:
        return 0
    live = set(session.scalars(select(PartnerKey.id).where(PartnerKey.id.in_({k for k, _ in pending}))))
    rows = [
        {"key_id": key_id, "day": day, "calls": calls, "refused": refused}
        for (key_id, day), (calls, refused) in sorted(pending.items())
        if key_id in live
    ]
    if not rows:
        return 0
    table = PartnerKeyUsage.metadata.tables[PartnerKeyUsage.__tablename__]
    dialect = session.get_bind().dialect.name
    for row in rows:
        if dialect == "postgresql":
            pg = postgresql.insert(table).values(**row)
            session.execute(
                pg.on_conflict_do_update(
                    index_elements=["key_id", "day"],
                    set_={"calls": table.c.calls + pg.excluded.calls, "refused": table.c.refused + pg.excluded.refused},
                )
            )
        else:
            lite = sqlite.insert(table).values(**row)
            session.execute(
                lite.on_conflict_do_update(
                    index_elements=["key_id", "day"],
                    set_={
                        "calls": table.c.calls + lite.excluded.calls,
                        "refused": table.c.refused + lite.excluded.refused,
                    },
                )
            )
    return len(rows)


def reset() -> None:
    """Forget every count of this process (tests)."""
    with _lock:
        _counts.clear()
