"""The matter catalogue (事项目录): create, edit (a new version each time), publish, withdraw, read, search.

A matter's status moves by one table (``TRANSITIONS``). An edit writes a new ``MatterVersion`` and
points the matter at it; the older versions stay for the applications made under them. An edit that
changes nothing writes nothing. Every write is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.service import audit, departments, uscc
from countyos.services.models import Matter, MatterMaterial, MatterStatus, MatterStep, MatterVersion
from countyos.services.schemas import MatterIn
from countyos.services.service import code_rules

# Status changes: (status, action) → new status.
TRANSITIONS: dict[tuple[MatterStatus, str], MatterStatus] = {
    (MatterStatus.DRAFT, "publish"): MatterStatus.PUBLISHED,
    (MatterStatus.WITHDRAWN, "publish"): MatterStatus.PUBLISHED,
    (MatterStatus.PUBLISHED, "withdraw"): MatterStatus.WITHDRAWN,
}
VERSION_FIELDS = tuple(f for f in MatterIn.model_fields if f not in ("code", "basic_code", "steps", "materials"))
STEP_FIELDS = ("name", "department_id", "time_share")
MATERIAL_FIELDS = ("name", "issuer", "required", "originals", "copies", "note", "sample_url")


def get(session: Session, *, matter_id: int) -> Matter:
    matter = session.get(Matter, matter_id)
    if matter is None or matter.current is None:
        raise NotFound(N_("No such matter"))
    return matter


def get_by_code(session: Session, *, code: str) -> Matter | None:
    return session.scalar(select(Matter).where(Matter.code == code))


def get_published(session: Session, *, matter_id: int) -> Matter:
    """A matter the public may read (published); any other is 'not found'."""
    matter = session.get(Matter, matter_id)
    if matter is None or matter.status != MatterStatus.PUBLISHED or matter.current is None:
        raise NotFound(N_("No such matter"))
    return matter


def current(matter: Matter) -> MatterVersion:
    assert matter.current is not None
    return matter.current


def versions(session: Session, *, matter_id: int) -> list[MatterVersion]:
    """Every version of the matter, the newest first."""
    stmt = select(MatterVersion).where(MatterVersion.matter_id == matter_id).order_by(MatterVersion.number.desc())
    return list(session.scalars(stmt))


def version(session: Session, *, version_id: int) -> MatterVersion:
    v = session.get(MatterVersion, version_id)
    if v is None:
        raise NotFound(N_("No such matter"))
    return v


def payload(v: MatterVersion) -> dict[str, Any]:
    """A version's guide as ``MatterIn`` fields (without the codes): what an edit compares."""
    out: dict[str, Any] = {name: getattr(v, name) for name in VERSION_FIELDS}
    out["audiences"] = [str(a) for a in v.audiences]
    out["handling_forms"] = [str(h) for h in v.handling_forms]
    out["steps"] = [{f: getattr(s, f) for f in STEP_FIELDS} for s in v.steps]
    out["materials"] = [{f: getattr(m, f) for f in MATERIAL_FIELDS} for m in v.materials]
    return out


def _wanted(data: MatterIn) -> dict[str, Any]:
    out = data.model_dump(mode="json", exclude={"code", "basic_code"})
    return out


def _comparable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if hasattr(v, "value") else v) for k, v in d.items()}


def same_guide(v: MatterVersion, data: MatterIn) -> bool:
    return _comparable(payload(v)) == _comparable(_wanted(data))


def validate(session: Session, data: MatterIn) -> None:
    """The checks a shape cannot make: the code rules, the credit code's check character, the
    departments, the limits. All problems at once, each with its field."""
    errors: list[dict[str, str]] = []
    problem = code_rules.check(data.code)
    if problem:
        errors.append({"field": "code", "message": problem})
    if data.body_uscc and not uscc.is_valid(data.body_uscc):
        errors.append({"field": "body_uscc", "message": N_("Not a valid unified social credit code")})
    known = {d.id for d in departments.all_active(session)}
    if data.department_id is not None and data.department_id not in known:
        errors.append({"field": "department_id", "message": N_("No such department")})
    for i, s in enumerate(data.steps):
        if s.department_id is not None and s.department_id not in known:
            errors.append({"field": f"steps.{i}.department_id", "message": N_("No such department")})
    if sum(s.time_share or 0 for s in data.steps) > 100:
        errors.append({"field": "steps", "message": N_("The steps' shares of the time limit add up to more than 100%")})
    if (
        data.legal_limit is not None
        and data.legal_limit_unit == data.promised_limit_unit
        and data.promised_limit > data.legal_limit
    ):
        errors.append({"field": "promised_limit", "message": N_("The promised time limit exceeds the legal one")})
    if data.charged and not data.fee_basis:
        errors.append({"field": "fee_basis", "message": N_("Give the legal basis of the fee")})
    if errors:
        raise ValidationFailed(N_("The matter is not valid"), errors=errors)


