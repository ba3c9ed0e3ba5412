"""The category directory: GB/T 47678.5 classes, 12345 taxonomy, local extensions, and their time limits."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import KIND_PREFIX, Category, CategoryKind, Priority, Step, TimeLimit
from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.core.workcal import TimeUnit
from countyos.org.service import audit

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GB_DIRECTORY = DATA_DIR / "gb47678_5_directory.csv"
KIND_OF_GB = {"管理部件": CategoryKind.COMPONENT, "管理事项": CategoryKind.MATTER}
AREA_CLASSES = ("A", "B", "C")

# Defaults for every category (category_id NULL), per area class; a county edits these rows.
DEFAULT_LIMITS: dict[Step, dict[str, tuple[float, TimeUnit]]] = {
    Step.ACCEPT: {"*": (1, TimeUnit.WORKING_HOURS)},
    Step.VERIFY: {"A": (2, TimeUnit.WORKING_HOURS), "B": (4, TimeUnit.WORKING_HOURS), "C": (1, TimeUnit.WORKING_DAYS)},
    Step.REGISTER: {"*": (1, TimeUnit.WORKING_HOURS)},
    Step.DISPATCH: {"*": (1, TimeUnit.WORKING_HOURS)},
    Step.HANDLE: {"A": (1, TimeUnit.WORKING_DAYS), "B": (3, TimeUnit.WORKING_DAYS), "C": (5, TimeUnit.WORKING_DAYS)},
    Step.CHECK: {"A": (2, TimeUnit.WORKING_HOURS), "B": (4, TimeUnit.WORKING_HOURS), "C": (1, TimeUnit.WORKING_DAYS)},
    Step.CLOSE: {"*": (2, TimeUnit.WORKING_HOURS)},
}


def service_code(kind: CategoryKind, code: str) -> str:
    return KIND_PREFIX[kind] + code


def get(session: Session, *, category_id: int) -> Category:
    cat = session.get(Category, category_id)
    if cat is None:
        raise NotFound("Category %(id)s does not exist", id=category_id)
    return cat


def get_by_service_code(session: Session, *, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.service_code == code))


@dataclass(frozen=True)
class CategoryInfo:
    """What intake needs of a category, kept in memory (``info``): read it, never change it."""

    id: int
    service_code: str
    name: str
    is_group: bool
    is_active: bool
    public: bool
    default_priority: Priority
    attributes: list[dict[str, Any]]
    chain: tuple[int, ...]  # its id and its parents' ids, nearest first (as ``ancestors``)


# Categories, their time limits and the routing table change rarely and are read by every report.
_INFO: HotCache[CategoryInfo | None] = HotCache("categories", tables=(Category.__tablename__,))


class _Limit(NamedTuple):
    category_id: int | None
    area_class: str
    amount: float
    unit: str


_LIMITS: HotCache[dict[str, list[_Limit]]] = HotCache("time limits", tables=(TimeLimit.__tablename__,))


def _info_of(cat: Category | None) -> CategoryInfo | None:
    if cat is None:
        return None
    return CategoryInfo(
        id=cat.id,
        service_code=cat.service_code,
        name=cat.name,
        is_group=cat.is_group,
        is_active=cat.is_active,
        public=cat.public,
        default_priority=Priority(cat.default_priority),
        attributes=list(cat.attributes or []),
        chain=tuple(c.id for c in ancestors(cat)),
    )


def info(session: Session, *, category_id: int) -> CategoryInfo:
    found = _INFO.get(session, ("id", category_id), lambda: _info_of(session.get(Category, category_id)))
    if found is None:
        raise NotFound("Category %(id)s does not exist", id=category_id)
    return found


def info_by_service_code(session: Session, *, code: str) -> CategoryInfo | None:
    return _INFO.get(session, ("code", code), lambda: _info_of(get_by_service_code(session, code=code)))


def chain_of(session: Session, category: Category | CategoryInfo) -> tuple[int, ...]:
    """The category's id and its parents' ids, nearest first."""
    if isinstance(category, CategoryInfo):
        return category.chain
    return info(session, category_id=category.id).chain


def get_by_code(session: Session, *, kind: CategoryKind, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.kind == kind, Category.code == code))


def list_categories(
    session: Session, *, kind: CategoryKind | None = None, reportable: bool | None = None, public: bool | None = None
) -> list[Category]:
    stmt = select(Category).where(Category.is_active.is_(True)).order_by(Category.kind, Category.code)
    if kind:
        stmt = stmt.where(Category.kind == kind)
    if reportable is not None:
        stmt = stmt.where(Category.is_group.is_(not reportable))
    if public is not None:
        stmt = stmt.where(Category.public.is_(public))
    return list(session.scalars(stmt))


def ancestors(cat: Category) -> list[Category]:
    """The category and its parents, nearest first."""
    out: list[Category] = []
    node: Category | None = cat
    while node is not None and len(out) < 10:
        out.append(node)
        node = node.parent
    return out


def create(
    session: Session,
    *,
    actor: Actor,
    kind: CategoryKind,
    code: str,
    name: str,
    parent_id: int | None = None,
    is_group: bool = False,
    description: str | None = None,
    keywords: str | None = None,
    register_condition: str | None = None,
    close_condition: str | None = None,
    default_priority: Priority = Priority.NORMAL,
    attributes: list[dict[str, Any]] | None = None,
    public: bool = True,
    audit_it: bool = True,
) -> Category:
    code, name = code.strip(), name.strip()
    errors = []
    if not code or len(code) > 20 or not code.replace("-", "").isalnum():
        errors.append({"field": "code", "message": "1–20 letters or digits"})
    if not name:
        errors.append({"field": "name", "message": "required"})
    if errors:
        raise ValidationFailed("Please correct the category fields", errors=errors)
    if get_by_code(session, kind=kind, code=code) is not None:
        raise Conflict("Category %(code)s already exists", code=code)
    level = 1
    if parent_id is not None:
        level = get(session, category_id=parent_id).level + 1
    cat = Category(
        kind=kind,
        code=code,
        service_code=service_code(kind, code),
        name=name,
        parent_id=parent_id,
        level=level,
        is_group=is_group,
        description=description,
        keywords=keywords,
        register_condition=register_condition,
        close_condition=close_condition,
        default_priority=default_priority,
        attributes=validate_attributes(attributes or []),
        public=public and not is_group,
    )
    session.add(cat)
    session.flush()
    if audit_it:
        audit.record(
            session,
            actor=actor,
            action="case.category.create",
            target_type="case_category",
            target_id=cat.id,
            detail={"kind": str(kind), "code": code, "name": name},
        )
    return cat


_CATEGORY_FIELDS = {
    "name",
    "description",
    "keywords",
    "register_condition",
    "close_condition",
    "default_priority",
    "attributes",
    "public",
    "is_active",
    "feedback_photo_required",
    "check_photo_required",
    "sensitive",
}


def update(session: Session, *, actor: Actor, category_id: int, changes: dict[str, Any]) -> Category:
    cat = get(session, category_id=category_id)
    unknown = set(changes) - _CATEGORY_FIELDS
    if unknown:
        raise ValidationFailed("Unknown fields: %(fields)s", fields=", ".join(sorted(unknown)))
    if "attributes" in changes:
        changes["attributes"] = validate_attributes(changes["attributes"] or [])
    if "default_priority" in changes:
        changes["default_priority"] = Priority(changes["default_priority"])
    diff = {}
    for k, v in changes.items():
        if getattr(cat, k) != v:
            diff[k] = {"from": getattr(cat, k), "to": v}
            setattr(cat, k, v)
    session.flush()
    if diff:
        audit.record(
            session,
            actor=actor,
            action="case.category.update",
            target_type="case_category",
            target_id=cat.id,
            detail=diff,
        )
    return cat


DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


def validate_attributes(attrs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open311 service-definition attributes: code, datatype, required, description, order, values."""
    out, codes = [], set()
    for i, a in enumerate(attrs, start=1):
        code = str(a.get("code", "")).strip()
        dt = a.get("datatype", "string")
        if not code or code in codes:
            raise ValidationFailed("Attribute %(n)s needs a unique code", n=i)
        if dt not in DATATYPES:
            raise ValidationFailed("Attribute %(code)s has an unknown datatype %(dt)s", code=code, dt=dt)
        values = [{"key": str(v["key"]), "name": str(v.get("name", v["key"]))} for v in a.get("values", [])]
        if dt.endswith("valuelist") and not values:
            raise ValidationFailed("Attribute %(code)s lists no values", code=code)
        codes.add(code)
        out.append(
            {
                "code": code,
                "variable": bool(a.get("variable", True)),
                "datatype": dt,
                "required": bool(a.get("required", False)),
                "datatype_description": a.get("datatype_description"),
                "order": int(a.get("order", i)),
                "description": str(a.get("description", code)),
                "values": values,
            }
        )
    return out


