"""Facilities from a file or from the data catalogue, all or nothing, with a report per row.

- **A file** (CSV or XLSX) with the Chinese headers 名称, 类型, 地址, 经度, 纬度, 电话, 开放时间, 服务内容,
  所属乡镇 (the header row may sit below a title; a few other usual headers are read as these). 类型 is
  a word people use (学校, 村卫生室, 公厕 …, ``KIND_WORDS``); 经度/纬度 are WGS-84/CGCS2000 and must lie
  inside the county, and in 所属乡镇 when it is filled. Every row is checked before anything is written;
  one bad row refuses the file with each problem's row and column. A row is keyed by its department,
  kind and name, so importing the file again updates those facilities in place (and reopens closed
  ones) instead of adding them twice. Nothing of the department's is closed by a file.
- **A data resource** of the department, published in the catalogue (政务信息资源目录): the rows of
  its current load (what CKAN's ``datastore_search`` reads) through a column mapping become facilities
  keyed by ``source="resource:<uid>"`` and the key column (the row number without one). The next sync
  updates them in place, reopens those back in the data and closes those no longer in it.

Each import or sync is one audit record with its counts and the facilities it touched; nothing commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core import tabular
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import Problem
from countyos.data.codes import FieldType
from countyos.data.lifecycle import State
from countyos.data.models import Resource
from countyos.data.service import catalogue, loads
from countyos.geo import service as geo
from countyos.org.service import audit
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.schemas.facilities import FacilityIn, FacilitySyncIn
from countyos.portal.service.facilities import TARGET, field_error, keeper_department

MAX_FILE_BYTES = 5_000_000
MAX_ROWS = 3_000  # rows of one file
MAX_SYNC_ROWS = 5_000  # rows of one resource
FILE_SOURCE = "file"
ROW_ID = "_id"  # a loaded table's row number (data.service.tables.ROW_ID)
REPORT_ROWS = 500  # rows listed in a report (the counts cover them all)

HEADERS = ("名称", "类型", "地址", "经度", "纬度", "电话", "开放时间", "服务内容", "所属乡镇")
FIELD_OF = {
    "名称": "name",
    "类型": "kind",
    "地址": "address",
    "经度": "lon",
    "纬度": "lat",
    "电话": "phone",
    "开放时间": "hours",
    "服务内容": "services",
}
HEADER_OF = {v: k for k, v in FIELD_OF.items()}
ALIASES = {
    "设施名称": "名称",
    "场所名称": "名称",
    "设施类型": "类型",
    "类别": "类型",
    "详细地址": "地址",
    "联系电话": "电话",
    "服务电话": "电话",
    "服务时间": "开放时间",
    "办公时间": "开放时间",
    "服务项目": "服务内容",
    "乡镇": "所属乡镇",
    "乡镇（街道）": "所属乡镇",
    "所属乡镇（街道）": "所属乡镇",
    "乡镇(街道)": "所属乡镇",
}
_K = FacilityKind
KIND_WORDS: dict[str, FacilityKind] = {
    **{k.value: k for k in FacilityKind},
    **dict.fromkeys(("学校", "幼儿园", "小学", "中学", "初中", "高中"), _K.SCHOOL),
    **dict.fromkeys(("医院", "县人民医院", "中医院", "人民医院"), _K.HOSPITAL),
    **dict.fromkeys(("卫生院", "乡镇卫生院", "村卫生室", "卫生室", "诊所", "社区卫生服务中心"), _K.CLINIC),
    **dict.fromkeys(("药店", "药房", "零售药店"), _K.PHARMACY),
    **dict.fromkeys(("便民服务中心", "政务服务中心", "为民服务中心"), _K.SERVICE_CENTRE),
    **dict.fromkeys(("村代办点", "代办点", "便民代办点"), _K.AGENT_POINT),
    **dict.fromkeys(("公厕", "公共厕所", "厕所"), _K.TOILET),
    **dict.fromkeys(("停车场", "公共停车场"), _K.PARKING),
    **dict.fromkeys(("公交站", "公交站点", "公交车站"), _K.BUS_STOP),
    **dict.fromkeys(("充电桩", "充电站"), _K.CHARGING),
    **dict.fromkeys(("避灾安置点", "避难场所", "应急避难场所"), _K.SHELTER),
    **dict.fromkeys(("体育馆", "体育场", "体育场馆", "健身点", "全民健身中心"), _K.SPORTS),
    **dict.fromkeys(("图书馆", "农家书屋", "图书室"), _K.LIBRARY),
    **dict.fromkeys(("文化礼堂", "农村文化礼堂"), _K.CULTURE_HALL),
    "其他": _K.OTHER,
}
FIELD_WORDS = {
    "missing": N_("Required"),
    "string_too_short": N_("Required"),
    "string_too_long": N_("Too long"),
    "string_pattern_mismatch": N_("Not in the expected form"),
    "float_parsing": N_("Not a number"),
    "greater_than_equal": N_("Out of range"),
    "less_than_equal": N_("Out of range"),
    "enum": N_("Not one of the choices"),
}
OUTSIDE = N_("The position is outside the county; check that longitude and latitude are not swapped")


@dataclass
class Candidate:
    """A checked row: where it was, what it says, its key and the division its position lies in."""

    row: int
    data: FacilityIn
    key: str
    division_code: str = ""


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    closed: int = 0
    rows: list[tuple[int, str, str]] = field(default_factory=list)  # (row, name, added|updated|closed)
    ids: list[int] = field(default_factory=list)

    def note(self, row: int, name: str, result: str, facility_id: int) -> None:
        setattr(self, result, getattr(self, result) + 1)
        self.ids.append(facility_id)
        if len(self.rows) < REPORT_ROWS:
            self.rows.append((row, name, result))


def kind_of(text: str) -> FacilityKind | None:
    word = "".join(text.split())
    return KIND_WORDS.get(word) or KIND_WORDS.get(word.lower())


# --- reading a file --------------------------------------------------------------------------------


def _is_header(found: Iterable[str]) -> bool:
    names = set(found)
    return {"名称", "经度", "纬度"} <= names


def _header(text: str) -> str:
    word = "".join(str(text or "").split()).strip("*＊")
    return ALIASES.get(word, word)


def read_file(data: bytes, filename: str = "") -> list[tuple[int, dict[str, str]]]:
    """The rows of an uploaded CSV or XLSX file (row number, header → text), bounded in size and rows."""
    return tabular.read_table_rows(
        data,
        filename,
        header=_header,
        is_header=_is_header,
        missing_header=N_("No header row with 名称, 经度 and 纬度 was found"),
        max_file_bytes=MAX_FILE_BYTES,
        max_rows=MAX_ROWS,
        max_columns=40,
        max_chars=4000,
    )


# --- checking rows -------------------------------------------------------------------------------


def _number(text: Any) -> float | None:
    if isinstance(text, int | float):
        return float(text)
    try:
        return float(str(text or "").strip())
    except ValueError:
        return None


def _model(
    sheet: str, row: int, values: dict[str, Any], column_of: dict[str, str]
) -> tuple[FacilityIn | None, list[Problem]]:
    try:
        return FacilityIn.model_validate(values), []
    except PydanticValidationError as exc:
        problems = []
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            problems.append(Problem(sheet, row, column_of.get(name), FIELD_WORDS.get(e["type"], N_("Not valid"))))
        return None, problems


def _file_key(department_id: int, kind: FacilityKind, name: str) -> str:
    key = f"{department_id}:{kind.value}:{name}"
    if len(key) > 120:
        key = f"{department_id}:{kind.value}:#{hashlib.sha256(name.encode()).hexdigest()[:40]}"
    return key


def _place_all(session: Session, sheet: str, cands: list[Candidate], problems: list[Problem], column: str) -> None:
    """Each candidate's division; a position outside the county is a problem of its row."""
    if not cands:
        return
    batch = geo.locate_many(session, [c.data.lon for c in cands], [c.data.lat for c in cands])
    for c, place in zip(cands, batch, strict=True):
        if place is None:
            problems.append(Problem(sheet, c.row, column, OUTSIDE))
            continue
        c.division_code = place.village_code or place.township_code or place.county_code


