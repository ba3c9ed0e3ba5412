"""The register of 经营主体 (producers and buyers), the people acting for them and their certifications.

An organisation is identified by its 统一社会信用代码 (GB 32100, check character), a person (农户, 种养大户)
by their 身份证号 (GB 11643, check character), which is personal: kept encrypted with a blind index for
uniqueness and shown masked; the contact phone likewise. Neither ever reaches the audit log. A village is
a 12-digit division of geo; its name is looked up there. Who sees and writes which entity is decided in
``service/scope.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.core.crypto import mask_phone
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.idnumbers import resident_id_ok
from countyos.geo.models import DivisionLevel
from countyos.geo.service import divisions
from countyos.org.service import audit, uscc, users
from countyos.village.models.producers import (
    BUYER_KINDS,
    PRODUCER_KINDS,
    Certification,
    CertKind,
    Entity,
    EntityKind,
    EntityMember,
    Facility,
    IdKind,
    SubjectCodeType,
    TaskState,
)
from countyos.village.permissions import AGRI_MANAGE
from countyos.village.schemas.producers import CertificationIn, EntityIn
from countyos.village.service import products, scope

KIND_NAMES = {
    EntityKind.ENTERPRISE: N_("Enterprise"),
    EntityKind.COOPERATIVE: N_("Farmers' cooperative"),
    EntityKind.FAMILY_FARM: N_("Family farm"),
    EntityKind.LARGE_GROWER: N_("Large grower"),
    EntityKind.FARMER: N_("Farming household"),
    EntityKind.SCHOOL_CANTEEN: N_("School canteen"),
    EntityKind.HOSPITAL_CANTEEN: N_("Hospital canteen"),
    EntityKind.SUPERMARKET: N_("Supermarket"),
    EntityKind.ECOMMERCE: N_("E-commerce shop"),
    EntityKind.WHOLESALER: N_("Wholesaler"),
}
SUBJECT_CODE_NAMES = {
    SubjectCodeType.NODE: N_("Node subject code"),
    SubjectCodeType.OPERATOR: N_("Operator subject code"),
    SubjectCodeType.PERSON: N_("Natural person subject code"),
}
ID_KIND_NAMES = {IdKind.USCC: N_("Unified social credit code"), IdKind.RESIDENT: N_("Resident ID number")}
CERT_NAMES = {
    CertKind.GREEN: N_("Green food"),
    CertKind.ORGANIC: N_("Organic product"),
    CertKind.GEO_INDICATION: N_("Geographical indication"),
}
FACILITY_NAMES = {
    Facility.OPEN_FIELD: N_("Open field"),
    Facility.GREENHOUSE: N_("Greenhouse"),
    Facility.ORCHARD: N_("Orchard"),
    Facility.TEA_GARDEN: N_("Tea garden"),
    Facility.POND: N_("Fish pond"),
    Facility.PEN: N_("Livestock pen"),
    Facility.FOREST_LAND: N_("Forest land"),
}
TASK_STATE_NAMES = {TaskState.OPEN: N_("To do"), TaskState.DONE: N_("Done")}
GROUP_NAMES = {"producer": N_("Producers"), "buyer": N_("Buyers")}
MAX_LIST = 500


class Taken(Conflict):
    """409 naming the field whose value another entity has."""

    def __init__(self, message: str, /, *, field: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.errors = [{"field": field, "message": N_("Another producer or buyer has this number")}]

    def extra(self) -> dict[str, Any]:
        return {"errors": self.errors}


def mask_id_number(number: str) -> str:
    """330827********123X: the division and the last four characters."""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}" if len(number) > 10 else "*" * len(number)


today_local = county_today


# --- entities ------------------------------------------------------------------------------------


def _village(session: Session, code: str | None) -> tuple[str | None, str | None]:
    if not code:
        return None, None
    try:
        d = divisions.get_by_code(session, code=code)
    except NotFound as exc:
        raise ValidationFailed.on_field("village_code", N_("There is no village with this code")) from exc
    if d.level != DivisionLevel.VILLAGE:
        raise ValidationFailed.on_field("village_code", N_("There is no village with this code"))
    return d.code, d.name


def _apply(session: Session, e: Entity, body: EntityIn, *, creating: bool) -> list[str]:
    """Copy BODY onto E after its checks; the names of the personal fields changed (for the audit)."""
    changed: list[str] = []
    if body.id_kind == IdKind.USCC:
        code = body.uscc or ""
        if not code:
            raise ValidationFailed.on_field("uscc", N_("Enter the unified social credit code"))
        if not uscc.is_valid(code):
            raise ValidationFailed.on_field("uscc", N_("The unified social credit code's check character is wrong"))
        other = session.scalar(select(Entity.id).where(Entity.uscc == code, Entity.id != (e.id or 0)))
        if other is not None:
            raise Taken(N_("Another producer or buyer has the credit code %(code)s"), field="uscc", code=code)
        e.uscc = code
        e.id_number_enc = e.id_number_index = e.id_number_masked = None
    else:
        number = body.id_number or ""
        if not number and (creating or e.id_number_enc is None):
            raise ValidationFailed.on_field("id_number", N_("Enter the resident ID number"))
        if number:
            if not resident_id_ok(number):
                raise ValidationFailed.on_field(
                    "id_number", N_("The resident ID number's check character or date is wrong")
                )
            c = users.cipher()
            index = c.blind_index(number)
            other = session.scalar(select(Entity.id).where(Entity.id_number_index == index, Entity.id != (e.id or 0)))
            if other is not None:
                raise Taken(N_("Another producer or buyer has this ID number"), field="id_number")
            if index != e.id_number_index:
                changed.append("id_number")
            e.id_number_enc, e.id_number_index, e.id_number_masked = c.encrypt(number), index, mask_id_number(number)
        e.uscc = None
    phone = (body.phone or "").strip()
    if phone:
        if not users.PHONE_RE.match(phone):
            raise ValidationFailed.on_field(
                "phone", N_("Enter a mobile number or a landline number with its area code")
            )
        e.phone_enc, e.phone_masked = users.cipher().encrypt(phone), mask_phone(phone)
        changed.append("phone")
    if body.subject_code:
        other = session.scalar(
            select(Entity.id).where(Entity.subject_code == body.subject_code, Entity.id != (e.id or 0))
        )
        if other is not None:
            raise Taken(N_("Another producer or buyer has this subject code"), field="subject_code")
    e.village_code, e.village_name = _village(session, body.village_code)
    e.kind, e.name, e.id_kind = body.kind, body.name.strip(), body.id_kind
    e.subject_code_type, e.subject_code = body.subject_code_type, body.subject_code or None
    e.legal_person = (body.legal_person or "").strip() or None
    e.address = (body.address or "").strip() or None
    e.contact_name = (body.contact_name or "").strip() or None
    e.gs1_prefix, e.active = body.gs1_prefix or None, body.active
    return changed


def _detail(e: Entity, personal: list[str]) -> dict[str, Any]:
    """What the audit keeps of an entity: never a decrypted ID number or phone."""
    return {"kind": str(e.kind), "name": e.name, "uscc": e.uscc, "village": e.village_code, "personal": personal}


def create_entity(session: Session, *, actor: Actor, body: EntityIn) -> Entity:
    e = Entity(created_by=actor.name)
    personal = _apply(session, e, body, creating=True)
    session.add(e)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.entity.create", target_type="village_entity",
                 target_id=e.id, detail=_detail(e, personal))  # fmt: skip
    return e


def update_entity(session: Session, *, actor: Actor, entity_id: int, body: EntityIn) -> Entity:
    e = scope.entity_for(session, actor, entity_id, write=True)
    if not actor.can(AGRI_MANAGE):  # what the register holds an entity to is the bureau's to change
        kept = {"kind": e.kind, "id_kind": e.id_kind, "uscc": e.uscc, "active": e.active}
        for name, value in kept.items():
            if getattr(body, name) != value:
                raise ValidationFailed.on_field(name, N_("Only the agriculture bureau changes this"))
        if body.id_number:
            raise ValidationFailed.on_field("id_number", N_("Only the agriculture bureau changes this"))
    personal = _apply(session, e, body, creating=False)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.entity.update", target_type="village_entity",
                 target_id=e.id, detail=_detail(e, personal))  # fmt: skip
    return e


def as_input(e: Entity) -> dict[str, Any]:
    """The entity as the edit form's values (personal numbers left empty: kept unless retyped)."""
    return {
        "kind": e.kind.value, "name": e.name, "subject_code_type": e.subject_code_type.value,
        "subject_code": e.subject_code or "", "id_kind": e.id_kind.value, "uscc": e.uscc or "", "id_number": "",
        "legal_person": e.legal_person or "", "village_code": e.village_code or "", "address": e.address or "",
        "contact_name": e.contact_name or "", "phone": "", "gs1_prefix": e.gs1_prefix or "",
        "active": "1" if e.active else "",
    }  # fmt: skip


