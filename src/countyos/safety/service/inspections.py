"""Key places (重点场所) of the hidden-danger inspections part: kinds and risk grades as data
(``data/inspections_place_kinds.json``), the register with its division and grid, the responsible person's
phone kept encrypted and shown masked (the unmasked view is audited), the next inspection due by the
grade's frequency (A monthly, B quarterly, C half-yearly, D yearly by default), nearest-first search and
the all-or-nothing import from CSV/XLSX.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from countyos.cases.service import location
from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.core.crypto import mask_phone
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_, get_locale
from countyos.core.tabular import Problem, read_table_rows, refusal
from countyos.org.service import audit, users
from countyos.safety.models.inspections import Place, RiskGrade
from countyos.safety.schemas.inspections import PlaceIn

DATA = Path(__file__).resolve().parent.parent / "data"
PHONE_CHARS = set("0123456789+- ")
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5_000_000
MAX_LIST = 500
GRADE_NAMES = {
    RiskGrade.A: N_("A high risk"),
    RiskGrade.B: N_("B fairly high risk"),
    RiskGrade.C: N_("C moderate risk"),
    RiskGrade.D: N_("D low risk"),
}


@cache
def kinds_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "inspections_place_kinds.json").read_text(encoding="utf-8"))
    return data


def kinds() -> dict[str, dict[str, Any]]:
    return {k["code"]: k for k in kinds_data()["kinds"]}


def kind_label(code: str) -> str:
    spec = kinds().get(code)
    if spec is None:
        return code
    return str(spec["zh"] if get_locale().startswith("zh") else spec["en"])


def every_months(grade: RiskGrade) -> int:
    spec = next(g for g in kinds_data()["grades"] if g["code"] == grade.value)
    return int(spec["every_months"])


def add_months(day: date, months: int) -> date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    days_in = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
    return date(year, month, min(day.day, days_in[month - 1]))


def next_due(grade: RiskGrade, last: date | None, today: date | None = None) -> date:
    """The day the next inspection is due: LAST plus the grade's frequency; a place never inspected is
    due at once (TODAY)."""
    if last is None:
        return today or county_today()
    return add_months(last, every_months(grade))


def field_error(field: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field, "message": message}], **params)


def _check(data: PlaceIn) -> None:
    if data.kind not in kinds():
        raise field_error("kind", N_("Choose one of the kinds of key places"))
    phone = data.responsible_phone
    if phone and (not set(phone) <= PHONE_CHARS or sum(c.isdigit() for c in phone) < 7):
        raise field_error("responsible_phone", N_("Enter a mobile number or a landline number with its area code"))


def _apply(session: Session, p: Place, data: PlaceIn, keep_phone: bool = False) -> None:
    where = location.locate(session, lon=data.lon, lat=data.lat)
    p.name, p.kind, p.address = data.name, data.kind, data.address
    p.lon, p.lat = where.lon, where.lat
    p.township_code, p.township_name = where.township_code, where.township_name
    p.village_code, p.village_name, p.grid_code = where.village_code, where.village_name, where.grid_code
    p.responsible_name, p.safety_manager = data.responsible_name, data.safety_manager
    phone = data.responsible_phone.strip()
    if phone or not keep_phone:
        p.responsible_phone_enc = users.cipher().encrypt(phone) if phone else None
        p.responsible_phone_masked = mask_phone(phone) if phone else None
    if p.grade != data.grade or p.next_due_on is None:
        p.grade = data.grade
        p.next_due_on = next_due(data.grade, p.last_inspected_on)
    p.active = data.active


def _detail(p: Place) -> dict[str, Any]:  # never the phone
    return {"name": p.name, "kind": p.kind, "grade": str(p.grade), "grid": p.grid_code, "active": p.active}


def create(session: Session, *, actor: Actor, data: PlaceIn, audited: bool = True) -> Place:
    _check(data)
    p = Place(created_by=actor.name, grade=data.grade)
    p.next_due_on = None
    _apply(session, p, data)
    session.add(p)
    session.flush()
    if audited:
        audit.record(
            session, actor=actor, action="safety.inspections.place_create", target_type="safety_place",
            target_id=p.id, detail=_detail(p),
        )  # fmt: skip
    return p


def update(session: Session, *, actor: Actor, place_id: int, data: PlaceIn, keep_phone: bool = False) -> Place:
    """Change a place; KEEP_PHONE: an empty phone leaves the number kept as it is (the page's form, which
    never shows the number)."""
    _check(data)
    p = get(session, place_id=place_id)
    _apply(session, p, data, keep_phone)
    session.flush()
    audit.record(
        session, actor=actor, action="safety.inspections.place_update", target_type="safety_place",
        target_id=p.id, detail=_detail(p),
    )  # fmt: skip
    return p


def get(session: Session, *, place_id: int) -> Place:
    p = session.get(Place, place_id)
    if p is None:
        raise NotFound(N_("No such key place"))
    return p


def reveal_phone(session: Session, *, actor: Actor, place_id: int) -> str:
    """The responsible person's phone unmasked, for one who needs to call them; audited."""
    p = get(session, place_id=place_id)
    audit.record(
        session, actor=actor, action="safety.inspections.phone_reveal", target_type="safety_place", target_id=p.id
    )
    return users.cipher().decrypt(p.responsible_phone_enc) if p.responsible_phone_enc else ""


