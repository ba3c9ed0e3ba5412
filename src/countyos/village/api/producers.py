"""API of the producers part under /api/v1/village: 经营主体 (producers and buyers), the people acting for
them, certifications, 基地 (GeoJSON Features), devices attached to bases and producers' tasks.

Who sees what is decided in ``service/scope.py``: a producer or a buyer reads and writes only the entities
they act for (another's is 404); the bureau (``village.agri.manage``) all; ``village.agri.read`` reads all.
Registering an entity and binding people to it is the bureau's. Errors are problem+json; personal numbers
are shown masked.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, UploadFile
from sqlalchemy.orm import Session

from countyos.village.models.producers import (
    PRODUCER_KINDS,
    Certification,
    CertKind,
    Entity,
    EntityKind,
    Facility,
    Task,
    TaskState,
)
from countyos.village.permissions import AGRI_MANAGE
from countyos.village.schemas.producers import (
    BaseIn,
    CertificationIn,
    CertificationOut,
    DeviceIn,
    DeviceOut,
    EntityIn,
    EntityOut,
    MemberIn,
    MemberOut,
    TaskDoneIn,
    TaskOut,
)
from countyos.village.service import producers as svc
from countyos.village.service import producers_bases as bases
from countyos.village.service import producers_tasks as tasks
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter()
Anyone = Annotated[Auth, Depends(authenticated)]
Bureau = Annotated[Auth, Depends(require(AGRI_MANAGE))]
MAX_LIMIT = 500


def entity_out(e: Entity) -> EntityOut:
    return EntityOut(
        id=e.id, kind=e.kind, is_producer=e.kind in PRODUCER_KINDS, name=e.name, subject_code_type=e.subject_code_type,
        subject_code=e.subject_code, id_kind=e.id_kind, uscc=e.uscc, id_number_masked=e.id_number_masked,
        legal_person=e.legal_person, village_code=e.village_code, village_name=e.village_name, address=e.address,
        contact_name=e.contact_name, phone_masked=e.phone_masked, gs1_prefix=e.gs1_prefix, active=e.active,
        url=f"/village/producers/{e.id}",
    )  # fmt: skip


def cert_out(c: Certification) -> CertificationOut:
    return CertificationOut(
        id=c.id, entity_id=c.entity_id, kind=c.kind, number=c.number, issuer=c.issuer,
        product_codes=list(c.product_codes), valid_from=c.valid_from, valid_to=c.valid_to, expired=svc.is_expired(c),
    )  # fmt: skip


def task_out(t: Task) -> TaskOut:
    return TaskOut(
        id=t.id, entity_id=t.entity_id, base_id=t.base_id, alarm_id=t.alarm_id, title=t.title, state=t.state,
        created_at=t.created_at, done_at=t.done_at,
    )  # fmt: skip


# --- entities ------------------------------------------------------------------------------------


@router.get("/entities")
def list_entities(
    session: ReadSession,
    a: Anyone,
    kind: EntityKind | None = None,
    group: Annotated[str | None, Query(pattern="^(producer|buyer)$")] = None,
    village: Annotated[str | None, Query(pattern=r"^\d{9}(\d{3})?$")] = None,
    cert: CertKind | None = None,
    q: Annotated[str, Query(max_length=60)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Producers and buyers this caller may see (``group``: producer or buyer), by kind and name."""
    f = svc.EntityFilter(kind=kind, group=group, village_code=village, cert=cert, q=q)
    rows, total = svc.list_entities(session, actor=a.actor, f=f, limit=limit, offset=offset)
    return {"total": total, "items": [entity_out(e).model_dump(mode="json") for e in rows]}


@router.post("/entities", status_code=201)
def create_entity(body: EntityIn, session: WriteSession, a: Bureau) -> EntityOut:
    return entity_out(svc.create_entity(session, actor=a.actor, body=body))


@router.get("/entities/{entity_id}")
def get_entity(entity_id: int, session: ReadSession, a: Anyone) -> EntityOut:
    return entity_out(svc.get_entity(session, actor=a.actor, entity_id=entity_id))


@router.patch("/entities/{entity_id}")
def update_entity(entity_id: int, body: EntityIn, session: WriteSession, a: Anyone) -> EntityOut:
    """The whole entity as on the form; an empty ``id_number`` or ``phone`` keeps the one on file."""
    return entity_out(svc.update_entity(session, actor=a.actor, entity_id=entity_id, body=body))


@router.get("/entities/{entity_id}/members")
def list_members(entity_id: int, session: ReadSession, a: Anyone) -> list[MemberOut]:
    e = svc.get_entity(session, actor=a.actor, entity_id=entity_id)
    return [MemberOut(entity_id=e.id, user_id=i, display_name=n) for i, n in svc.members(session, entity_id=e.id)]


@router.post("/entities/{entity_id}/members", status_code=201)
def add_member(entity_id: int, body: MemberIn, session: WriteSession, a: Bureau) -> list[MemberOut]:
    svc.add_member(session, actor=a.actor, entity_id=entity_id, user_id=body.user_id)
    return [
        MemberOut(entity_id=entity_id, user_id=i, display_name=n) for i, n in svc.members(session, entity_id=entity_id)
    ]


