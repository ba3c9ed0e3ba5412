"""Place a free-text address by the county's own place names, offline (no geocoding service).

An Open311 client may send ``address_string`` without ``lat``/``long``. The address is matched
against the names of the county's villages/communities and townships/streets as people write them
(``东红村委会`` is written ``东红村``, ``北隅社区居委会`` ``北隅社区``). The most specific place found
wins; a township named in the same address settles a village name that occurs in two townships.
The point returned is inside that place's polygon (``representative_point``), and ``precise`` is
False: it places a case in the right village and grid, not at the door, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.geo.models import Division, DivisionLevel

# official suffix → the forms people write (the bare stem is only used when it keeps 2+ characters)
_SUFFIXES = (
    ("村民委员会", ("村",)),
    ("居民委员会", ("社区", "居委会")),
    ("社区居委会", ("社区",)),
    ("村委会", ("村",)),
    ("居委会", ("社区", "居委会")),
)


@dataclass(frozen=True)
class AddressPlace:
    code: str
    name: str
    level: DivisionLevel
    lon: float
    lat: float
    precise: bool = False


def aliases(name: str) -> set[str]:
    """The forms of an official name that an address may contain."""
    out = {name}
    for suffix, written in _SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            out.update(stem + w for w in written)
            break
    return {a for a in out if len(a) >= 2}


def _best(text: str, names: dict[str, set[str]]) -> dict[str, int]:
    """Code → length of the longest of its aliases found in the text."""
    found: dict[str, int] = {}
    for code, forms in names.items():
        hit = max((len(a) for a in forms if a in text), default=0)
        if hit:
            found[code] = hit
    return found


def place(session: Session, *, text: str) -> AddressPlace | None:
    """The village (or else township) an address names, or None when it names none unambiguously."""
    text = "".join(text.split())
    if not text:
        return None
    rows = session.execute(
        select(Division.code, Division.name, Division.level, Division.parent_code).where(
            Division.level.in_([DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE])
        )
    ).all()
    townships = _best(text, {r.code: aliases(r.name) for r in rows if r.level == DivisionLevel.TOWNSHIP})
    villages = _best(text, {r.code: aliases(r.name) for r in rows if r.level == DivisionLevel.VILLAGE})
    parent = {r.code: r.parent_code for r in rows}
    if townships:  # a village of a township the address names beats a namesake elsewhere
        inside = {c: n for c, n in villages.items() if parent.get(c) in townships}
        villages = inside or villages
    chosen = _unique(villages) or _unique(townships)
    if chosen is None:
        return None
    d = session.scalars(select(Division).where(Division.code == chosen)).one()
    point = d.geom.representative_point()
    return AddressPlace(code=d.code, name=d.name, level=d.level, lon=float(point.x), lat=float(point.y))


def _unique(found: dict[str, int]) -> str | None:
    if not found:
        return None
    best = max(found.values())
    codes = [c for c, n in found.items() if n == best]
    return codes[0] if len(codes) == 1 else None