@dataclass(frozen=True)
class PlaceFilter:
    kind: str | None = None
    grade: RiskGrade | None = None
    township_code: str | None = None
    due: bool = False  # due today or earlier
    q: str = ""
    active: bool | None = True


def _query(f: PlaceFilter, today: date) -> Select[Place]:
    stmt = select(Place)
    if f.active is not None:
        stmt = stmt.where(Place.active.is_(f.active))
    if f.kind:
        stmt = stmt.where(Place.kind == f.kind)
    if f.grade:
        stmt = stmt.where(Place.grade == f.grade)
    if f.township_code:
        stmt = stmt.where(Place.township_code == f.township_code)
    if f.due:
        stmt = stmt.where(Place.next_due_on <= today)
    if f.q:
        like = f"%{f.q}%"
        stmt = stmt.where(or_(Place.name.like(like), Place.address.like(like)))
    return stmt


def count(session: Session, *, f: PlaceFilter, today: date | None = None) -> int:
    sub = _query(f, today or county_today()).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def search(
    session: Session,
    *,
    f: PlaceFilter,
    limit: int = 100,
    offset: int = 0,
    near: tuple[float, float] | None = None,
    today: date | None = None,
) -> list[tuple[Place, float | None]]:
    """Places matching F with their distance from NEAR (metres), nearest first when NEAR is given, else by
    the day due and name."""
    limit = max(1, min(limit, MAX_LIST))
    stmt = _query(f, today or county_today())
    if near is None:
        rows = session.scalars(stmt.order_by(Place.next_due_on, Place.name, Place.id).offset(offset).limit(limit))
        return [(p, None) for p in rows]
    lon, lat = near
    every: list[tuple[Place, float | None]] = [
        (p, distance(lon, lat, p.lon, p.lat)) for p in session.scalars(stmt.limit(20_000))
    ]
    every.sort(key=lambda x: (x[1] or 0.0, x[0].id))
    return every[offset : offset + limit]


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (the sphere is good enough to order places around a phone)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, a)))


def townships(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Place.township_code, Place.township_name)
        .where(Place.township_code.is_not(None))
        .group_by(Place.township_code, Place.township_name)
        .order_by(Place.township_code)
    )
    return [(str(c), str(n or c)) for c, n in rows]


# --- import ----------------------------------------------------------------------------------------

HEADERS = {
    "名称": "name", "场所名称": "name", "name": "name",
    "类型": "kind", "场所类型": "kind", "kind": "kind",
    "地址": "address", "address": "address",
    "经度": "lon", "lon": "lon",
    "纬度": "lat", "lat": "lat",
    "责任人": "responsible_name", "responsible_name": "responsible_name",
    "责任人电话": "responsible_phone", "联系电话": "responsible_phone", "responsible_phone": "responsible_phone",
    "安全管理员": "safety_manager", "safety_manager": "safety_manager",
    "风险等级": "grade", "grade": "grade",
}  # fmt: skip
REQUIRED = ("name", "kind", "lon", "lat")


def _header(text: str) -> str:
    t = "".join(text.split()).strip("*＊")
    return HEADERS.get(t, HEADERS.get(t.lower(), ""))


def _kind_code(text: str) -> str:
    for code, spec in kinds().items():
        if text in (code, spec["zh"], spec["en"]):
            return code
    return text


def import_places(session: Session, *, actor: Actor, data: bytes, filename: str) -> list[Place]:
    """Key places from a CSV or XLSX file with the headers 名称, 类型, 地址, 经度, 纬度, 责任人, 责任人电话,
    安全管理员, 风险等级: all rows or none (a 422 listing each bad row)."""
    rows = read_table_rows(
        data, filename, header=_header, is_header=lambda cols: all(h in cols for h in REQUIRED),
        missing_header=N_("The file needs the columns 名称, 类型, 经度 and 纬度"),
        max_file_bytes=MAX_IMPORT_BYTES, max_rows=MAX_IMPORT_ROWS, max_chars=300,
    )  # fmt: skip
    problems: list[Problem] = []
    parsed: list[tuple[int, PlaceIn]] = []
    for n, row in rows:
        values: dict[str, Any] = {k: v for k, v in row.items() if k and v}
        if "kind" in values:
            values["kind"] = _kind_code(values["kind"])
        if "grade" in values:
            values["grade"] = values["grade"][:1].upper()
        try:
            item = PlaceIn.model_validate(values)
            _check(item)
            parsed.append((n, item))
        except PydanticValidationError as exc:
            for e in exc.errors():
                col = str(e["loc"][0]) if e["loc"] else None
                problems.append(Problem("", n, col, N_("Not valid")))
        except ValidationFailed as exc:
            for err in exc.errors:
                problems.append(Problem("", n, str(err["field"]), str(err["message"])))
    if not parsed and not problems:
        raise ValidationFailed(N_("The file is empty"))
    made: list[Place] = []
    if not problems:
        for n, item in parsed:
            try:
                with session.begin_nested():
                    made.append(create(session, actor=actor, data=item, audited=False))
            except ValidationFailed as exc:
                problems.append(Problem("", n, "lon", exc.message_id, exc.params))
    if problems:
        raise refusal(problems)
    audit.record(
        session, actor=actor, action="safety.inspections.place_import", target_type="safety_place",
        detail={"rows": len(made), "file": filename[:100]},
    )  # fmt: skip
    return made