def import_gb_directory(session: Session, *, actor: Actor, path: Path = GB_DIRECTORY) -> int:
    """Load the GB/T 47678.5 component and matter classes (两级: 大类 group + 小类); returns rows added."""
    added = 0
    with path.open(encoding="utf-8") as fp:
        rows = list(csv.DictReader(fp))
    groups: dict[tuple[CategoryKind, str], Category] = {}
    for row in rows:
        kind = KIND_OF_GB[row["kind"]]
        major = row["major_code"]
        group = groups.get((kind, major)) or get_by_code(session, kind=kind, code=major)
        if group is None:
            group = create(
                session, actor=actor, kind=kind, code=major, name=row["major_name"], is_group=True, audit_it=False
            )
            added += 1
        groups[(kind, major)] = group
        if get_by_code(session, kind=kind, code=row["code5"]) is None:
            name = row["name"] if kind is CategoryKind.MATTER else f"{row['name']}"
            create(
                session,
                actor=actor,
                kind=kind,
                code=row["code5"],
                name=name,
                parent_id=group.id,
                keywords=row["major_name"],
                audit_it=False,
            )
            added += 1
    audit.record(session, actor=actor, action="case.category.import", detail={"source": path.name, "added": added})
    return added


HOTLINE_HEADERS = ("code", "name", "parent_code")


