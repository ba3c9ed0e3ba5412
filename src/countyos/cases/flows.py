"""Orchestration for the routes: case views with their allowed actions, intake from each channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from countyos.cases import lifecycle, schemas
from countyos.cases.models import Attachment, Case, Category, Channel, Priority, WorkOrder
from countyos.cases.service import attachments, cases, categories, people, timers, transitions
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_


def category_for(session: Session, *, category_id: int | None, service_code: str | None) -> Category:
    if category_id is not None:
        return categories.get(session, category_id=category_id)
    if service_code:
        cat = categories.get_by_service_code(session, code=service_code)
        if cat is None:
            raise NotFound("There is no category with service code %(code)s", code=service_code)
        return cat
    raise ValidationFailed("Choose a category", errors=[{"field": "category_id", "message": "required"}])


def case_out(session: Session, case: Case, actor: Actor | None, now: datetime | None = None) -> schemas.CaseOut:
    now = now or utcnow()
    return schemas.CaseOut(
        id=case.id,
        number=case.number,
        version=case.version,
        state=case.state,
        state_label=lifecycle.LABELS[case.state],
        is_open=case.is_open,
        channel=case.channel,
        category_id=case.category_id,
        category_name=case.category.name,
        service_code=case.category.service_code,
        priority=case.priority,
        title=case.title,
        description=case.description,
        address=case.address,
        lon=case.lon,
        lat=case.lat,
        township_code=case.township_code,
        township_name=case.township_name,
        village_name=case.village_name,
        grid_code=case.grid_code,
        area_class=case.area_class,
        department_id=case.department_id,
        co_department_ids=list(case.co_department_ids or []),
        suggested_department_id=case.suggested_department_id,
        assignee_id=case.assignee_id,
        rework_count=case.rework_count,
        step=case.step,
        step_deadline=case.step_deadline,
        step_warn_at=case.step_warn_at,
        level=str(timers.level(case, now)),
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        satisfaction=case.satisfaction,
        duplicate_of_id=case.duplicate_of_id,
        merged_into_id=case.merged_into_id,
        allowed_actions=transitions.allowed_actions(session, actor, case) if actor else [],
    )


def case_detail(session: Session, case: Case, actor: Actor) -> schemas.CaseDetailOut:
    base = case_out(session, case, actor)
    reps = [
        {
            "id": r.id,
            "channel": r.channel,
            "name": people.mask_name(r.name),
            "phone": people.masked(r.phone_enc),
            "email": people.mask_email(r.email_enc),
            "original_case_id": r.original_case_id,
        }
        for r in cases.reporters(session, case_id=case.id)
    ]
    files = cases.attachments(session, case_id=case.id)
    return schemas.CaseDetailOut(
        **base.model_dump(),
        timeline=[schemas.EventOut.model_validate(e) for e in cases.timeline(session, case_id=case.id)],
        attachment_ids=[a.id for a in files],
        attachments=[schemas.AttachmentOut.model_validate(a) for a in files],
        reporters=reps,
        work_order=schemas.WorkOrderOut.model_validate(case.work_order) if case.work_order else None,
    )


def report(
    session: Session, *, actor: Actor, body: schemas.CaseIn, channel: Channel, reporter_user_id: int | None
) -> tuple[Case, bool]:
    cat = category_for(session, category_id=body.category_id, service_code=body.service_code)
    new = cases.NewCase(
        channel=channel,
        category_id=cat.id,
        description=body.description,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        address=body.address,
        title=body.title,
        priority=body.priority,
        idempotency_key=body.idempotency_key,
        attachment_ids=body.attachment_ids,
        self_handled=body.self_handled,
        reporter=cases.ReporterIn(name=body.reporter_name, phone=body.reporter_phone, user_id=reporter_user_id),
    )
    case, _, created = cases.create(session, actor=actor, new=new)
    return case, created


def act(session: Session, *, actor: Actor, case_id: int, body: schemas.ActionIn) -> Case:
    """One action of the API or a page form (the same model); a case the actor may not see is a 404."""
    cases.get_visible(session, actor=actor, case_id=case_id)
    return transitions.apply(session, actor=actor, case_id=case_id, data=body)


def visible_attachment(session: Session, *, actor: Actor, attachment_id: int) -> Attachment:
    """An attachment the actor may open: one of a case they may read, or their own upload not yet
    attached; anything else is a 404, as if it did not exist."""
    att = attachments.get(session, attachment_id=attachment_id)
    if att.case_id is not None:
        cases.get_visible(session, actor=actor, case_id=att.case_id)
    elif att.uploaded_by != actor.name:
        raise NotFound("Attachment %(id)s does not exist", id=attachment_id)
    return att


def publish_attachment(session: Session, *, actor: Actor, attachment_id: int, public: bool) -> Attachment:
    """Show a file of a case with its public record, or withdraw it (audited)."""
    att = visible_attachment(session, actor=actor, attachment_id=attachment_id)
    return attachments.publish(session, actor=actor, attachment_id=att.id, public=public)


DEMAND_PRIORITY = {"normal": Priority.NORMAL, "urgent": Priority.URGENT, "critical": Priority.CRITICAL}


def work_order(session: Session, *, actor: Actor, order: schemas.WorkOrderIn) -> tuple[Case, bool]:
    """A 12345 work order becomes a case (the order number is its idempotency key)."""
    from countyos.cases.models import CategoryKind

    cat = categories.get_by_code(session, kind=CategoryKind.HOTLINE, code=order.category_code)
    cat = cat or categories.get_by_service_code(session, code=order.category_code)
    if cat is None:
        raise ValidationFailed(
            "Unknown 12345 category %(code)s",
            code=order.category_code,
            errors=[{"field": "category_code", "message": "unknown"}],
        )
    new = cases.NewCase(
        channel=Channel.HOTLINE,
        category_id=cat.id,
        title=order.title,
        description=order.content,
        lon=order.lon,
        lat=order.lat,
        crs=order.crs,
        address=order.address,
        priority=DEMAND_PRIORITY[order.urgency],
        external_id=order.order_no,
        idempotency_key=f"12345:{order.order_no}",
        public_report=True,
        reporter=cases.ReporterIn(name=order.citizen_name, phone=order.citizen_phone),
        context={"order_no": order.order_no, "demand_type": str(order.demand_type)},
    )
    case, _, created = cases.create(session, actor=actor, new=new)
    if created:  # the work-order facts, as the intake desk keeps them (诉求类型, 来电时间, 回访要求)
        session.add(
            WorkOrder(
                case_id=case.id,
                order_no=order.order_no,
                called_at=order.called_at,
                demand_type=order.demand_type,
                callback_needed=order.callback_needed,
                callback_way=order.callback_way if order.callback_needed else None,
                callback_time=(order.callback_time or "").strip() or None if order.callback_needed else None,
            )
        )
        session.flush()
    return case, created


def work_order_rows(session: Session, *, actor: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Import many work orders; each row in its own savepoint, so one bad row spoils nothing else."""
    from pydantic import ValidationError

    report_rows = []
    for i, raw in enumerate(rows, start=2):
        try:
            order = schemas.WorkOrderIn.model_validate(raw)
        except ValidationError as exc:
            msg = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            report_rows.append({"row": i, "order_no": raw.get("order_no"), "status": "error", "message": msg})
            continue
        try:
            with session.begin_nested():
                case, created = work_order(session, actor=actor, order=order)
        except (ValidationFailed, NotFound) as exc:
            detail = "; ".join(str(e.get("message")) for e in getattr(exc, "errors", [])) or exc.message
            report_rows.append({"row": i, "order_no": order.order_no, "status": "error", "message": detail})
            continue
        report_rows.append(
            {
                "row": i,
                "order_no": order.order_no,
                "status": "created" if created else "duplicate",
                "case_number": case.number,
                "message": "" if created else "already imported",
            }
        )
    return report_rows


