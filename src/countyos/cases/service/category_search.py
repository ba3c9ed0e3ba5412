"""Category search of the intake desk: by name, pinyin initials ("ljdf" → 垃圾堆放), full pinyin and
keywords, the categories this county used most in its recent cases first.

The pinyin of a name is worked out once per name (``core.namesearch.pinyin_of``, memoised for the process); the list of
reportable categories with their pinyin is kept in memory and dropped when a category is written
(``core.hotcache``). The use counts are read from the cases of the last ``RECENT_DAYS`` days (one
grouped count on the ``(category_id, reported_at)`` index) and kept a minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.models import Case, Category
from countyos.core import namesearch
from countyos.core.clock import utcnow
from countyos.core.hotcache import HotCache
from countyos.core.namesearch import pinyin_of

MAX_QUERY = 40  # characters of a search
MAX_RESULTS = 50
DEFAULT_RESULTS = 12
RECENT_DAYS = 90
_SPLIT = re.compile(r"[\s,，;；、/]+")


@dataclass(frozen=True)
class Entry:
    """One reportable category as the search reads it."""

    id: int
    name: str
    parent_name: str | None
    service_code: str
    initials: str  # "ljdf"
    spelled: str  # "lajiduifang"
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    id: int
    name: str
    parent_name: str | None
    service_code: str
    initials: str
    uses: int  # cases of the last RECENT_DAYS days


def _entries(session: Session) -> list[Entry]:
    rows = session.scalars(
        select(Category).where(Category.is_active.is_(True), Category.is_group.is_(False)).order_by(Category.id)
    )
    out = []
    for c in rows:
        initials, spelled = pinyin_of(c.name)
        words = tuple(w for w in _SPLIT.split(c.keywords or "") if w)
        out.append(
            Entry(
                id=c.id,
                name=c.name,
                parent_name=c.parent.name if c.parent is not None else None,
                service_code=c.service_code,
                initials=initials,
                spelled=spelled,
                keywords=words,
            )
        )
    return out


_INDEX: HotCache[list[Entry]] = HotCache("category search", tables=(Category.__tablename__,), ttl=300.0)
_USES: HotCache[dict[int, int]] = HotCache("category uses", tables=(Case.__tablename__,), ttl=60.0)


def index(session: Session) -> list[Entry]:
    return _INDEX.get(session, "all", lambda: _entries(session))


def recent_uses(session: Session, *, days: int = RECENT_DAYS) -> dict[int, int]:
    """Category id → the number of cases reported in it during the last DAYS days."""

    def load() -> dict[int, int]:
        since = utcnow() - timedelta(days=days)
        stmt = select(Case.category_id, func.count()).where(Case.reported_at >= since).group_by(Case.category_id)
        return {int(cid): int(n) for cid, n in session.execute(stmt).all()}

    return _USES.get(session, ("uses", days), load)


def _quality(e: Entry, q: str, q_lower: str) -> int | None:
    """How well the entry matches (lower is better), or None when it does not."""
    return namesearch.best(
        namesearch.name_quality(e.name, e.initials, e.spelled, q, q_lower),
        0 if q.upper() == e.service_code else None,
        5 if any(q in w for w in e.keywords) or (e.parent_name and q in e.parent_name) else None,
    )


def search(session: Session, *, q: str, limit: int = DEFAULT_RESULTS) -> list[Hit]:
    """Reportable categories matching Q (name, pinyin initials, pinyin, keywords, service code), the
    most used recently first, then the best match; with an empty Q the most used of all."""
    q = "".join((q or "").split())[:MAX_QUERY]
    limit = max(1, min(limit, MAX_RESULTS))
    uses = recent_uses(session)
    scored: list[tuple[int, int, str, Entry]] = []
    q_lower = q.lower()
    for e in index(session):
        if q:
            quality = _quality(e, q, q_lower)
            if quality is None:
                continue
        else:
            quality = 0
            if not uses.get(e.id):
                continue
        scored.append((-uses.get(e.id, 0), quality, e.service_code, e))
    scored.sort(key=lambda t: (t[0], t[1], t[2]))
    return [
        Hit(
            id=e.id,
            name=e.name,
            parent_name=e.parent_name,
            service_code=e.service_code,
            initials=e.initials,
            uses=uses.get(e.id, 0),
        )
        for _, _, _, e in scored[:limit]
    ]
