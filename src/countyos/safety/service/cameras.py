"""Services of the camera-detected events (视频智能发现) part: the camera register and the event types.

A camera is known by its GB/T 28181 device id (``check_code``): 20 digits — 1–8 中心编码 (the first 6 a
division code of the county's province; with a county set up, of its province), 9–10 行业编码, 11–13
类型编码 (131 摄像机 or 132 网络摄像机; 111–130 are recorders, encoders and the like and refused for a
camera), 14 网络标识, 15–20 序号. Its position places it on a township and grid (the cases locator, as a
case at that spot would be placed). The register is imported from CSV/XLSX all or nothing.

Event types come from ``data/cameras_event_types.json`` the first time they are needed and are then
kept by staff (``save_type``): threshold, dedupe window and radius, the cases category (by its Open311
service code), priority, enabled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from countyos.cases.models import Priority
from countyos.cases.service import categories, location
from countyos.core import tabular
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.core.i18n import N_
from countyos.geo import service as geo
from countyos.org.service import audit
from countyos.safety.models.cameras import Camera, CameraEventType
from countyos.safety.schemas.cameras import CameraIn, EventTypeIn

DATA = Path(__file__).resolve().parent.parent / "data"
MAX_LIST = 1000
MAX_IMPORT_BYTES = 5_000_000
MAX_IMPORT_ROWS = 5000

CODE_DIGITS = N_("A GB/T 28181 device id has exactly 20 digits")
CODE_PROVINCE = N_("Digits 1–2 are not a province code of GB/T 2260")
CODE_DIVISION = N_("Digits 1–6 must be a division code of this county's province (%(province)s…)")
CODE_NOT_CAMERA = N_("Type code %(type)s (digits 11–13) is a %(name)s, not a camera: use 131 or 132")
CODE_UNKNOWN_TYPE = N_("Type code %(type)s (digits 11–13) is not a camera type: use 131 or 132")
CODE_DIVISION_FIELD = N_("Digits 1–6 must be a division code of this county's province")
CODE_TYPE_FIELD = N_("Digits 11–13 must be 131 (camera) or 132 (network camera, IPC)")
CODE_TAKEN = N_("Another camera already has this code")
OUTSIDE = N_("The position is outside the county")
UNKNOWN_DEPARTMENT = N_("No such department")

PRIORITY_NAMES = {
    Priority.NORMAL: N_("Normal"),
    Priority.URGENT: N_("Urgent"),
    Priority.CRITICAL: N_("Critical"),
}


@lru_cache(maxsize=1)
def gb28181() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "cameras_gb28181.json").read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def default_types() -> list[dict[str, Any]]:
    data = json.loads((DATA / "cameras_event_types.json").read_text(encoding="utf-8"))
    types: list[dict[str, Any]] = data["types"]
    return types


def _county_province(session: Session) -> str | None:
    county = geo.the_county(session)
    return county.code[:2] if county is not None else None


def check_code(session: Session, code: str) -> str:
    """The code if it is a camera's GB/T 28181 device id, else a refusal on the field ``code``."""
    code = code.strip()
    if not re.fullmatch(r"[0-9]{20}", code):
        raise ValidationFailed.on_field("code", CODE_DIGITS)
    table = gb28181()
    if code[:2] not in table["provinces"]:
        raise ValidationFailed.on_field("code", CODE_PROVINCE)
    province = _county_province(session)
    if province is not None and code[:2] != province:
        raise ValidationFailed(
            CODE_DIVISION, errors=[{"field": "code", "message": CODE_DIVISION_FIELD}], province=province
        )
    kind = code[10:13]
    if kind not in table["camera_types"]:
        name = table["type_names"].get(kind) or next(
            (r["name"] for r in table["type_ranges"] if r["from"] <= int(kind) <= r["to"]), None
        )
        message = CODE_NOT_CAMERA if name else CODE_UNKNOWN_TYPE
        raise ValidationFailed(
            message, errors=[{"field": "code", "message": CODE_TYPE_FIELD}], type=kind, name=name or ""
        )
    return code


# The camera types of GB/T 28181 (data/cameras_gb28181.json ``camera_types``) as message ids.
CAMERA_TYPE_LABELS = {"131": N_("Camera"), "132": N_("Network camera (IPC)")}