# -- actions from a form (the pages and the API's multipart variant) -----------------------------------

LIST_FIELDS = frozenset({"co_department_ids", "attachment_ids"})
NOT_VALID = N_("Not valid")
MAX_ATTACHMENTS = 9  # of one action, uploaded with it or before


def action_from_form(form: FormData) -> schemas.ActionIn:
    """The API's model from a posted form: the same field names; empty fields are left out
    (a pydantic ``ValidationError`` for a wrong one)."""
    raw: dict[str, Any] = {}
    for name in schemas.ActionIn.model_fields:
        if name in LIST_FIELDS:
            values = [v for v in form.getlist(name) if isinstance(v, str) and v.strip()]
            if values:
                raw[name] = values
            continue
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            raw[name] = value.strip() if name != "comment" else value
    return schemas.ActionIn.model_validate(raw)


def photos_from_form(form: FormData) -> tuple[list[tuple[bytes, str | None]], attachments.Stamp]:
    """The photos of a posted form (its ``photos`` files, at most ``MAX_ACTION_PHOTOS`` + 1 read, each
    up to one byte more than the limit, which ``attachments.store`` refuses) and the browser's stamp."""
    uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    files = [(f.file.read(attachments.MAX_BYTES + 1), f.filename) for f in uploads[: attachments.MAX_ACTION_PHOTOS + 1]]
    if len(uploads) > len(files):
        files.append((b"", None))  # counted, not read: store_photos refuses more than the maximum
    return files, stamp_from(form)