@router.delete("/entities/{entity_id}/members/{user_id}", status_code=204)
def remove_member(entity_id: int, user_id: int, session: WriteSession, a: Bureau) -> None:
    svc.remove_member(session, actor=a.actor, entity_id=entity_id, user_id=user_id)


@router.get("/entities/{entity_id}/certifications")
def list_certifications(entity_id: int, session: ReadSession, a: Anyone) -> list[CertificationOut]:
    e = svc.get_entity(session, actor=a.actor, entity_id=entity_id)
    return [cert_out(c) for c in svc.certifications(session, entity_ids=[e.id])]


@router.post("/entities/{entity_id}/certifications", status_code=201)
def add_certification(entity_id: int, body: CertificationIn, session: WriteSession, a: Anyone) -> CertificationOut:
    return cert_out(svc.add_certification(session, actor=a.actor, entity_id=entity_id, body=body))


@router.delete("/entities/{entity_id}/certifications/{cert_id}", status_code=204)
def remove_certification(entity_id: int, cert_id: int, session: WriteSession, a: Anyone) -> None:
    svc.remove_certification(session, actor=a.actor, entity_id=entity_id, cert_id=cert_id)


# --- bases ---------------------------------------------------------------------------------------


@router.get("/bases")
def list_bases(
    session: ReadSession,
    a: Anyone,
    entity_id: Annotated[int | None, Query(ge=1)] = None,
    village: Annotated[str | None, Query(pattern=r"^\d{9}(\d{3})?$")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """The bases this caller may see as a GeoJSON FeatureCollection."""
    if entity_id is not None:
        svc.get_entity(session, actor=a.actor, entity_id=entity_id)
    rows = bases.list_bases(session, actor=a.actor, entity_id=entity_id, village_code=village, limit=limit)
    return bases.collection(session, rows)


@router.post("/bases", status_code=201)
def create_base(body: BaseIn, session: WriteSession, a: Anyone) -> dict[str, Any]:
    b = bases.create_base(session, actor=a.actor, body=body)
    return bases.feature(b, svc.names(session, [b.entity_id]).get(b.entity_id, ""))


@router.post("/bases/import")
def import_bases(
    file: UploadFile,
    session: WriteSession,
    a: Anyone,
    entity_id: Annotated[int, Query(ge=1)],
    facility: Facility | None = None,
    crs: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """A GeoJSON, zipped Shapefile or GeoPackage of one entity's bases; all or nothing."""
    data = forms.read_upload(file, bases.MAX_FILE_BYTES)
    report = bases.import_file(session, actor=a.actor, entity_id=entity_id, data=data, filename=file.filename or "",
                               facility=facility, source_crs=crs)  # fmt: skip
    return report.as_dict()


@router.get("/bases/{base_id}")
def get_base(base_id: int, session: ReadSession, a: Anyone) -> dict[str, Any]:
    b = bases.get_base(session, actor=a.actor, base_id=base_id)
    return bases.feature(b, svc.names(session, [b.entity_id]).get(b.entity_id, ""))


@router.patch("/bases/{base_id}")
def update_base(base_id: int, body: BaseIn, session: WriteSession, a: Anyone) -> dict[str, Any]:
    b = bases.update_base(session, actor=a.actor, base_id=base_id, body=body)
    return bases.feature(b, svc.names(session, [b.entity_id]).get(b.entity_id, ""))


def _devices(session: Session, base_id: int) -> list[DeviceOut]:
    return [
        DeviceOut(
            thing_id=t.id, device_key=t.device_key, name=t.name, device_class=t.device_class, attached_at=bd.attached_at
        )
        for bd, t in bases.devices_of(session, base_ids=[base_id])
    ]


@router.get("/bases/{base_id}/devices")
def list_devices(base_id: int, session: ReadSession, a: Anyone) -> list[DeviceOut]:
    b = bases.get_base(session, actor=a.actor, base_id=base_id)
    return _devices(session, b.id)


@router.post("/bases/{base_id}/devices", status_code=201)
def attach_device(base_id: int, body: DeviceIn, session: WriteSession, a: Anyone) -> list[DeviceOut]:
    bases.attach(session, actor=a.actor, base_id=base_id, device_key=body.device_key)
    return _devices(session, base_id)


@router.delete("/bases/{base_id}/devices/{thing_id}", status_code=204)
def detach_device(base_id: int, thing_id: int, session: WriteSession, a: Anyone) -> None:
    bases.detach(session, actor=a.actor, base_id=base_id, thing_id=thing_id)


# --- tasks ---------------------------------------------------------------------------------------


@router.get("/tasks")
def my_tasks(
    session: ReadSession,
    a: Anyone,
    state: TaskState | None = TaskState.OPEN,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[TaskOut]:
    """The tasks of the entities the caller acts for."""
    return [task_out(t) for t in tasks.list_tasks(session, actor=a.actor, state=state, limit=limit)]


@router.post("/tasks/{task_id}/done")
def task_done(task_id: int, session: WriteSession, a: Anyone, body: TaskDoneIn | None = None) -> TaskOut:
    return task_out(tasks.done(session, actor=a.actor, task_id=task_id, note=body.note if body else None))
