"""API of the plans part of the safety domain, under /api/v1/safety:

- ``GET/POST /plans``, ``GET/PUT /plans/{id}``: plan cards; ``GET /plans/{id}/versions``,
  ``GET /plans/{id}/versions/{n}``; ``PUT /plans/{id}/draft`` (the draft's body, checked against the
  county's records), ``PUT /plans/{id}/versions/{n}`` (a draft only; a published version is 409),
  ``POST /plans/{id}/publish``, ``POST /plans/{id}/retire``; ``GET /plans/{id}/diff?a&b``.
- ``GET/POST /plans/{id}/attachments`` (PDF, DOCX, JPEG, PNG ≤ 20 MB), ``GET /plans/attachments/{id}``
  (the file; every download audited).
- ``GET/POST /exercises``, ``GET /exercises/counts``.
- the resources: ``api/resources.py`` (included here).

``safety.emergency.read`` to see, ``safety.emergency.manage`` to write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, UploadFile
from fastapi.responses import Response

from countyos.safety.api import resources
from countyos.safety.models.plans import AttachmentKind
from countyos.safety.permissions import EMERGENCY_MANAGE, EMERGENCY_READ
from countyos.safety.schemas.plans import (
    AttachmentOut,
    DraftIn,
    ExerciseIn,
    ExerciseOut,
    PlanIn,
    PlanOut,
    VersionOut,
    body_of,
)
from countyos.safety.service import plans, plans_exercises, plans_files
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require

router = APIRouter()
Reader = Annotated[Auth, Depends(require(EMERGENCY_READ))]
Keeper = Annotated[Auth, Depends(require(EMERGENCY_MANAGE))]


@router.get("/plans")
def list_plans(session: ReadSession, a: Reader) -> list[PlanOut]:
    return [PlanOut.model_validate(p) for p in plans.list_plans(session)]


@router.post("/plans", status_code=201)
def create_plan(body: PlanIn, session: WriteSession, a: Keeper) -> PlanOut:
    return PlanOut.model_validate(plans.create_plan(session, actor=a.actor, data=body))


@router.get("/plans/{plan_id}")
def get_plan(plan_id: int, session: ReadSession, a: Reader) -> PlanOut:
    return PlanOut.model_validate(plans.get_plan(session, plan_id=plan_id))


@router.put("/plans/{plan_id}")
def update_plan(plan_id: int, body: PlanIn, session: WriteSession, a: Keeper) -> PlanOut:
    return PlanOut.model_validate(plans.update_plan(session, actor=a.actor, plan_id=plan_id, data=body))


@router.get("/plans/{plan_id}/versions")
def list_versions(plan_id: int, session: ReadSession, a: Reader) -> list[VersionOut]:
    plans.get_plan(session, plan_id=plan_id)
    return [VersionOut.model_validate(v) for v in plans.versions_of(session, plan_id=plan_id)]


@router.get("/plans/{plan_id}/versions/{number}")
def get_version(plan_id: int, number: int, session: ReadSession, a: Reader) -> VersionOut:
    return VersionOut.model_validate(plans.get_version(session, plan_id=plan_id, number=number))


@router.put("/plans/{plan_id}/draft")
def save_draft(plan_id: int, body: DraftIn, session: WriteSession, a: Keeper) -> VersionOut:
    v = plans.save_draft(session, actor=a.actor, plan_id=plan_id, body=body.body, note=body.note)
    return VersionOut.model_validate(v)


@router.put("/plans/{plan_id}/versions/{number}")
def save_version(plan_id: int, number: int, body: DraftIn, session: WriteSession, a: Keeper) -> VersionOut:
    v = plans.save_version(session, actor=a.actor, plan_id=plan_id, number=number, body=body.body, note=body.note)
    return VersionOut.model_validate(v)


@router.post("/plans/{plan_id}/publish")
def publish(plan_id: int, session: WriteSession, a: Keeper) -> VersionOut:
    return VersionOut.model_validate(plans.publish(session, actor=a.actor, plan_id=plan_id))


@router.post("/plans/{plan_id}/retire")
def retire(plan_id: int, session: WriteSession, a: Keeper) -> PlanOut:
    return PlanOut.model_validate(plans.retire(session, actor=a.actor, plan_id=plan_id))


@router.get("/plans/{plan_id}/diff")
def diff(
    plan_id: int,
    session: ReadSession,
    a: Reader,
    old: Annotated[int, Query(ge=1, le=10000)],
    new: Annotated[int, Query(ge=1, le=10000)],
) -> list[dict[str, str]]:
    x = plans.get_version(session, plan_id=plan_id, number=old)
    y = plans.get_version(session, plan_id=plan_id, number=new)
    return [{"kind": c.kind, "text": c.text} for c in plans.diff(body_of(x.body), body_of(y.body))]


@router.get("/plans/{plan_id}/attachments")
def list_attachments(plan_id: int, session: ReadSession, a: Reader) -> list[AttachmentOut]:
    plans.get_plan(session, plan_id=plan_id)
    return [AttachmentOut.model_validate(x) for x in plans_files.list_for(session, plan_id=plan_id)]


@router.post("/plans/{plan_id}/attachments", status_code=201)
def add_attachment(
    plan_id: int,
    file: UploadFile,
    session: WriteSession,
    a: Keeper,
    kind: Annotated[AttachmentKind, Form()] = AttachmentKind.TEXT,
    exercise_id: Annotated[int | None, Form()] = None,
) -> AttachmentOut:
    data = forms.read_upload(file, plans_files.MAX_BYTES)
    att = plans_files.add(
        session,
        actor=a.actor,
        plan_id=plan_id,
        data=data,
        filename=file.filename or "",
        kind=kind,
        exercise_id=exercise_id,
    )
    return AttachmentOut.model_validate(att)


@router.get("/plans/attachments/{attachment_id}", response_class=Response)
def download(attachment_id: int, session: WriteSession, a: Reader) -> Response:
    att, data = plans_files.open_for(session, actor=a.actor, attachment_id=attachment_id)
    return attachment_response(att.filename, att.media_type, data)


def attachment_response(filename: str, media_type: str, data: bytes) -> Response:
    from urllib.parse import quote

    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/exercises")
def list_exercises(
    session: ReadSession,
    a: Reader,
    plan_id: Annotated[int | None, Query(ge=1)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[ExerciseOut]:
    return [ExerciseOut.model_validate(x) for x in plans_exercises.list_exercises(session, plan_id=plan_id, year=year)]


@router.get("/exercises/counts")
def exercise_counts(
    session: ReadSession, a: Reader, plan_id: Annotated[int | None, Query(ge=1)] = None
) -> dict[int, int]:
    return plans_exercises.count_by_year(session, plan_id=plan_id)


@router.post("/exercises", status_code=201)
def create_exercise(body: ExerciseIn, session: WriteSession, a: Keeper) -> ExerciseOut:
    return ExerciseOut.model_validate(plans_exercises.create(session, actor=a.actor, data=body))


router.include_router(resources.router)