def type_name_of(code: str) -> str:
    """The message id naming the GB/T 28181 type of a device id (摄像机 / 网络摄像机(IPC)); empty when unknown."""
    return CAMERA_TYPE_LABELS.get(code[10:13], "")


# --- kept in memory for the intake (plain values; emptied when the tables are written) ---------------


@dataclass(frozen=True)
class CameraInfo:
    id: int
    code: str
    name: str
    lon: float
    lat: float
    place: str
    active: bool


@dataclass(frozen=True)
class TypeInfo:
    code: str
    name_zh: str
    threshold: float
    dedupe_seconds: int
    dedupe_radius_m: int
    category_code: str | None
    priority: Priority | None
    enabled: bool


_CAMERAS: HotCache[dict[str, CameraInfo]] = HotCache("safety cameras", tables=("safety_camera",), ttl=30.0)
_TYPE_INFO: HotCache[TypeInfo | None] = HotCache("safety camera types", tables=("safety_camera_event_type",), ttl=30.0)


def all_cameras(session: Session) -> dict[str, CameraInfo]:
    """Every camera by code, as plain values (one query per process and change of the register)."""

    def load() -> dict[str, CameraInfo]:
        rows = session.execute(
            select(Camera.id, Camera.code, Camera.name, Camera.lon, Camera.lat, Camera.place, Camera.active)
        ).all()
        return {r.code: CameraInfo(r.id, r.code, r.name, r.lon, r.lat, r.place, r.active) for r in rows}

    return _CAMERAS.get(session, "all", load)


def camera_info(session: Session, *, code: str) -> CameraInfo | None:
    return all_cameras(session).get(code)


def type_info(session: Session, *, code: str) -> TypeInfo | None:
    def load() -> TypeInfo | None:
        t = get_type(session, code=code)
        if t is None:
            return None
        return TypeInfo(
            t.code,
            t.name_zh,
            t.threshold,
            t.dedupe_seconds,
            t.dedupe_radius_m,
            t.category_code,
            t.priority,
            t.enabled,
        )

    return _TYPE_INFO.get(session, code, load)


# --- the register ------------------------------------------------------------------------------------


def get(session: Session, *, camera_id: int) -> Camera:
    cam = session.get(Camera, camera_id)
    if cam is None:
        raise NotFound(N_("Camera %(id)s does not exist"), id=camera_id)
    return cam


def by_code(session: Session, *, code: str) -> Camera | None:
    return session.scalar(select(Camera).where(Camera.code == code))


@dataclass(frozen=True)
class CameraFilter:
    q: str = ""
    township_code: str | None = None
    active: bool | None = None
    department_id: int | None = None


def list_cameras(session: Session, f: CameraFilter = CameraFilter(), *, limit: int = MAX_LIST) -> list[Camera]:
    stmt = select(Camera)
    if f.q:
        like = f"%{f.q[:60]}%"
        stmt = stmt.where(or_(Camera.name.like(like), Camera.code.like(like), Camera.place.like(like)))
    if f.township_code:
        stmt = stmt.where(Camera.township_code == f.township_code)
    if f.active is not None:
        stmt = stmt.where(Camera.active.is_(f.active))
    if f.department_id is not None:
        stmt = stmt.where(Camera.department_id == f.department_id)
    return list(session.scalars(stmt.order_by(Camera.code).limit(min(limit, MAX_LIST))))


def townships(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Camera.township_code, Camera.township_name)
        .where(Camera.township_code.is_not(None))
        .group_by(Camera.township_code, Camera.township_name)
        .order_by(Camera.township_code)
    ).all()
    return [(str(c), str(n or c)) for c, n in rows]


