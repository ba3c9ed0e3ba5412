"""The registry of emergency resources: warehouses and their stock lines, rescue teams and their members,
shelters, experts. Phones are kept encrypted and shown masked; an unmasked phone is shown to a keeper
(``safety.emergency.manage``) and every such view is audited. Materials are data
(``data/resources_materials.json``). Files of each kind are imported all or nothing (CSV or XLSX,
``core.tabular.read_table_rows``): a bad row refuses the whole file with every row's problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from countyos.core import tabular
from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.core.crypto import FieldCipher, mask_phone
from countyos.core.errors import NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.safety.models.resources import Expert, Shelter, StockLine, Team, TeamKind, TeamMember, Warehouse
from countyos.safety.schemas.resources import ExpertIn, ShelterIn, StockIn, TeamIn, WarehouseIn

DATA = Path(__file__).resolve().parent.parent / "data" / "resources_materials.json"
MANAGE = "safety.emergency.manage"
EXPIRING_DAYS = 30
MAX_LIST = 2000
MAX_IMPORT_BYTES = 5_000_000
MAX_IMPORT_ROWS = 5000

TEAM_KIND_NAMES = {
    TeamKind.PROFESSIONAL: N_("Professional team"),
    TeamKind.COMPREHENSIVE: N_("Comprehensive team"),
    TeamKind.VOLUNTEER: N_("Volunteer team"),
    TeamKind.MILITIA: N_("Militia"),
}
TEAM_KIND_WORDS = {
    "专业": TeamKind.PROFESSIONAL,
    "综合": TeamKind.COMPREHENSIVE,
    "志愿": TeamKind.VOLUNTEER,
    "民兵": TeamKind.MILITIA,
}
KIND_NAMES = {
    "warehouse": N_("Warehouses"),
    "team": N_("Rescue teams"),
    "shelter": N_("Shelters"),
    "expert": N_("Experts"),
}


@dataclass(frozen=True)
class Material:
    code: str
    name: str
    unit: str
    category: str


@lru_cache(maxsize=1)
def materials() -> dict[str, Material]:
    """The materials a stock line may be of, by code (from ``data/resources_materials.json``)."""
    rows = json.loads(DATA.read_text(encoding="utf-8"))["materials"]
    return {r["code"]: Material(r["code"], r["name"], r["unit"], r["category"]) for r in rows}


@lru_cache(maxsize=4)
def _cipher(secret: str) -> FieldCipher:
    return FieldCipher(secret)


def cipher() -> FieldCipher:
    return _cipher(get_settings().secret_key.get_secret_value())


def enc(phone: str) -> str | None:
    return cipher().encrypt(phone) if phone else None


def masked(phone_enc: str | None) -> str:
    return mask_phone(cipher().decrypt(phone_enc)) if phone_enc else ""


# --- warehouses and stock -----------------------------------------------------------------------------


def _dept(session: Session, dept_id: int | None) -> None:
    if dept_id is not None and session.get(Department, dept_id) is None:
        raise ValidationFailed.on_field("keeper_department_id", N_("There is no such department"))


def _unique(session: Session, model: Any, name: str, own: int | None) -> None:
    other = session.scalar(select(model.id).where(model.name == name))
    if other is not None and other != own:
        raise ValidationFailed.on_field("name", N_("Another record has this name"))


def save_warehouse(session: Session, *, actor: Actor, data: WarehouseIn, warehouse_id: int | None = None) -> Warehouse:
    _dept(session, data.keeper_department_id)
    _unique(session, Warehouse, data.name, warehouse_id)
    w = get_warehouse(session, warehouse_id=warehouse_id) if warehouse_id is not None else Warehouse()
    for k, v in data.model_dump(exclude={"phone"}).items():
        setattr(w, k, v)
    if data.phone or warehouse_id is None:  # an empty phone on a change keeps the one there is
        w.phone_enc = enc(data.phone)
    if warehouse_id is None:
        session.add(w)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.resources.save",
        target_type="safety_res_warehouse",
        target_id=w.id,
        detail={"name": w.name},
    )
    return w


def get_warehouse(session: Session, *, warehouse_id: int) -> Warehouse:
    w = session.get(Warehouse, warehouse_id)
    if w is None:
        raise NotFound(N_("There is no such warehouse"))
    return w


def list_warehouses(session: Session) -> list[Warehouse]:
    return list(session.scalars(select(Warehouse).order_by(Warehouse.name).limit(MAX_LIST)))


def stock_of(session: Session, *, warehouse_id: int) -> list[StockLine]:
    return list(session.scalars(select(StockLine).where(StockLine.warehouse_id == warehouse_id).order_by(StockLine.id)))


def expiry_state(line: StockLine, today: date | None = None) -> str:
    """ "expired", "expiring" (within 30 days) or "" for a stock line."""
    if line.expires_on is None:
        return ""
    today = today or county_today()
    if line.expires_on < today:
        return "expired"
    return "expiring" if line.expires_on <= today + timedelta(days=EXPIRING_DAYS) else ""


def add_stock(session: Session, *, actor: Actor, warehouse_id: int, data: StockIn) -> StockLine:
    w = get_warehouse(session, warehouse_id=warehouse_id)
    if data.material not in materials():
        raise ValidationFailed.on_field("material", N_("There is no such material"))
    line = StockLine(warehouse_id=w.id, **data.model_dump())
    session.add(line)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.resources.stock",
        target_type="safety_res_warehouse",
        target_id=w.id,
        detail={"material": data.material, "quantity": data.quantity},
    )
    return line


def remove_stock(session: Session, *, actor: Actor, line_id: int) -> None:
    line = session.get(StockLine, line_id)
    if line is None:
        raise NotFound(N_("There is no such stock line"))
    session.delete(line)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.resources.stock_remove",
        target_type="safety_res_warehouse",
        target_id=line.warehouse_id,
        detail={"material": line.material},
    )


def stock_summary(session: Session) -> dict[int, dict[str, Any]]:
    """Per warehouse: lines, expired and expiring counts."""
    today = county_today()
    out: dict[int, dict[str, Any]] = {}
    for line in session.scalars(select(StockLine).limit(100_000)):
        s = out.setdefault(line.warehouse_id, {"lines": 0, "expired": 0, "expiring": 0})
        s["lines"] += 1
        state = expiry_state(line, today)
        if state:
            s[state] += 1
    return out


# --- teams, shelters, experts -------------------------------------------------------------------------


def save_team(session: Session, *, actor: Actor, data: TeamIn, team_id: int | None = None) -> Team:
    _unique(session, Team, data.name, team_id)
    t = get_team(session, team_id=team_id) if team_id is not None else Team()
    for k, v in data.model_dump(exclude={"phone", "members"}).items():
        setattr(t, k, v)
    if data.phone or team_id is None:
        t.phone_enc = enc(data.phone)
    if team_id is None:
        session.add(t)
    session.flush()
    if data.members or team_id is None:
        session.execute(delete(TeamMember).where(TeamMember.team_id == t.id))
        session.add_all(
            TeamMember(team_id=t.id, name=m.name, role=m.role, phone_enc=enc(m.phone)) for m in data.members
        )
        if data.members and t.members_count < len(data.members):
            t.members_count = len(data.members)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.resources.save",
        target_type="safety_res_team",
        target_id=t.id,
        detail={"name": t.name, "members": len(data.members)},
    )
    return t


def get_team(session: Session, *, team_id: int) -> Team:
    t = session.get(Team, team_id)
    if t is None:
        raise NotFound(N_("There is no such team"))
    return t


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name).limit(MAX_LIST)))


def members_of(session: Session, *, team_id: int) -> list[TeamMember]:
    return list(session.scalars(select(TeamMember).where(TeamMember.team_id == team_id).order_by(TeamMember.id)))


def save_shelter(session: Session, *, actor: Actor, data: ShelterIn, shelter_id: int | None = None) -> Shelter:
    _unique(session, Shelter, data.name, shelter_id)
    s = get_shelter(session, shelter_id=shelter_id) if shelter_id is not None else Shelter()
    for k, v in data.model_dump().items():
        setattr(s, k, v)
    if shelter_id is None:
        session.add(s)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.resources.save",
        target_type="safety_res_shelter",
        target_id=s.id,
        detail={"name": s.name, "capacity": s.capacity},
    )
    return s


def get_shelter(session: Session, *, shelter_id: int) -> Shelter:
    s = session.get(Shelter, shelter_id)
    if s is None:
        raise NotFound(N_("There is no such shelter"))
    return s


def list_shelters(session: Session) -> list[Shelter]:
    return list(session.scalars(select(Shelter).order_by(Shelter.township, Shelter.name).limit(MAX_LIST)))


def save_expert(session: Session, *, actor: Actor, data: ExpertIn, expert_id: int | None = None) -> Expert:
    e = get_expert(session, expert_id=expert_id) if expert_id is not None else Expert()
    for k, v in data.model_dump(exclude={"phone"}).items():
        setattr(e, k, v)
    if data.phone or expert_id is None:
        e.phone_enc = enc(data.phone)
    if expert_id is None:
        session.add(e)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.resources.save",
        target_type="safety_res_expert",
        target_id=e.id,
        detail={"name": e.name},
    )
    return e


def get_expert(session: Session, *, expert_id: int) -> Expert:
    e = session.get(Expert, expert_id)
    if e is None:
        raise NotFound(N_("There is no such expert"))
    return e


def list_experts(session: Session) -> list[Expert]:
    return list(session.scalars(select(Expert).order_by(Expert.field, Expert.name).limit(MAX_LIST)))


PHONE_TARGETS: dict[str, Any] = {
    "warehouse": Warehouse,
    "team": Team,
    "member": TeamMember,
    "expert": Expert,
}


def reveal_phone(session: Session, *, actor: Actor, kind: str, record_id: int) -> str:
    """The unmasked phone of a warehouse, team, team member or expert, for a keeper; every view audited."""
    if not actor.can(MANAGE):
        raise PermissionDenied(N_("Only keepers of the resources may see unmasked phone numbers"))
    model = PHONE_TARGETS.get(kind)
    row = session.get(model, record_id) if model is not None else None
    if model is None or row is None:
        raise NotFound(N_("There is no such record"))
    audit.record(
        session,
        actor=actor,
        action="safety.resources.phone",
        target_type=model.__tablename__,
        target_id=record_id,
        detail={"name": row.name},
    )
    return cipher().decrypt(row.phone_enc) if row.phone_enc else ""


def counts(session: Session) -> dict[str, int]:
    return {
        "warehouse": session.scalar(select(func.count()).select_from(Warehouse)) or 0,
        "team": session.scalar(select(func.count()).select_from(Team)) or 0,
        "shelter": session.scalar(select(func.count()).select_from(Shelter)) or 0,
        "expert": session.scalar(select(func.count()).select_from(Expert)) or 0,
    }


# --- import -------------------------------------------------------------------------------------------

# per kind: header → field of the input model (Chinese headers as the county's sheets have them)
HEADERS: dict[str, dict[str, str]] = {
    "warehouse": {
        "名称": "name",
        "经度": "lon",
        "纬度": "lat",
        "地址": "address",
        "管理单位": "keeper",
        "联系人": "contact",
        "电话": "phone",
    },
    "team": {
        "名称": "name",
        "类型": "kind",
        "经度": "lon",
        "纬度": "lat",
        "队长": "leader",
        "电话": "phone",
        "人数": "members_count",
        "装备": "equipment",
    },
    "shelter": {
        "名称": "name",
        "经度": "lon",
        "纬度": "lat",
        "地址": "address",
        "容纳人数": "capacity",
        "面积": "area_m2",
        "设施": "facilities",
        "乡镇": "township",
    },
    "expert": {"姓名": "name", "专业领域": "field", "单位": "unit", "电话": "phone", "经度": "lon", "纬度": "lat"},
}
INPUTS: dict[str, type[BaseModel]] = {
    "warehouse": WarehouseIn,
    "team": TeamIn,
    "shelter": ShelterIn,
    "expert": ExpertIn,
}
REQUIRED = {"warehouse": "名称", "team": "名称", "shelter": "名称", "expert": "姓名"}


def _header(text: str) -> str:
    return "".join(text.split()).strip("*＊").replace("（", "(").split("(")[0]


def import_file(session: Session, *, actor: Actor, kind: str, data: bytes, filename: str) -> int:
    """Rows of KIND from a CSV or XLSX file, all or nothing; a record of the same name is updated."""
    if kind not in HEADERS:
        raise NotFound(N_("There is no such kind of resource"))
    names = HEADERS[kind]
    rows = tabular.read_table_rows(
        data,
        filename,
        header=_header,
        is_header=lambda found: REQUIRED[kind] in found,
        missing_header=N_("The file has no header row with the expected columns"),
        max_file_bytes=MAX_IMPORT_BYTES,
        max_rows=MAX_IMPORT_ROWS,
    )
    depts: dict[str, int] = {name: i for name, i in session.execute(select(Department.name, Department.id))}
    problems: list[tabular.Problem] = []
    parsed: list[BaseModel] = []
    seen: set[str] = set()
    for n, cells in rows:
        values: dict[str, Any] = {names[h]: v for h, v in cells.items() if h in names and v != ""}
        if kind == "warehouse" and "keeper" in values:
            keeper = values.pop("keeper")
            if keeper not in depts:
                problems.append(tabular.Problem("", n, "管理单位", N_("There is no such department")))
                continue
            values["keeper_department_id"] = depts[keeper]
        if kind == "team" and "kind" in values:
            values["kind"] = TEAM_KIND_WORDS.get(values["kind"].replace("队伍", "").replace("救援", ""), values["kind"])
        model = INPUTS[kind]
        try:
            item = model.model_validate(values)
        except PydanticValidationError as exc:
            by_field = {v: k for k, v in names.items()}
            for e in exc.errors()[:5]:
                fld = str(e["loc"][0]) if e["loc"] else ""
                problems.append(tabular.Problem("", n, by_field.get(fld, fld), N_("Not valid")))
            continue
        key = f"{values.get('name')}|{values.get('unit', '')}"
        if key in seen:
            problems.append(tabular.Problem("", n, REQUIRED[kind], N_("This name appears twice in the file")))
            continue
        seen.add(key)
        parsed.append(item)
    if problems:
        raise tabular.refusal(problems)
    if not parsed:
        raise ValidationFailed(N_("The file is empty"))
    savers: dict[str, Callable[..., Any]] = {
        "warehouse": lambda it: save_warehouse(
            session, actor=actor, data=it, warehouse_id=_id_by_name(session, Warehouse, it.name)
        ),
        "team": lambda it: save_team(session, actor=actor, data=it, team_id=_id_by_name(session, Team, it.name)),
        "shelter": lambda it: save_shelter(
            session, actor=actor, data=it, shelter_id=_id_by_name(session, Shelter, it.name)
        ),
        "expert": lambda it: save_expert(
            session,
            actor=actor,
            data=it,
            expert_id=session.scalar(select(Expert.id).where(Expert.name == it.name, Expert.unit == it.unit)),
        ),
    }
    for item in parsed:
        savers[kind](item)
    audit.record(
        session,
        actor=actor,
        action="safety.resources.import",
        target_type=None,
        target_id=None,
        detail={"kind": kind, "rows": len(parsed), "filename": filename[:200]},
    )
    return len(parsed)


def _id_by_name(session: Session, model: Any, name: str) -> int | None:
    found: int | None = session.scalar(select(model.id).where(model.name == name))
    return found
