"""The public service directory (便民服务设施): what residents find, and how departments keep it current.

- The public reads active facilities only: by kind, by name (the name itself, its pinyin initials or
  full pinyin, ``core.namesearch``) and, when the phone's position is given, nearest first with the
  distance. The position is used for sorting in this call and kept nowhere (no audit row, no log).
- A facility belongs to the department that keeps it (``portal.facility.manage``). Staff see and
  change their own department's facilities only; another department's are "not found". An account
  without a department keeps none: it is told to ask for one (there is no county-wide keeper — the
  data bureau keeps the facilities it runs itself, like any department).
- A position must lie inside the county (``geo.service.locate``); the division it lies in is kept.
- Open and closed is ONE transition table (``TRANSITIONS``); a closed facility leaves the public
  pages and the API at once and can be opened again. Every write is audited; nothing here commits.
- A live figure (free parking spaces, people in a hall) is the latest value of a sensing datastream,
  read only; older than ``CURRENT_FOR`` it is "no current figure".
- ``static_map``: a small PNG of the county's own base layer around a facility, cached.

Imports of files and syncs from the data catalogue are in ``facility_import``.
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.namesearch import best, name_quality, pinyin_of
from countyos.core.paging import PageParams
from countyos.core.settings import get_settings
from countyos.geo import service as geo
from countyos.geo.models import Division, DivisionLevel
from countyos.geo.service import basemap
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.schemas.facilities import FacilityIn
from countyos.sensing.models import Latest
from countyos.sensing.service import streams
from countyos.sensing.service.times import from_us

MANAGE = "portal.facility.manage"
TARGET = "portal_facility"
MAX_SCAN = 20_000  # facilities ranked in memory for one list (a county has a few thousand)
CURRENT_FOR = timedelta(hours=3)  # a live figure older than this is no current figure

KIND_NAMES = {
    FacilityKind.SCHOOL: N_("Schools"),
    FacilityKind.HOSPITAL: N_("Hospitals"),
    FacilityKind.CLINIC: N_("Clinics"),
    FacilityKind.PHARMACY: N_("Pharmacies"),
    FacilityKind.SERVICE_CENTRE: N_("Service centres"),
    FacilityKind.AGENT_POINT: N_("Village service points"),
    FacilityKind.TOILET: N_("Public toilets"),
    FacilityKind.PARKING: N_("Parking"),
    FacilityKind.BUS_STOP: N_("Bus stops"),
    FacilityKind.CHARGING: N_("Charging points"),
    FacilityKind.SHELTER: N_("Emergency shelters"),
    FacilityKind.SPORTS: N_("Sports venues"),
    FacilityKind.LIBRARY: N_("Libraries and reading rooms"),
    FacilityKind.CULTURE_HALL: N_("Culture halls"),
    FacilityKind.OTHER: N_("Other facilities"),
}


class Action(StrEnum):
    CLOSE = "close"  # 停用: gone from the public pages
    REOPEN = "reopen"  # 恢复


# open (active=True) and closed (active=False): the one table of what may happen to a facility
TRANSITIONS: dict[tuple[bool, Action], bool] = {(True, Action.CLOSE): False, (False, Action.REOPEN): True}


def actions_for(active: bool) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s == active]


def field_error(field: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field, "message": gettext(message, **params)}], **params)


# --- what the public reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    facility: Facility
    distance_m: float | None  # from the position given, when one was


def valid_position(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    """(lon, lat) when both are given and are a position on Earth, else None (then nothing is sorted by it)."""
    if lon is None or lat is None:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


def search(
    session: Session,
    *,
    kind: FacilityKind | None = None,
    q: str = "",
    near: tuple[float, float] | None = None,
    page: PageParams,
) -> tuple[list[Hit], int]:
    """Active facilities: of KIND, whose name matches Q (best matches first), nearest to NEAR first
    when it is given (its distance with each), else by kind and name. NEAR is used here and kept nowhere."""
    stmt = select(Facility.id, Facility.kind, Facility.name, Facility.lon, Facility.lat).where(
        Facility.active.is_(True)
    )
    if kind is not None:
        stmt = stmt.where(Facility.kind == kind)
    rows = session.execute(stmt.limit(MAX_SCAN)).all()
    q = " ".join(q.split())[:60]
    order = {k: i for i, k in enumerate(FacilityKind)}
    ranked: list[tuple[tuple[Any, ...], int, float | None]] = []
    for fid, fkind, name, lon, lat in rows:
        quality = 0
        if q:
            initials, spelled = pinyin_of(name)
            found = best(name_quality(name, initials, spelled, q, q.lower()))
            if found is None:
                continue
            quality = found
        distance = geo.distance_m(near[0], near[1], lon, lat) if near is not None else None
        key = (quality, distance) if distance is not None else (quality, order[fkind], name)
        ranked.append((key, fid, distance))
    ranked.sort(key=lambda r: r[0])
    chosen = ranked[page.offset : page.offset + page.limit]
    loaded = {f.id: f for f in session.scalars(select(Facility).where(Facility.id.in_([r[1] for r in chosen])))}
    return [Hit(loaded[fid], distance) for _, fid, distance in chosen if fid in loaded], len(ranked)


def get_public(session: Session, *, token: str) -> Facility:
    """An active facility by its public token (a closed one is not found)."""
    found = session.scalars(select(Facility).where(Facility.token == token[:32], Facility.active.is_(True))).first()
    if found is None:
        raise NotFound(N_("There is no such facility"))
    return found


def kind_counts(session: Session) -> dict[FacilityKind, int]:
    rows = session.execute(
        select(Facility.kind, func.count()).where(Facility.active.is_(True)).group_by(Facility.kind)
    ).all()
    return {k: n for k, n in rows}


def department_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted))).all())


def area_names(session: Session, facilities: Iterable[Facility]) -> dict[str, str]:
    return geo_names(session, {f.division_code for f in facilities if f.division_code})


def geo_names(session: Session, codes: set[str]) -> dict[str, str]:
    from countyos.geo.service import divisions

    return divisions.names_by_code(session, codes)


@dataclass(frozen=True)
class Live:
    """A facility's live figure: the latest value of its datastream, when it reported, whether that is current."""

    label: str
    value: float | None
    unit: str | None
    at: datetime | None
    current: bool