def _twice(sheet: str, cands: list[Candidate], problems: list[Problem], column: str) -> None:
    seen: dict[str, int] = {}
    for c in cands:
        if c.key in seen:
            problems.append(
                Problem(sheet, c.row, column, N_("The same facility is on row %(row)s too"), {"row": seen[c.key]})
            )
        else:
            seen[c.key] = c.row


def check_file_rows(
    session: Session, *, department_id: int, rows: Sequence[tuple[int, dict[str, str]]], sheet: str = ""
) -> list[Candidate]:
    """Every row checked (kind, fields, position inside the county and in its township); refused with
    every problem at once (``tabular.refusal``, 422) when any row has one."""
    problems: list[Problem] = []
    cands: list[Candidate] = []
    townships: dict[int, str] = {}
    for n, cells in rows:
        kind_text = cells.get("类型", "")
        kind = kind_of(kind_text)
        if kind is None:
            message = N_("Unknown kind %(value)s") if kind_text else N_("Required")
            problems.append(Problem(sheet, n, "类型", message, {"value": kind_text[:40]} if kind_text else {}))
        values: dict[str, Any] = {f: cells.get(h, "") for h, f in FIELD_OF.items() if f not in ("kind", "lon", "lat")}
        bad_number = False
        for f in ("lon", "lat"):
            text = cells.get(HEADER_OF[f], "")
            number = _number(text)
            if number is None:
                problems.append(Problem(sheet, n, HEADER_OF[f], N_("Required") if not text else N_("Not a number")))
                bad_number = True
            values[f] = number
        if kind is None or bad_number:
            continue
        values["kind"] = kind
        model, found = _model(sheet, n, values, HEADER_OF)
        problems += found
        if model is not None:
            cands.append(Candidate(n, model, _file_key(department_id, kind, model.name)))
            townships[n] = cells.get("所属乡镇", "")
    _twice(sheet, cands, problems, "名称")
    _place_all(session, sheet, cands, problems, "经度")
    _in_township(session, sheet, cands, townships, problems)
    if problems:
        problems.sort(key=lambda p: p.row)
        raise tabular.refusal(problems)
    return cands


