"""Catalogue search: by name, pinyin initials ("yyzz" → 营业执照), full pinyin or code, and by theme,
department, audience and matter type.

The current version of every matter, with the pinyin of its name, is kept in memory and dropped when
a matter is written (``core.hotcache``); a county's catalogue is a few thousand lines at most.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core import namesearch
from countyos.core.hotcache import HotCache
from countyos.core.namesearch import pinyin_of
from countyos.core.paging import PageParams
from countyos.services.models import Matter, MatterStatus, MatterVersion

MAX_QUERY = 40


@dataclass(frozen=True)
class Entry:
    id: int
    code: str
    basic_code: str | None
    status: MatterStatus
    version: int
    name: str
    initials: str
    spelled: str
    matter_type: str
    theme: str | None
    department_id: int | None
    audiences: tuple[str, ...]
    promised_limit: int
    promised_limit_unit: str
    online: bool
    application_kind: str


@dataclass(frozen=True)
class MatterFilter:
    q: str | None = None  # name, pinyin initials, full pinyin or code
    theme: str | None = None
    department_id: int | None = None
    audience: str | None = None
    matter_type: str | None = None
    status: MatterStatus | None = None


def _entries(session: Session) -> list[Entry]:
    stmt = select(Matter, MatterVersion).join(MatterVersion, MatterVersion.id == Matter.current_version_id)
    out = []
    for m, v in session.execute(stmt):
        initials, spelled = pinyin_of(v.name)
        out.append(
            Entry(
                id=m.id,
                code=m.code,
                basic_code=m.basic_code,
                status=m.status,
                version=v.number,
                name=v.name,
                initials=initials,
                spelled=spelled,
                matter_type=str(v.matter_type),
                theme=v.theme,
                department_id=v.department_id,
                audiences=tuple(str(a) for a in v.audiences),
                promised_limit=v.promised_limit,
                promised_limit_unit=str(v.promised_limit_unit),
                online=v.online,
                application_kind=str(v.application_kind),
            )
        )
    out.sort(key=lambda e: (e.spelled, e.code))
    return out


_INDEX: HotCache[list[Entry]] = HotCache(
    "matter search", tables=(Matter.__tablename__, MatterVersion.__tablename__), ttl=300.0
)


def index(session: Session) -> list[Entry]:
    return _INDEX.get(session, "all", lambda: _entries(session))


def _quality(e: Entry, q: str, q_lower: str) -> int | None:
    """How well the entry matches Q (lower is better), or None."""
    codes = {e.code.lower(), e.basic_code.lower()} if e.basic_code else {e.code.lower()}
    return namesearch.best(
        namesearch.name_quality(e.name, e.initials, e.spelled, q, q_lower),
        0 if q_lower in codes else None,
        5 if e.theme and q in e.theme else None,
    )


def search(session: Session, f: MatterFilter, page: PageParams) -> tuple[list[Entry], int]:
    """The matters matching every given filter, the best name match first, then by pinyin."""
    q = "".join((f.q or "").split())[:MAX_QUERY]
    q_lower = q.lower()
    hits: list[tuple[int, Entry]] = []
    for e in index(session):
        if f.status is not None and e.status != f.status:
            continue
        if f.theme and e.theme != f.theme:
            continue
        if f.department_id is not None and e.department_id != f.department_id:
            continue
        if f.audience and f.audience not in e.audiences:
            continue
        if f.matter_type and e.matter_type != f.matter_type:
            continue
        quality = _quality(e, q, q_lower) if q else 0
        if quality is None:
            continue
        hits.append((quality, e))
    hits.sort(key=lambda t: t[0])  # stable: pinyin order within a quality
    return [e for _, e in hits[page.offset : page.offset + page.limit]], len(hits)


def themes(session: Session, *, status: MatterStatus | None = MatterStatus.PUBLISHED) -> list[str]:
    """The service themes in use (of published matters by default), in pinyin order."""
    found = {e.theme for e in index(session) if e.theme and (status is None or e.status == status)}
    return sorted(found, key=lambda t: pinyin_of(t)[1])


def department_ids(session: Session, *, status: MatterStatus | None = MatterStatus.PUBLISHED) -> set[int]:
    return {e.department_id for e in index(session) if e.department_id and (status is None or e.status == status)}