@dataclass(frozen=True)
class EntityFilter:
    kind: EntityKind | None = None
    group: str | None = None  # producer | buyer
    village_code: str | None = None  # a village, or a township's 9 digits
    cert: CertKind | None = None
    q: str = ""
    active: bool | None = None


def _filtered(session: Session, actor: Actor, f: EntityFilter) -> Select[Entity]:
    stmt = select(Entity)
    if not scope.sees_all(actor):
        stmt = stmt.where(Entity.id.in_(scope.entity_ids_of(session, actor) or [0]))
    if f.kind is not None:
        stmt = stmt.where(Entity.kind == f.kind)
    if f.group == "producer":
        stmt = stmt.where(Entity.kind.in_(sorted(PRODUCER_KINDS)))
    elif f.group == "buyer":
        stmt = stmt.where(Entity.kind.in_(sorted(BUYER_KINDS)))
    if f.village_code:
        stmt = stmt.where(Entity.village_code.startswith(f.village_code, autoescape=True))
    if f.cert is not None:
        held = select(Certification.entity_id).where(
            Certification.kind == f.cert, Certification.valid_to >= today_local()
        )
        stmt = stmt.where(Entity.id.in_(held))
    if f.q.strip():
        like = f"%{f.q.strip()}%"
        stmt = stmt.where(or_(Entity.name.like(like), Entity.uscc.like(like), Entity.contact_name.like(like)))
    if f.active is not None:
        stmt = stmt.where(Entity.active.is_(f.active))
    return stmt