def _apply(session: Session, cam: Camera, data: CameraIn) -> None:
    from countyos.org.models import Department

    if data.department_id is not None and session.get(Department, data.department_id) is None:
        raise ValidationFailed.on_field("department_id", UNKNOWN_DEPARTMENT)
    try:
        place = location.locate(session, lon=data.lon, lat=data.lat)
    except CountyError as exc:
        raise ValidationFailed.on_field("lon", OUTSIDE) from exc
    cam.name = data.name
    cam.lon, cam.lat = data.lon, data.lat
    cam.direction = data.direction
    cam.height_m = data.height_m
    cam.place = data.place
    cam.department_id = data.department_id
    cam.active = data.active
    cam.notes = data.notes
    cam.township_code, cam.township_name, cam.grid_code = place.township_code, place.township_name, place.grid_code
    cam.updated_at = utcnow()


def create(session: Session, *, actor: Actor, data: CameraIn, audited: bool = True) -> Camera:
    code = check_code(session, data.code)
    if by_code(session, code=code) is not None:
        raise ValidationFailed.on_field("code", CODE_TAKEN)
    cam = Camera(code=code)
    _apply(session, cam, data)
    session.add(cam)
    session.flush()
    if audited:
        audit.record(
            session,
            actor=actor,
            action="safety.cameras.create",
            target_type="safety_camera",
            target_id=cam.code,
            detail={"name": cam.name, "grid": cam.grid_code},
        )
    return cam


def update(session: Session, *, actor: Actor, camera_id: int, data: CameraIn) -> Camera:
    cam = get(session, camera_id=camera_id)
    code = check_code(session, data.code)
    if code != cam.code:
        other = by_code(session, code=code)
        if other is not None:
            raise ValidationFailed.on_field("code", CODE_TAKEN)
        cam.code = code
    _apply(session, cam, data)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.cameras.update",
        target_type="safety_camera",
        target_id=cam.code,
        detail={"name": cam.name, "active": cam.active},
    )
    return cam


# the file's headers (Chinese or the field names) → the field
HEADERS = {
    "国标编码": "code",
    "编码": "code",
    "设备编码": "code",
    "code": "code",
    "名称": "name",
    "name": "name",
    "经度": "lon",
    "lon": "lon",
    "纬度": "lat",
    "lat": "lat",
    "朝向": "direction",
    "方向": "direction",
    "direction": "direction",
    "高度": "height_m",
    "安装高度": "height_m",
    "height_m": "height_m",
    "位置": "place",
    "位置描述": "place",
    "place": "place",
    "权属单位": "department",
    "department": "department",
    "备注": "notes",
    "notes": "notes",
}
IMPORT_COLUMNS = ("国标编码", "名称", "经度", "纬度", "朝向", "安装高度", "位置描述", "权属单位", "备注")


def _header(text: str) -> str:
    key = "".join(text.split()).strip("*＊").lower()
    return HEADERS.get(key, HEADERS.get(text.strip(), ""))


@dataclass
class ImportReport:
    added: int
    updated: int


def import_file(session: Session, *, actor: Actor, data: bytes, filename: str) -> ImportReport:
    """The cameras of a CSV/XLSX file (a header row with 国标编码, 名称, 经度, 纬度 at least), added or
    updated by code — all or nothing: any bad row refuses the file with every problem by row."""
    from countyos.org.models import Department

    rows = tabular.read_table_rows(
        data,
        filename,
        header=_header,
        is_header=lambda cols: {"code", "name", "lon", "lat"} <= set(cols),
        missing_header=N_("The file needs the columns 国标编码, 名称, 经度 and 纬度"),
        max_file_bytes=MAX_IMPORT_BYTES,
        max_rows=MAX_IMPORT_ROWS,
    )
    departments = {d.name: d.id for d in session.scalars(select(Department))}
    problems: list[tabular.Problem] = []
    parsed: list[CameraIn] = []
    seen: set[str] = set()
    for n, row in rows:
        dept_name = row.get("department", "").strip()
        if dept_name and dept_name not in departments:
            problems.append(tabular.Problem("", n, "department", UNKNOWN_DEPARTMENT))
            continue
        values: dict[str, Any] = {k: v for k, v in row.items() if k != "department" and v != ""}
        values["department_id"] = departments.get(dept_name) if dept_name else None
        try:
            item = CameraIn.model_validate(values)
        except Exception as exc:  # pydantic: one problem per field
            for err in getattr(exc, "errors", lambda: [])():
                field = str(err["loc"][0]) if err.get("loc") else None
                problems.append(tabular.Problem("", n, field, N_("This value is not valid")))
            continue
        try:
            item.code = check_code(session, item.code)
        except ValidationFailed as exc:
            problems.append(tabular.Problem("", n, "code", exc.message_id, exc.params))
            continue
        if item.code in seen:
            problems.append(tabular.Problem("", n, "code", N_("The code appears twice in the file")))
            continue
        seen.add(item.code)
        parsed.append(item)
    if problems:
        raise tabular.refusal(problems)
    added = updated = 0
    for i, item in enumerate(parsed):
        cam = by_code(session, code=item.code)
        try:
            if cam is None:
                create(session, actor=actor, data=item, audited=False)
                added += 1
            else:
                _apply(session, cam, item)
                updated += 1
        except ValidationFailed as exc:
            n = rows[i][0]
            raise tabular.refusal([tabular.Problem("", n, "lon", exc.message_id, exc.params)]) from exc
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.cameras.import",
        target_type="safety_camera",
        target_id=None,
        detail={"file": filename[:100], "added": added, "updated": updated},
    )
    return ImportReport(added, updated)


