"""The county's list of 投入品 (inputs): pesticides with their 安全间隔期, veterinary drugs with their 休药期,
fertilisers and feeds. The starter list is data (``data/inputs.json``); the 农业农村局 adds inputs, changes
an interval, retires one. A record keeps a snapshot of the input's name, registration number and interval."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import SYSTEM, Actor
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.village.models.farming import FarmInput, InputKind
from countyos.village.schemas.farming import InputChangeIn, InputIn
from countyos.village.service import products

MAX_INPUTS = 1000
MAX_INTERVAL = 365  # days

INPUT_KIND_LABELS: dict[InputKind, str] = {
    InputKind.PESTICIDE: N_("Pesticides"),
    InputKind.VET_DRUG: N_("Veterinary drugs"),
    InputKind.FERTILISER: N_("Fertilisers"),
    InputKind.FEED: N_("Feeds"),
}


@lru_cache(maxsize=1)
def starter() -> dict[str, Any]:
    """The starter list with its source (``data/inputs.json``)."""
    raw: dict[str, Any] = json.loads(
        resources.files("countyos.village").joinpath("data/inputs.json").read_text("utf-8")
    )
    return raw


def interval_for(inp: FarmInput, product_code: str) -> int | None:
    """The input's interval for this product (its code, then its class, then ``*``); None when the input
    is not registered for it. Fertilisers and feeds have none (0)."""
    if inp.kind not in (InputKind.PESTICIDE, InputKind.VET_DRUG):
        return 0
    table = inp.intervals or {}
    p = products.catalog().products.get(product_code)
    for key in (product_code, p.class_code if p else None, "*"):
        if key is not None and key in table:
            return int(table[key])
    return None


def _check_intervals(intervals: dict[str, int]) -> dict[str, int]:
    cat = products.catalog()
    for key, days in intervals.items():
        if key != "*" and key not in cat.products and key not in cat.classes:
            raise ValidationFailed(
                N_("Unknown product %(code)s"), code=key,
                errors=[{"field": "intervals", "message": "Unknown product"}],
            )  # fmt: skip
        if not 0 <= int(days) <= MAX_INTERVAL:
            raise ValidationFailed(
                N_("An interval is between 0 and %(max)s days"), max=MAX_INTERVAL,
                errors=[{"field": "intervals", "message": "Not valid"}],
            )  # fmt: skip
    return {k: int(v) for k, v in intervals.items()}


def ensure_starter(session: Session, *, actor: Actor = SYSTEM) -> int:
    """Add the starter list's inputs whose code is not on the county's list yet (idempotent); how many."""
    have = set(session.scalars(select(FarmInput.code)))
    added = 0
    for item in starter()["inputs"]:
        if item["code"] in have:
            continue
        session.add(
            FarmInput(
                code=item["code"], kind=InputKind(item["kind"]), name=item["name"],
                registration_no=item.get("registration_no"), active_ingredient=item.get("active_ingredient"),
                formulation=item.get("formulation"), organic_allowed=bool(item.get("organic_allowed", False)),
                intervals=_check_intervals(item.get("intervals", {})), dose_unit=item.get("dose_unit"),
                note=item.get("note"), created_by=actor.name,
            )
        )  # fmt: skip
        added += 1
    if added:
        session.flush()
        audit.record(session, actor=actor, action="village.farming.inputs_loaded", target_type="village_input",
                     detail={"added": added})  # fmt: skip
    return added


def list_inputs(session: Session, *, kind: InputKind | None = None, active_only: bool = False) -> list[FarmInput]:
    stmt = select(FarmInput).order_by(FarmInput.kind, FarmInput.name).limit(MAX_INPUTS)
    if kind is not None:
        stmt = stmt.where(FarmInput.kind == kind)
    if active_only:
        stmt = stmt.where(FarmInput.active.is_(True))
    return list(session.scalars(stmt))


def get_input(session: Session, *, input_id: int) -> FarmInput:
    inp = session.get(FarmInput, input_id)
    if inp is None:
        raise NotFound(N_("No such input product"))
    return inp


def create_input(session: Session, *, actor: Actor, body: InputIn) -> FarmInput:
    if session.scalar(select(FarmInput.id).where(FarmInput.code == body.code)) is not None:
        raise Conflict(N_("An input with the code %(code)s exists"), code=body.code)
    inp = FarmInput(**body.model_dump(exclude={"intervals"}), intervals=_check_intervals(body.intervals),
                    created_by=actor.name)  # fmt: skip
    session.add(inp)
    session.flush()
    audit.record(session, actor=actor, action="village.farming.input_added", target_type="village_input",
                 target_id=inp.id, detail={"code": inp.code, "intervals": inp.intervals})  # fmt: skip
    return inp


def change_input(session: Session, *, actor: Actor, input_id: int, body: InputChangeIn) -> FarmInput:
    inp = get_input(session, input_id=input_id)
    if body.version != inp.version:
        raise Conflict(N_("Someone changed this input meanwhile; reload and try again"))
    before = {"intervals": dict(inp.intervals), "active": inp.active, "registration_no": inp.registration_no}
    changes = body.model_dump(exclude={"version"}, exclude_unset=True)
    if "intervals" in changes and changes["intervals"] is not None:
        inp.intervals = _check_intervals(changes.pop("intervals"))
    for key, value in changes.items():
        if value is not None or key in ("registration_no", "note"):
            setattr(inp, key, value)
    inp.version += 1
    session.flush()
    action = "village.farming.input_retired" if before["active"] and not inp.active else "village.farming.input_changed"
    audit.record(session, actor=actor, action=action, target_type="village_input", target_id=inp.id,
                 detail={"before": before, "after": {"intervals": inp.intervals, "active": inp.active,
                                                     "registration_no": inp.registration_no}})  # fmt: skip
    return inp