def live_figure(session: Session, *, facility: Facility, now: datetime | None = None) -> Live | None:
    """The latest value of the facility's datastream (read only), or None without one."""
    if facility.datastream_id is None:
        return None
    row = session.execute(
        select(Latest.result, Latest.phenomenon_us).where(Latest.datastream_id == facility.datastream_id)
    ).first()
    info = streams.by_id(session, facility.datastream_id)
    unit = info.unit_symbol if info is not None else None
    if row is None:
        return Live(facility.live_label, None, unit, None, False)
    at = from_us(row.phenomenon_us)
    current = row.result is not None and (now or utcnow()) - at <= CURRENT_FOR
    return Live(facility.live_label, row.result, unit, at, current)


# --- what departments do -----------------------------------------------------------------------


def keeper_department(actor: Actor) -> int:
    """The department the actor keeps facilities for; refused without the permission or a department."""
    if not actor.can(MANAGE):
        raise PermissionDenied()
    if actor.department_id is None:
        raise ValidationFailed(N_("Your account belongs to no department; ask for one to keep facilities"))
    return actor.department_id


def get(session: Session, *, facility_id: int) -> Facility:
    found = session.get(Facility, facility_id)
    if found is None:
        raise NotFound(N_("There is no such facility"))
    return found


def get_by_token(session: Session, *, token: str) -> Facility:
    found = session.scalars(select(Facility).where(Facility.token == token[:32])).first()
    if found is None:
        raise NotFound(N_("There is no such facility"))
    return found


def for_keeper(actor: Actor, facility: Facility) -> Facility:
    """FACILITY when the actor's department keeps it; another department's is not found."""
    if not actor.can(MANAGE) or actor.department_id is None or facility.department_id != actor.department_id:
        raise NotFound(N_("There is no such facility"))
    return facility


def of_department(
    session: Session, *, actor: Actor, active: bool | None = None, q: str = "", page: PageParams
) -> tuple[list[Facility], int]:
    """The actor's department's facilities (open, closed or both), by kind and name."""
    if actor.department_id is None or not actor.can(MANAGE):
        return [], 0
    stmt: Select[Any] = select(Facility).where(Facility.department_id == actor.department_id)
    if active is not None:
        stmt = stmt.where(Facility.active.is_(active))
    q = q.strip()[:60]
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Facility.name.like(like), Facility.address.like(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Facility.kind, Facility.name, Facility.id).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