def stamp_from(form: FormData) -> attachments.Stamp:
    """Where and when the photos of a form were taken, as the browser says (``schemas.PhotoStampIn``)."""
    raw = {k: v.strip() for k in schemas.PhotoStampIn.model_fields if isinstance(v := form.get(k), str) and v.strip()}
    try:
        stamp = schemas.PhotoStampIn.model_validate(raw)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            "The position or time of the photos is not valid",
            errors=[
                {"field": "photos", "message": NOT_VALID, "detail": str(e["loc"][0]) if e["loc"] else ""}
                for e in exc.errors()
            ],
        ) from exc
    return attachments.Stamp(stamp.photo_lon, stamp.photo_lat, stamp.photo_accuracy, stamp.photo_taken_at)


def act_with_photos(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    data: schemas.ActionIn,
    files: list[tuple[bytes, str | None]],
    stamp: attachments.Stamp | None = None,
) -> Case:
    """One action with the photos sent beside it (stored first, then claimed by the action for its stage)."""
    cases.get_visible(session, actor=actor, case_id=case_id)
    if files:
        if len(files) + len(data.attachment_ids) > MAX_ATTACHMENTS:
            raise ValidationFailed(
                "At most %(n)s photos; you chose %(chosen)s",
                n=MAX_ATTACHMENTS,
                chosen=len(files) + len(data.attachment_ids),
                errors=[{"field": "photos", "message": attachments.TOO_MANY_PHOTOS}],
            )
        stored = attachments.store_photos(session, actor=actor, files=files, stamp=stamp)
        data = data.model_copy(update={"attachment_ids": [*data.attachment_ids, *(p.id for p in stored)]})
    return transitions.apply(session, actor=actor, case_id=case_id, data=data)


def batch(session: Session, *, actor: Actor, body: schemas.BatchIn) -> schemas.BatchOut:
    """The same action on several cases, each checked, audited and refused on its own; the messages in
    the current locale."""
    from countyos.cases.service import batch as batches
    from countyos.core.i18n import gettext

    results = [
        schemas.BatchResultOut(
            case_id=o.case_id,
            number=o.number,
            ok=o.ok,
            state=o.state,
            state_label=gettext(label) if (label := batches.state_label(o.state)) else None,
            code=o.code,
            message=gettext(o.message, **o.params) if o.message else None,
        )
        for o in batches.apply(session, actor=actor, body=body)
    ]
    done = sum(1 for r in results if r.ok)
    return schemas.BatchOut(done=done, refused=len(results) - done, results=results)