def _new_version(session: Session, matter: Matter, data: MatterIn, actor: Actor) -> MatterVersion:
    matter.version_count += 1
    v = MatterVersion(
        matter_id=matter.id,
        number=matter.version_count,
        created_at=utcnow(),
        created_by_id=actor.id,
        created_by=actor.name,
        **{name: getattr(data, name) for name in VERSION_FIELDS},
    )
    v.audiences = [str(a) for a in data.audiences]
    v.handling_forms = [str(h) for h in data.handling_forms]
    v.steps = [MatterStep(position=i, **s.model_dump()) for i, s in enumerate(data.steps, start=1)]
    v.materials = [MatterMaterial(position=i, **m.model_dump()) for i, m in enumerate(data.materials, start=1)]
    session.add(v)
    session.flush()
    matter.current = v
    matter.current_version_id = v.id
    matter.updated_at = v.created_at
    return v


def create(session: Session, *, actor: Actor, data: MatterIn) -> Matter:
    """A new matter (a draft) with its first version."""
    validate(session, data)
    if get_by_code(session, code=data.code) is not None:
        raise ValidationFailed(
            N_("The matter is not valid"),
            errors=[{"field": "code", "message": N_("A matter with this implementation code exists")}],
        )
    now = utcnow()
    matter = Matter(code=data.code, basic_code=data.basic_code, status=MatterStatus.DRAFT, created_at=now)
    matter.version_count = 0
    session.add(matter)
    session.flush()
    v = _new_version(session, matter, data, actor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="services.matter.create",
        target_type="services_matter",
        target_id=matter.id,
        detail={"code": matter.code, "name": v.name, "version": v.number},
    )
    return matter


def edit(session: Session, *, actor: Actor, matter_id: int, data: MatterIn) -> tuple[Matter, bool]:
    """A new version of the matter from DATA; (matter, False) when nothing changed (nothing written)."""
    matter = get(session, matter_id=matter_id)
    if data.code != matter.code:
        raise ValidationFailed(
            N_("The matter is not valid"),
            errors=[{"field": "code", "message": N_("The implementation code of a matter cannot change")}],
        )
    validate(session, data)
    if same_guide(current(matter), data) and (data.basic_code or None) == matter.basic_code:
        return matter, False
    before = current(matter).number
    matter.basic_code = data.basic_code
    v = _new_version(session, matter, data, actor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="services.matter.edit",
        target_type="services_matter",
        target_id=matter.id,
        detail={"code": matter.code, "name": v.name, "version": v.number, "previous": before},
    )
    return matter, True


def _move(session: Session, *, actor: Actor, matter_id: int, action: str) -> Matter:
    matter = get(session, matter_id=matter_id)
    new = TRANSITIONS.get((matter.status, action))
    if new is None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s == matter.status)
        raise Conflict(N_("This is not possible for the matter in its current status"), allowed=", ".join(allowed))
    old = matter.status
    matter.status = new
    now = utcnow()
    if new == MatterStatus.PUBLISHED:
        matter.published_at = now
        matter.withdrawn_at = None
    else:
        matter.withdrawn_at = now
    matter.updated_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"services.matter.{action}",
        target_type="services_matter",
        target_id=matter.id,
        detail={"code": matter.code, "from": str(old), "to": str(new), "version": current(matter).number},
    )
    return matter


def publish(session: Session, *, actor: Actor, matter_id: int) -> Matter:
    return _move(session, actor=actor, matter_id=matter_id, action="publish")


def withdraw(session: Session, *, actor: Actor, matter_id: int) -> Matter:
    return _move(session, actor=actor, matter_id=matter_id, action="withdraw")


def actions_of(matter: Matter) -> list[str]:
    """The status changes possible now."""
    return [a for (s, a) in TRANSITIONS if s == matter.status]


def all_matters(session: Session) -> Sequence[Matter]:
    """Every matter, by code (the export)."""
    return list(session.scalars(select(Matter).order_by(Matter.code)))
