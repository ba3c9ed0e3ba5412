"""Files kept with a plan or an exercise (预案文本 PDF/DOCX, 图件, photos): at most 20 MB each, the type
read from the bytes, stored privately once by SHA-256 under ``<data_dir>/safety_plans``; staff with the
read permission download them, every download audited."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import audit
from countyos.safety.models.plans import AttachmentKind, Exercise, PlanAttachment
from countyos.safety.service.plans import get_plan

MAX_BYTES = 20 * 1024 * 1024
MAX_FILES = 50  # per plan
FIELD = "file"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KIND_NAMES = {
    AttachmentKind.TEXT: N_("Plan text"),
    AttachmentKind.FIGURE: N_("Map or figure"),
    AttachmentKind.PHOTO: N_("Photo"),
    AttachmentKind.OTHER: N_("Other file"),
}


def sniff(data: bytes) -> str | None:
    """The media type read from the bytes: PDF, DOCX, JPEG or PNG (else None)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            return None
    return None


def _root() -> Path:
    return get_settings().data_dir / "safety_plans"


def path_of(att: PlanAttachment) -> Path:
    return _root() / att.sha256[:2] / att.sha256


def add(
    session: Session,
    *,
    actor: Actor,
    plan_id: int,
    data: bytes,
    filename: str,
    kind: AttachmentKind = AttachmentKind.TEXT,
    exercise_id: int | None = None,
) -> PlanAttachment:
    plan = get_plan(session, plan_id=plan_id)
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(N_("The file is too large"))
    if not data:
        raise ValidationFailed.on_field(FIELD, N_("The file is empty"))
    media = sniff(data)
    if media is None:
        raise ValidationFailed.on_field(FIELD, N_("Only PDF, DOCX, JPEG or PNG files can be attached"))
    if exercise_id is not None:
        ex = session.get(Exercise, exercise_id)
        if ex is None or ex.plan_id != plan.id:
            raise NotFound(N_("There is no such exercise"))
    count = len(list(session.scalars(select(PlanAttachment.id).where(PlanAttachment.plan_id == plan.id))))
    if count >= MAX_FILES:
        raise ValidationFailed.on_field(FIELD, N_("A plan keeps at most %(n)s files"), n=MAX_FILES)
    digest = hashlib.sha256(data).hexdigest()
    path = _root() / digest[:2] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    name = Path(filename or "file").name[:200] or "file"
    att = PlanAttachment(
        plan_id=plan.id,
        exercise_id=exercise_id,
        kind=kind,
        filename=name,
        media_type=media,
        size=len(data),
        sha256=digest,
        uploaded_by_id=actor.id,
    )
    session.add(att)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.attach",
        target_type="safety_plan_attachment",
        target_id=att.id,
        detail={"plan": plan.id, "filename": name, "size": len(data)},
    )
    return att


def list_for(session: Session, *, plan_id: int) -> list[PlanAttachment]:
    return list(
        session.scalars(select(PlanAttachment).where(PlanAttachment.plan_id == plan_id).order_by(PlanAttachment.id))
    )


def list_for_exercises(session: Session, *, exercise_ids: list[int]) -> list[PlanAttachment]:
    if not exercise_ids:
        return []
    stmt = select(PlanAttachment).where(PlanAttachment.exercise_id.in_(exercise_ids)).order_by(PlanAttachment.id)
    return list(session.scalars(stmt))


def open_for(session: Session, *, actor: Actor, attachment_id: int) -> tuple[PlanAttachment, bytes]:
    """The file and its bytes; the download is audited."""
    att = session.get(PlanAttachment, attachment_id)
    if att is None:
        raise NotFound(N_("There is no such file"))
    path = path_of(att)
    if not path.exists():
        raise NotFound(N_("There is no such file"))
    audit.record(
        session,
        actor=actor,
        action="safety.plans.download",
        target_type="safety_plan_attachment",
        target_id=att.id,
        detail={"plan": att.plan_id, "filename": att.filename},
    )
    return att, path.read_bytes()
