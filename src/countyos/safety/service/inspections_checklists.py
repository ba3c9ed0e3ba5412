"""Inspection checklists as data (``data/inspections_checklists.json``), loaded into the database so that an
inspection keeps the exact version it used.

A checklist has a code and a version; its items have a code, the text, a category, the hazard level a
failed item implies by default (一般隐患 general / 重大隐患 major) and the rectification days (else the
file's ``default_days`` for the level). Loading a file adds each checklist whose (code, version) is new; a
version lower than the newest of its code, or an existing version with other items, is refused; the same
version with the same items is skipped. The newest version of a code is ``current``: the one a new
inspection of a place of that kind opens.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_, get_locale
from countyos.org.service import audit
from countyos.safety.models.inspections import Checklist, HazardLevel
from countyos.safety.schemas.inspections import ChecklistFileIn, ChecklistIn
from countyos.safety.service import inspections as places

DATA = Path(__file__).resolve().parent.parent / "data"
MAX_FILE_BYTES = 1_000_000


@cache
def packaged() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "inspections_checklists.json").read_text(encoding="utf-8"))
    return data


def categories() -> dict[str, dict[str, str]]:
    return {c["code"]: c for c in packaged()["categories"]}


def category_label(code: str) -> str:
    spec = categories().get(code)
    if spec is None:
        return code
    return spec["zh"] if get_locale().startswith("zh") else spec["en"]


def default_days(level: HazardLevel) -> int:
    return int(packaged()["default_days"][level.value])


def days_for(item: dict[str, Any], level: HazardLevel) -> int:
    """The rectification days of a failed item at LEVEL: the item's own days when the level is the item's
    default, else the file's default days for the level."""
    if item.get("days") and item.get("level", HazardLevel.GENERAL.value) == level.value:
        return int(item["days"])
    return default_days(level)


def _items(c: ChecklistIn) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in c.items]


def _check_categories(c: ChecklistIn) -> None:
    known = categories()
    for i, item in enumerate(c.items):
        if item.category not in known:
            raise ValidationFailed(
                N_("Item %(item)s of checklist %(code)s has an unknown category %(category)s"),
                item=item.code, code=c.code, category=item.category,
                errors=[{"field": f"checklists.{c.code}.items.{i}.category", "message": N_("Unknown category")}],
            )  # fmt: skip


def load(session: Session, *, actor: Actor, file: ChecklistFileIn, audited: bool = True) -> list[Checklist]:
    """Add the file's new checklist versions; the ones added."""
    added: list[Checklist] = []
    for c in file.checklists:
        _check_categories(c)
        rows = list(session.scalars(select(Checklist).where(Checklist.code == c.code)))
        same = next((r for r in rows if r.version == c.version), None)
        if same is not None:
            if same.items != _items(c) or same.name != c.name:
                raise Conflict(
                    N_("Checklist %(code)s version %(version)s exists with other items; give it a new version"),
                    code=c.code, version=c.version,
                )  # fmt: skip
            continue
        newest = max((r.version for r in rows), default=0)
        if c.version < newest:
            raise Conflict(
                N_("Checklist %(code)s already has version %(newest)s; a new version must be higher"),
                code=c.code, newest=newest,
            )  # fmt: skip
        for r in rows:
            r.current = False
        row = Checklist(
            code=c.code, version=c.version, name=c.name, items=_items(c), source=file.source, current=True,
            loaded_by=actor.name,
        )  # fmt: skip
        session.add(row)
        session.flush()
        added.append(row)
        if audited:
            audit.record(
                session, actor=actor, action="safety.inspections.checklist_load", target_type="safety_checklist",
                target_id=row.id, detail={"code": c.code, "version": c.version, "items": len(c.items)},
            )  # fmt: skip
    return added


def load_packaged(session: Session, *, actor: Actor) -> list[Checklist]:
    """The packaged checklists (made at start-up of the domain's demo, or by the first inspection)."""
    return load(session, actor=actor, file=ChecklistFileIn.model_validate(packaged()))


def parse_file(data: bytes) -> ChecklistFileIn:
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed.on_field("file", N_("The file is too large"))
    try:
        return ChecklistFileIn.model_validate_json(data)
    except PydanticValidationError as exc:
        where = ".".join(str(x) for x in exc.errors()[0]["loc"]) if exc.errors() else ""
        raise ValidationFailed(
            N_("The file is not a checklists file (JSON): %(where)s"), where=where,
            errors=[{"field": "file", "message": N_("Not a checklists file")}],
        ) from exc  # fmt: skip


def get(session: Session, *, checklist_id: int) -> Checklist:
    c = session.get(Checklist, checklist_id)
    if c is None:
        raise NotFound(N_("No such checklist"))
    return c


def listing(session: Session) -> list[Checklist]:
    return list(session.scalars(select(Checklist).order_by(Checklist.code, Checklist.version.desc())))


def current_for_kind(session: Session, *, kind: str, actor: Actor | None = None) -> Checklist:
    """The current checklist of a place kind; the packaged ones are loaded first when none is there yet."""
    spec = places.kinds().get(kind)
    if spec is None:
        raise NotFound(N_("No checklist for this kind of place"))
    stmt = select(Checklist).where(Checklist.code == spec["checklist"], Checklist.current.is_(True))
    found = session.scalars(stmt).first()
    if found is None and actor is not None and session.scalar(select(Checklist.id).limit(1)) is None:
        load_packaged(session, actor=actor)
        found = session.scalars(stmt).first()
    if found is None:
        raise NotFound(N_("No checklist for this kind of place"))
    return found