def place_of(session: Session, *, lon: float, lat: float) -> str:
    """The code of the division the position lies in (village, else township, else the county);
    a position outside the county is refused beside the longitude and the latitude."""
    try:
        place = geo.locate(session, lon=lon, lat=lat)
    except geo.OutsideCounty as exc:
        message = N_("The position is outside the county; check that longitude and latitude are not swapped")
        words = gettext(message)
        raise ValidationFailed(
            message, errors=[{"field": "lon", "message": words}, {"field": "lat", "message": words}]
        ) from exc
    return place.village_code or place.township_code or place.county_code


def check_datastream(session: Session, datastream_id: int | None) -> None:
    if datastream_id is not None and streams.by_id(session, datastream_id) is None:
        raise field_error("datastream_id", N_("There is no sensor datastream with this number"))


def _apply(f: Facility, data: FacilityIn, division_code: str, actor: Actor) -> None:
    for name in ("kind", "name", "address", "lon", "lat", "phone", "hours", "services", "datastream_id"):
        setattr(f, name, getattr(data, name))
    f.live_label = data.live_label if data.datastream_id is not None else ""
    f.division_code = division_code
    f.updated_by_id = actor.id
    f.updated_at = utcnow()


def _values(f: Facility) -> dict[str, Any]:
    return {
        n: getattr(f, n)
        for n in ("kind", "name", "address", "lon", "lat", "phone", "hours", "services", "datastream_id", "live_label")
    }


def create(
    session: Session, *, actor: Actor, data: FacilityIn, source: str = "manual", source_key: str | None = None
) -> Facility:
    """A new open facility of the actor's department; audited."""
    department_id = keeper_department(actor)
    check_datastream(session, data.datastream_id)
    code = place_of(session, lon=data.lon, lat=data.lat)
    f = Facility(department_id=department_id, source=source, source_key=source_key, active=True)
    _apply(f, data, code, actor)
    session.add(f)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.facility.create",
        target_type=TARGET,
        target_id=f.id,
        detail={"name": f.name, "kind": f.kind.value, "source": source, "division_code": code},
    )
    return f


def update(session: Session, *, actor: Actor, facility_id: int, data: FacilityIn) -> Facility:
    """The facility as the form or the request says; the changed fields are audited."""
    f = for_keeper(actor, get(session, facility_id=facility_id))
    check_datastream(session, data.datastream_id)
    code = place_of(session, lon=data.lon, lat=data.lat)
    before = _values(f)
    _apply(f, data, code, actor)
    after = _values(f)
    changed = {k: [str(before[k]), str(after[k])] for k in after if before[k] != after[k]}
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.facility.update",
        target_type=TARGET,
        target_id=f.id,
        detail={"name": f.name, "changed": changed},
    )
    return f


def act(session: Session, *, actor: Actor, facility_id: int, action: Action) -> Facility:
    """Close or reopen a facility of the actor's department (the transition table decides); audited."""
    f = for_keeper(actor, get(session, facility_id=facility_id))
    target = TRANSITIONS.get((f.active, action))
    if target is None:
        raise TransitionNotAllowed(
            N_("The facility is already closed") if action is Action.CLOSE else N_("The facility is open"),
            allowed=[a.value for a in actions_for(f.active)],
            current_state="open" if f.active else "closed",
        )
    f.active = target
    f.updated_by_id = actor.id
    f.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor, action=f"portal.facility.{action.value}", target_type=TARGET, target_id=f.id,
        detail={"name": f.name},
    )  # fmt: skip
    return f


# --- a small map of the county's own base layer around a facility -----------------------------------

MAP_WIDTH, MAP_HEIGHT = 480, 240
MAP_ZOOM = 16
MAP_CACHE_SIZE = 256
TILE = basemap.TILE
_map_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_map_lock = threading.Lock()
LAND, LINE, TOWN_LINE, MARK, HALO = (243, 241, 234), (170, 162, 146), (120, 108, 90), (200, 40, 30), (255, 255, 255)


