"""Address and place search over the county's own records (offline, no geocoding service).

One query is matched against the names of the county's townships/streets and villages/communities
(as written officially and as people write them), the codes of divisions, grids and components, the
names of components (places such as 公共厕所), and — for a free-text address that names no single
record — :func:`addresses.place` (the village or township an address names). Every result carries
its name, kind, division path (county › township › village) and a point inside it.

Ranking: an exact name (or the form people write) first, then names starting with the query, then
names containing it; within a rank townships before villages before grids before components, then
shorter names, then codes. Callers without ``geo.read`` (a citizen reporting a problem) get divisions
and addresses only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.geo.models import Component, Division, Grid
from countyos.geo.service.addresses import aliases
from countyos.geo.service.addresses import place as place_address

MAX_QUERY = 50
MAX_RESULTS = 20
KIND_ORDER = {"county": 0, "township": 1, "village": 2, "address": 3, "grid": 4, "component": 5}


@dataclass(frozen=True)
class Result:
    kind: str  # county | township | village | grid | component | address
    code: str
    name: str
    path: list[str]  # names from the county down to the place's village (the place itself excluded)
    lon: float
    lat: float
    bbox: tuple[float, float, float, float]
    approximate: bool = False
    precise: bool = False  # True for a component (a surveyed point); divisions and addresses are areas
    rank: int = field(default=9, compare=False)


def _rank(q: str, name: str, forms: set[str] | None = None) -> int | None:
    names = {name} | (forms or set())
    if q in names:
        return 0
    if any(n.startswith(q) for n in names):
        return 1
    if any(q in n for n in names):
        return 2
    return None


def _point(geom: Any) -> tuple[float, float]:
    p = geom if geom.geom_type == "Point" else geom.representative_point()
    return round(float(p.x), 7), round(float(p.y), 7)


def search(session: Session, *, q: str, limit: int = 10, operational: bool = True) -> list[Result]:
    """Places matching Q, best first (see the module docstring); ``operational`` adds grids and
    components."""
    q = "".join((q or "").split())[:MAX_QUERY]
    limit = max(1, min(MAX_RESULTS, limit))
    if not q:
        return []
    divs = {
        d.code: d
        for d in session.execute(select(Division.code, Division.name, Division.level, Division.parent_code)).all()
    }

    def path_of(code: str | None) -> list[str]:
        out: list[str] = []
        while code and code in divs:
            out.insert(0, divs[code].name)
            code = divs[code].parent_code
        return out

    candidates: list[tuple[int, str, int, str, Any]] = []  # (rank, kind, len, code, row-ish)
    digits = q.isdigit()
    for code, d in divs.items():
        r = 0 if digits and code == q else (1 if digits and code.startswith(q) else None)
        if not digits:
            r = _rank(q, d.name, aliases(d.name))
        if r is not None:
            candidates.append((r, str(d.level), len(d.name), code, None))
    cap = limit * 4
    if operational:
        cond = Grid.code.like(q + "%") if digits else Grid.name == q
        for gcode, gname in session.execute(
            select(Grid.code, Grid.name).where(cond).order_by(func.length(Grid.code), Grid.code).limit(cap)
        ):
            # by name only when exact: grid names repeat their village's name with a number
            r = (0 if gcode == q else 1) if digits else (0 if gname == q else None)
            if r is not None:
                candidates.append((r, "grid", len(gname or gcode), gcode, None))
        cond = Component.code.like(q + "%") if digits else Component.name.contains(q, autoescape=True)
        for ccode, cname in session.execute(
            select(Component.code, Component.name).where(cond).order_by(Component.code).limit(cap)
        ):
            r = (0 if ccode == q else 1) if digits else _rank(q, cname or "")
            if r is not None:
                candidates.append((r, "component", len(cname or ccode), ccode, None))
    candidates.sort(key=lambda c: (c[0], KIND_ORDER.get(c[1], 9), c[2], c[3]))
    chosen = candidates[:limit]

    results: list[Result] = []
    if not digits and not any(c[0] == 0 for c in chosen):
        # free text: the village (or township) the address names, first — it is what was typed
        hit = place_address(session, text=q)
        if hit is not None:
            hit_div = session.scalars(select(Division).where(Division.code == hit.code)).one()
            results.append(
                Result(
                    kind="address",
                    code=hit.code,
                    name=q,
                    path=path_of(hit.code),
                    lon=round(hit.lon, 7),
                    lat=round(hit.lat, 7),
                    bbox=(hit_div.minx, hit_div.miny, hit_div.maxx, hit_div.maxy),
                    approximate=bool(hit_div.approximate),
                    rank=0,
                )
            )
    by_kind: dict[str, list[str]] = {}
    for _, kind, *_rest in chosen:
        by_kind.setdefault(kind, []).append(_rest[1])
    rows: dict[tuple[str, str], Any] = {}
    div_codes = [c for k, cs in by_kind.items() if k in ("county", "township", "village") for c in cs]
    if div_codes:
        for div in session.scalars(select(Division).where(Division.code.in_(div_codes))):
            rows[(str(div.level), div.code)] = div
    if by_kind.get("grid"):
        for g in session.scalars(select(Grid).where(Grid.code.in_(by_kind["grid"]))):
            rows[("grid", g.code)] = g
    if by_kind.get("component"):
        for c in session.scalars(select(Component).where(Component.code.in_(by_kind["component"]))):
            rows[("component", c.code)] = c
    for rank, kind, _, code, _ in chosen:
        row = rows.get((kind, code))
        if row is None:
            continue
        lon, lat = _point(row.geom)
        if kind in ("county", "township", "village"):
            path = path_of(row.parent_code)
        elif kind == "grid":
            path = path_of(row.village_code)
        else:
            path = path_of(row.village_code or row.township_code)
        results.append(
            Result(
                kind=kind,
                code=code,
                name=row.name or code,
                path=path,
                lon=lon,
                lat=lat,
                bbox=(row.minx, row.miny, row.maxx, row.maxy),
                approximate=bool(getattr(row, "approximate", False)),
                precise=kind == "component",
                rank=rank,
            )
        )
    return results[:limit]