def _in_township(
    session: Session, sheet: str, cands: list[Candidate], given: dict[int, str], problems: list[Problem]
) -> None:
    codes = {c.division_code[:9] for c in cands if len(c.division_code) >= 9}
    names = geo_names(session, codes)
    for c in cands:
        said = "".join(given.get(c.row, "").split())
        found = names.get(c.division_code[:9], "") if len(c.division_code) >= 9 else ""
        if said and found and said not in found and found not in said:
            problems.append(
                Problem(
                    sheet, c.row, "所属乡镇", N_("The position lies in %(found)s, not in %(given)s"),
                    {"found": found, "given": said[:40]},
                )
            )  # fmt: skip


def geo_names(session: Session, codes: set[str]) -> dict[str, str]:
    from countyos.geo.service import divisions

    return divisions.names_by_code(session, codes)


# --- writing ---------------------------------------------------------------------------------------


def _upsert(
    session: Session, *, actor: Actor, department_id: int, source: str, cands: list[Candidate], report: Report
) -> None:
    existing: dict[str, Facility] = {}
    keys = [c.key for c in cands]
    for i in range(0, len(keys), 500):
        for known in session.scalars(
            select(Facility).where(Facility.source == source, Facility.source_key.in_(keys[i : i + 500]))
        ):
            existing[known.source_key or ""] = known
    now = utcnow()
    for c in cands:
        f = existing.get(c.key)
        result = "updated"
        if f is None:
            f = Facility(department_id=department_id, source=source, source_key=c.key)
            session.add(f)
            existing[c.key] = f
            result = "added"
        elif f.department_id != department_id:  # another department's row of the same source: left alone
            continue
        for name in ("kind", "name", "address", "lon", "lat", "phone", "hours", "services"):
            setattr(f, name, getattr(c.data, name))
        f.division_code = c.division_code
        f.active = True
        f.updated_by_id = actor.id
        f.updated_at = now
        session.flush()
        report.note(c.row, f.name, result, f.id)


def import_file(session: Session, *, actor: Actor, data: bytes, filename: str = "") -> Report:
    """A file of facilities for the actor's department, all or nothing; one audit record."""
    department_id = keeper_department(actor)
    rows = read_file(data, filename)
    if not rows:
        raise ValidationFailed(N_("The file has no rows below its header"))
    cands = check_file_rows(session, department_id=department_id, rows=rows, sheet=filename[:100])
    report = Report()
    _upsert(session, actor=actor, department_id=department_id, source=FILE_SOURCE, cands=cands, report=report)
    audit.record(
        session,
        actor=actor,
        action="portal.facility.import",
        target_type=TARGET,
        detail={"file": filename[:200], "added": report.added, "updated": report.updated, "ids": report.ids[:1000]},
    )
    return report


# --- syncing from a data resource ----------------------------------------------------------------------


def resources_for(session: Session, *, actor: Actor) -> list[Resource]:
    """The department's published resources that have data loaded (what a sync can read)."""
    if actor.department_id is None:
        return []
    rows, _ = catalogue.listing(session, actor=actor, state=State.PUBLISHED, provider_id=actor.department_id, limit=200)
    return [r for r in rows if r.current_load_id is not None]


def _resource(session: Session, *, department_id: int, resource_id: int) -> Resource:
    try:
        res = catalogue.get(session, resource_id)
    except NotFound:
        res = None
    if res is None or res.provider_id != department_id or res.state != State.PUBLISHED:
        raise field_error("resource_id", N_("Choose a published resource of your department"))
    return res