def _world(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Web Mercator pixels at zoom z."""
    n = TILE * (1 << z)
    lat = max(min(lat, 85.05112878), -85.05112878)
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def _lonlat(x: float, y: float, z: int) -> tuple[float, float]:
    n = TILE * (1 << z)
    return x / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def static_map(session: Session, *, lon: float, lat: float) -> bytes:
    """A PNG (MAP_WIDTH × MAP_HEIGHT) centred on the position: the county's base layer when it has one
    (``geo.service.basemap``), else its township and village boundaries drawn here; a marker in the
    middle. Kept in a small in-process cache."""
    settings = get_settings()
    cfg = basemap.config(settings)
    z = MAP_ZOOM if cfg.source == "none" else max(cfg.min_zoom, min(MAP_ZOOM, cfg.max_zoom))
    key = (round(lon, 6), round(lat, 6), cfg.source, z, str(basemap.local_path(settings)))
    with _map_lock:
        if key in _map_cache:
            _map_cache.move_to_end(key)
            return _map_cache[key]
    data = _draw(session, cfg, lon, lat, z)
    with _map_lock:
        _map_cache[key] = data
        while len(_map_cache) > MAP_CACHE_SIZE:
            _map_cache.popitem(last=False)
    return data


def _draw(session: Session, cfg: basemap.BasemapConfig, lon: float, lat: float, z: int) -> bytes:
    from PIL import Image, ImageDraw

    cx, cy = _world(lon, lat, z)
    x0, y0 = cx - MAP_WIDTH / 2, cy - MAP_HEIGHT / 2
    img = Image.new("RGB", (MAP_WIDTH, MAP_HEIGHT), LAND)
    drawn = cfg.source != "none" and _paste_tiles(img, z, x0, y0)
    draw = ImageDraw.Draw(img)
    if not drawn:
        _draw_boundaries(session, draw, z, x0, y0)
    r = 9
    draw.ellipse(
        (MAP_WIDTH / 2 - r - 3, MAP_HEIGHT / 2 - r - 3, MAP_WIDTH / 2 + r + 3, MAP_HEIGHT / 2 + r + 3), fill=HALO
    )
    draw.ellipse((MAP_WIDTH / 2 - r, MAP_HEIGHT / 2 - r, MAP_WIDTH / 2 + r, MAP_HEIGHT / 2 + r), fill=MARK)
    out = io.BytesIO()
    img.quantize(colors=64).save(out, "PNG", optimize=True)
    return out.getvalue()


def _paste_tiles(img: Any, z: int, x0: float, y0: float) -> bool:
    """The base layer's tiles under the picture; False when none could be had."""
    from PIL import Image

    settings = get_settings()
    pasted = False
    n = 1 << z
    for tx in range(int(x0 // TILE), int((x0 + MAP_WIDTH) // TILE) + 1):
        for ty in range(int(y0 // TILE), int((y0 + MAP_HEIGHT) // TILE) + 1):
            if not (0 <= tx < n and 0 <= ty < n):
                continue
            try:
                tile = basemap.get_tile(settings, z, tx, ty)
            except CountyError:  # no tiles at this zoom, the tile server not answering
                tile = None
            if tile is None:
                continue
            try:
                picture = Image.open(io.BytesIO(tile.data))
                if picture.size[0] > 2 * TILE or picture.size[1] > 2 * TILE:
                    continue
                part = picture.convert("RGBA").resize((TILE, TILE))
            except (OSError, ValueError):
                continue
            img.paste(part, (int(tx * TILE - x0), int(ty * TILE - y0)), part)
            pasted = True
    return pasted


def _draw_boundaries(session: Session, draw: Any, z: int, x0: float, y0: float) -> None:
    """Township and village boundaries around the point (a county without a base layer)."""
    west, north = _lonlat(x0, y0, z)
    east, south = _lonlat(x0 + MAP_WIDTH, y0 + MAP_HEIGHT, z)
    rows = session.execute(
        select(Division.level, Division.geom)
        .where(
            Division.level.in_([DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE, DivisionLevel.COUNTY]),
            Division.minx <= east,
            Division.maxx >= west,
            Division.miny <= north,
            Division.maxy >= south,
        )
        .limit(200)
    ).all()

    def px(coords: Any) -> list[tuple[float, float]]:
        out = []
        for c in coords:
            wx, wy = _world(c[0], c[1], z)
            out.append((wx - x0, wy - y0))
        return out

    def lines(g: Any) -> Iterable[Any]:
        if g.is_empty:
            return []
        return getattr(g, "geoms", None) or [g]

    import shapely

    for level, geom in sorted(rows, key=lambda r: r[0] != DivisionLevel.VILLAGE):
        clipped = shapely.clip_by_rect(geom.boundary, west - 0.01, south - 0.01, east + 0.01, north + 0.01)
        color, width = (LINE, 1) if level == DivisionLevel.VILLAGE else (TOWN_LINE, 2)
        for part in lines(clipped):
            if part.geom_type in ("LineString", "LinearRing") and len(part.coords) > 1:
                draw.line(px(part.coords), fill=color, width=width)