def export_rows(session: Session) -> tuple[list[str], list[list[Any]]]:
    from countyos.org.models import Department

    names = {d.id: d.name for d in session.scalars(select(Department))}
    rows = [
        [c.code, c.name, c.lon, c.lat, c.direction, c.height_m, c.place, names.get(c.department_id or 0, ""), c.notes]
        for c in list_cameras(session)
    ]
    return list(IMPORT_COLUMNS), rows


# --- event types -------------------------------------------------------------------------------------


def ensure_types(session: Session) -> None:
    """Load the event types of ``data/cameras_event_types.json`` when there are none yet."""
    if session.scalar(select(func.count()).select_from(CameraEventType)):
        return
    for t in default_types():
        session.add(
            CameraEventType(
                code=t["code"],
                name_zh=t["name_zh"],
                name_en=t.get("name_en", ""),
                threshold=float(t["threshold"]),
                dedupe_seconds=int(t["dedupe_seconds"]),
                dedupe_radius_m=int(t.get("dedupe_radius_m", 0)),
                category_code=t.get("category_code"),
                priority=Priority(t["priority"]) if t.get("priority") else None,
                enabled=bool(t.get("enabled", True)),
            )
        )
    session.flush()


def list_types(session: Session) -> list[CameraEventType]:
    return list(session.scalars(select(CameraEventType).order_by(CameraEventType.code)))


def get_type(session: Session, *, code: str) -> CameraEventType | None:
    return session.scalar(select(CameraEventType).where(CameraEventType.code == code))


def save_type(session: Session, *, actor: Actor, code: str, data: EventTypeIn) -> CameraEventType:
    """Add or change an event type (an unmapped code a box sent becomes a type here)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        raise ValidationFailed.on_field("code", N_("Lower-case letters, digits and _ only"))
    if data.category_code:
        cat = categories.info_by_service_code(session, code=data.category_code)
        if cat is None or cat.is_group or not cat.is_active:
            raise ValidationFailed.on_field("category_code", N_("No such case category (Open311 service code)"))
    t = get_type(session, code=code)
    created = t is None
    if t is None:
        t = CameraEventType(code=code)
        session.add(t)
    t.name_zh, t.name_en = data.name_zh, data.name_en
    t.threshold, t.dedupe_seconds, t.dedupe_radius_m = data.threshold, data.dedupe_seconds, data.dedupe_radius_m
    t.category_code = data.category_code or None
    t.priority = data.priority
    t.enabled = data.enabled
    t.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.cameras.type_save",
        target_type="safety_camera_event_type",
        target_id=code,
        detail={
            "created": created,
            "threshold": t.threshold,
            "window_s": t.dedupe_seconds,
            "radius_m": t.dedupe_radius_m,
            "category": t.category_code,
            "enabled": t.enabled,
        },
    )
    return t


def category_names(session: Session, codes: Sequence[str | None]) -> dict[str, str]:
    out = {}
    for code in {c for c in codes if c}:
        cat = categories.info_by_service_code(session, code=code)
        if cat is not None:
            out[code] = cat.name
    return out