MAPPED = {
    "name_column": "name",
    "address_column": "address",
    "phone_column": "phone",
    "hours_column": "hours",
    "services_column": "services",
}


def sync_resource(session: Session, *, actor: Actor, data: FacilitySyncIn) -> Report:
    """The resource's current rows as the department's facilities, keyed by ``resource:<uid>`` and the
    key column: added, updated in place, reopened, and those no longer there closed. All or nothing."""
    department_id = keeper_department(actor)
    res = _resource(session, department_id=department_id, resource_id=data.resource_id)
    found = loads.current_table(session, res)
    if found is None:
        raise field_error("resource_id", N_("The resource has no data loaded yet"))
    table, items = found
    types = {i.name: i.type for i in items}
    chosen = {
        f: getattr(data, f)
        for f in (*MAPPED, "key_column", "lon_column", "lat_column", "geometry_column")
        if getattr(data, f) is not None
    }
    for field_name, column in chosen.items():
        if column not in types and not (field_name == "key_column" and column == ROW_ID):
            raise field_error(field_name, N_("The resource has no column %(name)s"), name=column)
    if data.geometry_column is not None and types[data.geometry_column] != FieldType.GEOMETRY:
        raise field_error("geometry_column", N_("This column holds no positions"))
    total = session.scalar(select(func.count()).select_from(table)) or 0
    if total > MAX_SYNC_ROWS:
        raise field_error("resource_id", N_("The resource has more than %(n)s rows"), n=MAX_SYNC_ROWS)
    names = sorted({ROW_ID, *chosen.values()})
    sheet = res.title[:100]
    problems: list[Problem] = []
    cands: list[Candidate] = []
    column_of = {v: chosen[k] for k, v in MAPPED.items() if k in chosen}
    for row in session.execute(select(*[table.c[n] for n in names]).order_by(table.c[ROW_ID])).mappings():
        n = int(row[ROW_ID])
        values: dict[str, Any] = {v: _text(row[chosen[k]]) for k, v in MAPPED.items() if k in chosen}
        values["kind"] = data.kind
        position = _position(row, data)
        if position is None:
            where = data.geometry_column or data.lon_column
            problems.append(Problem(sheet, n, where, N_("No position")))
            continue
        values["lon"], values["lat"] = position
        model, bad = _model(sheet, n, values, {**column_of, "lon": where_lon(data), "lat": where_lat(data)})
        problems += bad
        key_value = row[data.key_column] if data.key_column else n
        key = _text(key_value)[:120]
        if model is None:
            continue
        if not key:
            problems.append(Problem(sheet, n, data.key_column, N_("Required")))
            continue
        cands.append(Candidate(n, model, key))
    _twice(sheet, cands, problems, data.key_column or ROW_ID)
    _place_all(session, sheet, cands, problems, where_lon(data))
    if problems:
        problems.sort(key=lambda p: p.row)
        raise tabular.refusal(problems)
    source = f"resource:{res.uid}"
    report = Report()
    _upsert(session, actor=actor, department_id=department_id, source=source, cands=cands, report=report)
    wanted = {c.key for c in cands}
    now = utcnow()
    for f in session.scalars(select(Facility).where(Facility.source == source, Facility.active.is_(True))):
        if f.source_key not in wanted and f.department_id == department_id:
            f.active = False
            f.updated_by_id = actor.id
            f.updated_at = now
            report.note(0, f.name, "closed", f.id)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="portal.facility.sync",
        target_type=TARGET,
        detail={
            "resource": res.uid,
            "title": res.title,
            "added": report.added,
            "updated": report.updated,
            "closed": report.closed,
            "ids": report.ids[:1000],
        },
    )
    return report


def where_lon(data: FacilitySyncIn) -> str:
    return data.geometry_column or data.lon_column or ""


def where_lat(data: FacilitySyncIn) -> str:
    return data.geometry_column or data.lat_column or ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _position(row: Any, data: FacilitySyncIn) -> tuple[float, float] | None:
    if data.geometry_column is not None:
        text = row[data.geometry_column]
        if not text:
            return None
        try:
            geom = shape(json.loads(text) if isinstance(text, str) else text)
            point = geom if geom.geom_type == "Point" else geom.representative_point()
            return float(point.x), float(point.y)
        except (ValueError, TypeError, AttributeError, KeyError):
            return None
    lon, lat = _number(row[data.lon_column]), _number(row[data.lat_column])
    return (lon, lat) if lon is not None and lat is not None else None