def list_entities(
    session: Session, *, actor: Actor, f: EntityFilter, limit: int = 100, offset: int = 0
) -> tuple[list[Entity], int]:
    stmt = _filtered(session, actor, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Entity.kind, Entity.name, Entity.id).limit(min(limit, MAX_LIST)).offset(offset)
    )
    return list(rows), total


def counts_by_kind(session: Session, *, actor: Actor, f: EntityFilter) -> dict[str, int]:
    f = EntityFilter(group=f.group, village_code=f.village_code, cert=f.cert, q=f.q)
    sub = _filtered(session, actor, f).subquery()
    rows = session.execute(select(sub.c.kind, func.count()).group_by(sub.c.kind))
    return {str(k): int(n) for k, n in rows}


def get_entity(session: Session, *, actor: Actor, entity_id: int) -> Entity:
    return scope.entity_for(session, actor, entity_id)


def my_entities(session: Session, *, actor: Actor) -> list[Entity]:
    ids = scope.entity_ids_of(session, actor)
    if not ids:
        return []
    return list(session.scalars(select(Entity).where(Entity.id.in_(ids)).order_by(Entity.name)))


names = scope.entity_names


def reveal_id_number(e: Entity) -> str:
    """The decrypted ID number (for checks inside the server only; pages and the API show it masked)."""
    return users.cipher().decrypt(e.id_number_enc) if e.id_number_enc else ""


# --- members -------------------------------------------------------------------------------------