def import_hotline_taxonomy(session: Session, *, actor: Actor, data: bytes) -> dict[str, Any]:
    """Import a 3-level 12345 taxonomy from CSV (``code,name[,parent_code]``; codes 2+2+2 digits).

    A row's parent is its ``parent_code`` or, when absent, the code without its last two digits.
    Returns ``{"added": n, "errors": [{"row": i, "message": …}]}``; nothing is written when any row fails.
    """
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"code", "name"} <= set(reader.fieldnames):
        raise ValidationFailed("The file needs the columns code and name (and optionally parent_code)")
    rows = list(reader)
    errors: list[dict[str, Any]] = []
    by_code: dict[str, dict[str, str]] = {}
    for i, row in enumerate(rows, start=2):
        code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        if not code.isdigit() or len(code) not in (2, 4, 6):
            errors.append({"row": i, "message": f"code {code!r} is not 2, 4 or 6 digits"})
            continue
        if not name:
            errors.append({"row": i, "message": "name is empty"})
            continue
        parent = (row.get("parent_code") or "").strip() or code[:-2]
        if len(code) > 2 and parent != code[:-2]:
            errors.append({"row": i, "message": f"parent {parent} does not prefix {code}"})
            continue
        if code in by_code:
            errors.append({"row": i, "message": f"code {code} appears twice"})
            continue
        by_code[code] = {"name": name, "parent": parent if len(code) > 2 else "", "row": str(i)}
    for r in by_code.values():
        if (
            r["parent"]
            and r["parent"] not in by_code
            and get_by_code(session, kind=CategoryKind.HOTLINE, code=r["parent"]) is None
        ):
            errors.append({"row": int(r["row"]), "message": f"parent {r['parent']} is missing"})
    if errors:
        raise ValidationFailed("The taxonomy file has errors; nothing was imported", errors=errors)
    added = 0
    for code in sorted(by_code, key=lambda c: (len(c), c)):
        r = by_code[code]
        existing = get_by_code(session, kind=CategoryKind.HOTLINE, code=code)
        if existing is not None:
            existing.name = r["name"]
            continue
        parent = get_by_code(session, kind=CategoryKind.HOTLINE, code=r["parent"]) if r["parent"] else None
        has_children = any(c != code and c.startswith(code) for c in by_code)
        create(
            session,
            actor=actor,
            kind=CategoryKind.HOTLINE,
            code=code,
            name=r["name"],
            parent_id=parent.id if parent else None,
            is_group=has_children,
            audit_it=False,
        )
        added += 1
    session.flush()
    audit.record(session, actor=actor, action="case.category.import", detail={"source": "12345", "added": added})
    return {"added": added, "errors": []}