def members(session: Session, *, entity_id: int) -> list[tuple[int, str]]:
    ids = list(session.scalars(select(EntityMember.user_id).where(EntityMember.entity_id == entity_id)))
    people = users.colleagues(session, user_ids=ids)
    return sorted(((i, people[i].display_name) for i in ids if i in people), key=lambda t: t[1])


def add_member(session: Session, *, actor: Actor, entity_id: int, user_id: int) -> EntityMember:
    e = scope.entity_for(session, actor, entity_id, write=True)
    if not users.colleagues(session, user_ids=[user_id]):
        raise ValidationFailed.on_field("user_id", N_("No person has this id"))
    if session.scalar(select(EntityMember.id).where(EntityMember.entity_id == e.id, EntityMember.user_id == user_id)):
        raise Conflict(N_("This person already acts for this producer or buyer"))
    m = EntityMember(entity_id=e.id, user_id=user_id)
    session.add(m)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.member.add", target_type="village_entity",
                 target_id=e.id, detail={"user_id": user_id})  # fmt: skip
    return m


def remove_member(session: Session, *, actor: Actor, entity_id: int, user_id: int) -> None:
    e = scope.entity_for(session, actor, entity_id, write=True)
    gone = session.execute(delete(EntityMember).where(EntityMember.entity_id == e.id, EntityMember.user_id == user_id))
    if not int(getattr(gone, "rowcount", 0) or 0):
        raise NotFound(N_("This person does not act for this producer or buyer"))
    audit.record(session, actor=actor, action="village.producers.member.remove", target_type="village_entity",
                 target_id=e.id, detail={"user_id": user_id})  # fmt: skip


# --- certifications ------------------------------------------------------------------------------


def _check_products(codes: list[str], field: str = "product_codes") -> list[str]:
    known = products.catalog().products
    bad = [c for c in codes if c not in known]
    if bad:
        raise ValidationFailed(
            N_("Unknown product %(code)s"), code=bad[0], errors=[{"field": field, "message": N_("Unknown product")}]
        )
    return list(dict.fromkeys(codes))


def certifications(session: Session, *, entity_ids: list[int]) -> list[Certification]:
    if not entity_ids:
        return []
    stmt = select(Certification).where(Certification.entity_id.in_(entity_ids))
    return list(session.scalars(stmt.order_by(Certification.valid_to.desc(), Certification.id)))


def add_certification(session: Session, *, actor: Actor, entity_id: int, body: CertificationIn) -> Certification:
    e = scope.entity_for(session, actor, entity_id, write=True)
    if body.valid_to < body.valid_from:
        raise ValidationFailed.on_field("valid_to", N_("The certificate cannot end before it begins"))
    number = body.number.strip()
    if session.scalar(select(Certification.id).where(Certification.kind == body.kind, Certification.number == number)):
        raise Taken(N_("This certificate number is registered already"), field="number")
    c = Certification(
        entity_id=e.id, kind=body.kind, number=number, issuer=body.issuer.strip(),
        product_codes=_check_products(body.product_codes), valid_from=body.valid_from, valid_to=body.valid_to,
        created_by=actor.name,
    )  # fmt: skip
    session.add(c)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.cert.add", target_type="village_entity",
                 target_id=e.id, detail={"kind": str(c.kind), "number": c.number,
                                         "valid_to": c.valid_to.isoformat()})  # fmt: skip
    return c


def remove_certification(session: Session, *, actor: Actor, entity_id: int, cert_id: int) -> None:
    e = scope.entity_for(session, actor, entity_id, write=True)
    c = session.get(Certification, cert_id)
    if c is None or c.entity_id != e.id:
        raise NotFound(N_("No such certificate"))
    session.delete(c)
    session.flush()
    audit.record(session, actor=actor, action="village.producers.cert.remove", target_type="village_entity",
                 target_id=e.id, detail={"kind": str(c.kind), "number": c.number})  # fmt: skip


def is_expired(c: Certification, today: date | None = None) -> bool:
    return c.valid_to < (today or today_local())