# -- time limits ---------------------------------------------------------------------------------


def ensure_default_limits(session: Session) -> None:
    if session.scalar(select(TimeLimit.id).where(TimeLimit.category_id.is_(None)).limit(1)) is not None:
        return
    for step, by_class in DEFAULT_LIMITS.items():
        for area, (amount, unit) in by_class.items():
            session.add(TimeLimit(category_id=None, area_class=area, step=step, amount=amount, unit=unit))
    session.flush()


def _limit_rows(session: Session) -> dict[str, list[_Limit]]:
    """Every time-limit row, by step."""
    out: dict[str, list[_Limit]] = {}
    for t in session.scalars(select(TimeLimit)):
        out.setdefault(str(t.step), []).append(_Limit(t.category_id, t.area_class, t.amount, t.unit))
    return out


def limit_for(
    session: Session, *, category: Category | CategoryInfo, area_class: str, step: Step
) -> tuple[float, TimeUnit]:
    """The most specific limit: the category (or its nearest parent) before the defaults; class before '*'."""
    ids = chain_of(session, category)
    rows = [
        r
        for r in _LIMITS.get(session, None, lambda: _limit_rows(session)).get(str(step), [])
        if r.area_class in (area_class, "*") and (r.category_id is None or r.category_id in ids)
    ]

    def rank(t: _Limit) -> tuple[int, int]:
        depth = ids.index(t.category_id) if t.category_id in ids else len(ids)
        return depth, 0 if t.area_class == area_class else 1

    if not rows:
        amount, unit = (
            DEFAULT_LIMITS[step].get(area_class) or DEFAULT_LIMITS[step].get("*") or (1, TimeUnit.WORKING_DAYS)
        )
        return amount, unit
    best = min(rows, key=rank)
    return best.amount, TimeUnit(best.unit)


def set_limit(
    session: Session,
    *,
    actor: Actor,
    category_id: int | None,
    area_class: str,
    step: Step,
    amount: float,
    unit: TimeUnit,
) -> TimeLimit:
    if area_class not in (*AREA_CLASSES, "*"):
        raise ValidationFailed("Area class must be A, B, C or *")
    if not 0 < amount <= 1000:
        raise ValidationFailed("A time limit must be more than 0 and at most 1000")
    if category_id is not None:
        get(session, category_id=category_id)
    row = session.scalar(
        select(TimeLimit).where(
            TimeLimit.category_id.is_(None) if category_id is None else TimeLimit.category_id == category_id,
            TimeLimit.area_class == area_class,
            TimeLimit.step == step,
        )
    )
    before = None if row is None else [row.amount, row.unit]
    if row is None:
        row = TimeLimit(category_id=category_id, area_class=area_class, step=step, amount=amount, unit=unit)
        session.add(row)
    else:
        row.amount, row.unit = amount, unit
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case.limit.set",
        target_type="case_category",
        target_id=category_id,
        detail={"area_class": area_class, "step": str(step), "before": before, "after": [amount, str(unit)]},
    )
    return row


def limits_of(session: Session, *, category_id: int | None) -> list[TimeLimit]:
    cond = TimeLimit.category_id.is_(None) if category_id is None else TimeLimit.category_id == category_id
    return list(session.scalars(select(TimeLimit).where(cond).order_by(TimeLimit.step, TimeLimit.area_class)))
