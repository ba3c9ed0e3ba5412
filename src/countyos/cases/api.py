"""JSON API of the cases domain under /api/v1: cases, actions, categories, limits, routing, 12345."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import FileResponse, Response

from countyos.cases import flows, schemas
from countyos.cases.models import CategoryKind, Channel, Step
from countyos.cases.service import (
    attachments,
    cases,
    categories,
    category_search,
    evaluation,
    intake,
    notify,
    people,
    routing,
    transitions,
)
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.paging import MAX_LIMIT, Paged, PageParams
from countyos.core.tabular import XLSX_MEDIA_TYPE, to_xlsx
from countyos.org.service import audit
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require

router = APIRouter(tags=["cases"])
Reader = Annotated[Auth, Depends(require("case.read"))]
# ids in paths and queries: 32-bit on every backend (a larger number is a 422, never a database error)
PathId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)]


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50, offset: Annotated[int, Query(ge=0)] = 0
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(page_params)]


def case_filter(
    state: str | None = None,
    step: str | None = None,
    open: bool | None = None,
    category_id: QueryId = None,
    department_id: QueryId = None,
    township_code: str | None = None,
    grid_code: str | None = None,
    channel: Channel | None = None,
    level: Literal["yellow", "red"] | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
    since: schemas.Moment | None = None,
    until: schemas.Moment | None = None,
    duplicates: bool | None = None,
) -> cases.CaseFilter:
    return cases.CaseFilter(
        state=state,
        step=step,
        open=open,
        category_id=category_id,
        department_id=department_id,
        township_code=township_code,
        grid_code=grid_code,
        channel=channel,
        level=level,
        q=q,
        since=since,
        until=until,
        duplicates=duplicates,
    )


Filter = Annotated[cases.CaseFilter, Depends(case_filter)]


@router.get("/cases", response_model=Paged[schemas.CaseOut])
def list_cases(session: ReadSession, page: Page, f: Filter, a: Reader) -> Paged[schemas.CaseOut]:
    """Cases you may see, overdue first, then by nearest deadline."""
    rows, total = cases.list_cases(session, actor=a.actor, f=f, page=page)
    return Paged(
        items=[flows.case_out(session, c, a.actor) for c in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/cases/queues")
def queues(session: ReadSession, a: Reader) -> dict[str, int]:
    return cases.queue_counts(session, actor=a.actor)


@router.post("/cases", response_model=schemas.CaseOut, status_code=201)
def report_case(
    body: schemas.CaseIn,
    session: WriteSession,
    response: Response,
    a: Annotated[Auth, Depends(require("case.report"))],
) -> schemas.CaseOut:
    """Report a problem (grid patrol, staff entry). A repeated ``idempotency_key`` returns the first case (200)."""
    channel = Channel.GRID if a.actor.can("case.inspect") else Channel.STAFF
    case, created = flows.report(session, actor=a.actor, body=body, channel=channel, reporter_user_id=a.user.id)
    if not created:
        response.status_code = 200
    return flows.case_out(session, case, a.actor)


@router.get("/cases/{case_id}", response_model=schemas.CaseDetailOut)
def get_case(case_id: PathId, session: ReadSession, a: Reader) -> schemas.CaseDetailOut:
    return flows.case_detail(session, cases.get_visible(session, actor=a.actor, case_id=case_id), a.actor)


@router.post("/cases/{case_id}/actions", response_model=schemas.CaseOut)
def act(case_id: PathId, body: schemas.ActionIn, session: WriteSession, a: Reader) -> schemas.CaseOut:
    """Take an action. 409 ``transition_not_allowed`` (the case's state does not allow it) and 403
    ``permission_denied`` (the state allows it, but not for you) list the actions you may take; 409
    ``stale_version`` when ``version`` is not the current one."""
    case = flows.act(session, actor=a.actor, case_id=case_id, body=body)
    return flows.case_out(session, case, a.actor)


async def _posted_form(request: Request) -> FormData:
    return await request.form()


MULTIPART_ACTION = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": "The fields of ActionIn and PhotoStampIn as form fields, and the photos",
                    "properties": {
                        "action": {"type": "string"},
                        "version": {"type": "integer"},
                        "comment": {"type": "string"},
                        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "photo_lon": {"type": "number"},
                        "photo_lat": {"type": "number"},
                        "photo_accuracy": {"type": "number"},
                        "photo_taken_at": {"type": "string", "format": "date-time"},
                    },
                    "required": ["action"],
                }
            }
        },
        "required": True,
    }
}


@router.post("/cases/{case_id}/actions/multipart", response_model=schemas.CaseOut, openapi_extra=MULTIPART_ACTION)
def act_multipart(
    case_id: PathId, session: WriteSession, a: Reader, form: Annotated[FormData, Depends(_posted_form)]
) -> schemas.CaseOut:
    """Take an action with photos (处置反馈, 核查): the fields of ``ActionIn`` as form fields, the photos as
    ``photos`` files (JPEG, PNG, WebP; at most 6, 9 attachments in all) and optionally where and when they
    were taken (``photo_lon``, ``photo_lat``, ``photo_accuracy``, ``photo_taken_at``; the photos' EXIF wins).
    A category that requires a photo at this step refuses the action without one (422, field ``photos``)."""
    try:
        data = flows.action_from_form(form)
    except PydanticValidationError as exc:
        raise ValidationFailed(
            "Please correct the marked fields",
            errors=[{"field": str(e["loc"][0]) if e["loc"] else "", "message": e["msg"]} for e in exc.errors()],
        ) from exc
    files, stamp = flows.photos_from_form(form)
    case = flows.act_with_photos(session, actor=a.actor, case_id=case_id, data=data, files=files, stamp=stamp)
    return flows.case_out(session, case, a.actor)


@router.post("/cases/batch", response_model=schemas.BatchOut)
def batch(request: Request, body: schemas.BatchIn, session: WriteSession, a: Reader) -> schemas.BatchOut:
    """The same action on up to 100 cases. Each case is checked by the transition table and your roles
    on it, audited, and refused alone (the others go on); ``results`` says per case what happened,
    ``done``/``refused`` how many. Always 200 when the body is valid."""
    from countyos.core import i18n

    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        return flows.batch(session, actor=a.actor, body=body)


@router.get("/case-settings", response_model=schemas.WorkflowSettingsIn)
def workflow_settings(
    session: ReadSession, _: Annotated[Auth, Depends(require("case.configure"))]
) -> schemas.WorkflowSettingsIn:
    """The optional workflow rules (the same switches as the page ``/cases/settings``)."""
    from countyos.cases.service import autocheck

    return schemas.WorkflowSettingsIn(auto_check=autocheck.is_enabled(session))


@router.put("/case-settings", response_model=schemas.WorkflowSettingsIn)
def save_workflow_settings(
    body: schemas.WorkflowSettingsIn, session: WriteSession, a: Annotated[Auth, Depends(require("case.configure"))]
) -> schemas.WorkflowSettingsIn:
    """Switch the optional workflow rules (audited as ``case.setting``)."""
    from countyos.cases.service import autocheck

    autocheck.set_enabled(session, actor=a.actor, enabled=body.auto_check)
    return schemas.WorkflowSettingsIn(auto_check=autocheck.is_enabled(session))


@router.post("/cases/{case_id}/keep-apart", response_model=schemas.CaseOut)
def keep_apart(
    case_id: PathId,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.dispatch"))],
    version: int | None = None,
) -> schemas.CaseOut:
    case = transitions.keep_apart(session, actor=a.actor, case_id=case_id, version=version)
    return flows.case_out(session, case, a.actor)


@router.get("/cases/{case_id}/reporters/{reporter_id}/contact")
def reveal_contact(
    case_id: PathId, reporter_id: PathId, session: WriteSession, a: Annotated[Auth, Depends(require("case.pii"))]
) -> dict[str, str | None]:
    """The reporter's unmasked phone and e-mail; every view is audited."""
    case = cases.get_visible(session, actor=a.actor, case_id=case_id)
    rep = next((r for r in cases.reporters(session, case_id=case.id) if r.id == reporter_id), None)
    if rep is None:
        raise NotFound("Reporter %(id)s does not exist", id=reporter_id)
    audit.record(
        session,
        actor=a.actor,
        action="case.reporter.reveal",
        target_type="case",
        target_id=case.number,
        detail={"reporter_id": rep.id},
    )
    return {"name": rep.name, "phone": people.decrypt(rep.phone_enc), "email": people.decrypt(rep.email_enc)}


@router.post("/case-attachments", status_code=201)
def upload_attachment(
    session: WriteSession,
    a: Reader,
    file: Annotated[UploadFile, File()],
    form: Annotated[FormData, Depends(_posted_form)],
) -> dict[str, Any]:
    """Upload a photo or PDF (private: staff who may read the case it is attached to see it), optionally
    with where and when it was taken (the photo's EXIF wins). The action that names it in
    ``attachment_ids`` gives it its stage: feedback, check, or else the report."""
    data = file.file.read(attachments.MAX_BYTES + 1)
    stamp = flows.stamp_from(form)  # photo_lon, photo_lat, photo_accuracy, photo_taken_at (PhotoStampIn)
    att = attachments.store(session, actor=a.actor, data=data, name=file.filename, stamp=stamp)
    return {
        "id": att.id,
        "media_type": att.media_type,
        "size": att.size,
        "sha256": att.sha256,
        "public": att.public,
        "taken_at": att.taken_at.isoformat() if att.taken_at else None,
        "lon": att.lon,
        "lat": att.lat,
        "position_source": att.position_source,
    }


@router.get("/case-attachments/{attachment_id}")
def get_attachment(attachment_id: PathId, session: ReadSession, a: Reader, thumb: bool = False) -> Response:
    att = flows.visible_attachment(session, actor=a.actor, attachment_id=attachment_id)
    path = attachments.path_for(att.sha256, thumb=thumb and att.has_thumbnail)
    media = "image/jpeg" if thumb and att.has_thumbnail else att.media_type
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-store"})


@router.post("/case-attachments/{attachment_id}/publish")
def publish_attachment(
    attachment_id: PathId,
    body: schemas.PublishIn,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.intake"))],
) -> dict[str, Any]:
    """Show a file of a case with the public record of its request (``public: true``) or withdraw it;
    audited. Only the files of requests the public reported are ever shown publicly."""
    att = flows.publish_attachment(session, actor=a.actor, attachment_id=attachment_id, public=body.public)
    return {"id": att.id, "case_id": att.case_id, "public": att.public}


# -- categories and time limits ------------------------------------------------------------------


@router.get("/case-categories", response_model=list[schemas.CategoryOut])
def list_categories(
    session: ReadSession, _: Reader, kind: CategoryKind | None = None, reportable: bool | None = None
) -> list[schemas.CategoryOut]:
    return [
        schemas.CategoryOut.model_validate(c)
        for c in categories.list_categories(session, kind=kind, reportable=reportable)
    ]


@router.get("/case-categories/search")
def search_categories(
    session: ReadSession,
    _: Reader,
    q: Annotated[str, Query(max_length=category_search.MAX_QUERY)] = "",
    limit: Annotated[int, Query(ge=1, le=category_search.MAX_RESULTS)] = category_search.DEFAULT_RESULTS,
) -> list[dict[str, Any]]:
    """Reportable categories by name, pinyin initials ("ljdf" → 垃圾堆放), pinyin or keywords; those
    used most in the county's cases of the last 90 days first. An empty ``q`` lists the most used."""
    return [
        {
            "id": h.id,
            "name": h.name,
            "parent_name": h.parent_name,
            "service_code": h.service_code,
            "initials": h.initials,
            "uses": h.uses,
        }
        for h in category_search.search(session, q=q, limit=limit)
    ]


@router.post("/case-categories", response_model=schemas.CategoryOut, status_code=201)
def create_category(
    body: schemas.CategoryIn, session: WriteSession, a: Annotated[Auth, Depends(require("case.configure"))]
) -> schemas.CategoryOut:
    """A local extension (kind ``local``), optionally under an existing category."""
    cat = categories.create(
        session,
        actor=a.actor,
        kind=CategoryKind.LOCAL,
        code=body.code,
        name=body.name,
        parent_id=body.parent_id,
        description=body.description,
        keywords=body.keywords,
        register_condition=body.register_condition,
        close_condition=body.close_condition,
        default_priority=body.default_priority,
        attributes=body.attributes,
        public=body.public,
    )
    return schemas.CategoryOut.model_validate(cat)


@router.patch("/case-categories/{category_id}", response_model=schemas.CategoryOut)
def update_category(
    category_id: PathId,
    body: schemas.CategoryPatch,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
) -> schemas.CategoryOut:
    cat = categories.update(
        session, actor=a.actor, category_id=category_id, changes=body.model_dump(exclude_unset=True)
    )
    return schemas.CategoryOut.model_validate(cat)


@router.get("/case-categories/{category_id}/limits")
def get_limits(category_id: PathId, session: ReadSession, _: Reader) -> list[dict[str, Any]]:
    return [
        {"area_class": t.area_class, "step": t.step, "amount": t.amount, "unit": t.unit}
        for t in categories.limits_of(session, category_id=category_id)
    ]


@router.put("/case-categories/{category_id}/limits", status_code=204)
def set_limit(
    category_id: PathId,
    body: schemas.LimitIn,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
) -> Response:
    categories.set_limit(
        session,
        actor=a.actor,
        category_id=category_id,
        area_class=body.area_class,
        step=Step(body.step),
        amount=body.amount,
        unit=body.unit,
    )
    return Response(status_code=204)


@router.post("/case-categories/hotline-import")
def import_hotline(
    session: WriteSession, a: Annotated[Auth, Depends(require("case.configure"))], file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    """Import a 3-level 12345 taxonomy (CSV ``code,name[,parent_code]``); all rows or none."""
    return categories.import_hotline_taxonomy(session, actor=a.actor, data=file.file.read(2_000_000))


# -- routing --------------------------------------------------------------------------------------


@router.get("/case-routing", response_model=list[schemas.RuleOut])
def list_rules(session: ReadSession, _: Reader, category_id: QueryId = None) -> list[schemas.RuleOut]:
    return [schemas.RuleOut.model_validate(r) for r in routing.list_rules(session, category_id=category_id)]


@router.post("/case-routing", response_model=schemas.RuleOut, status_code=201)
def create_rule(
    body: schemas.RuleIn, session: WriteSession, a: Annotated[Auth, Depends(require("case.routing"))]
) -> schemas.RuleOut:
    return schemas.RuleOut.model_validate(routing.save_rule(session, actor=a.actor, **body.model_dump()))


@router.put("/case-routing/{rule_id}", response_model=schemas.RuleOut)
def update_rule(
    rule_id: PathId, body: schemas.RuleIn, session: WriteSession, a: Annotated[Auth, Depends(require("case.routing"))]
) -> schemas.RuleOut:
    return schemas.RuleOut.model_validate(
        routing.save_rule(session, actor=a.actor, rule_id=rule_id, **body.model_dump())
    )


@router.delete("/case-routing/{rule_id}", status_code=204)
def delete_rule(
    rule_id: PathId, session: WriteSession, a: Annotated[Auth, Depends(require("case.routing"))]
) -> Response:
    routing.delete_rule(session, actor=a.actor, rule_id=rule_id)
    return Response(status_code=204)


@router.get("/case-routing/overrides")
def override_report(
    session: ReadSession,
    _: Annotated[Auth, Depends(require("case.routing"))],
    since: schemas.Moment | None = None,
    until: schemas.Moment | None = None,
) -> list[dict[str, Any]]:
    """How often the dispatcher chose another department than the routing table suggested."""
    return [
        {
            "department_id": r.department_id,
            "department": r.department_name,
            "dispatches": r.dispatches,
            "overridden": r.overridden,
            "rate": round(r.rate, 4),
        }
        for r in routing.override_report(session, since=since, until=until)
    ]


# -- notifications ----------------------------------------------------------------------------------


@router.get("/notifications")
def my_notifications(
    session: ReadSession, a: Annotated[Auth, Depends(authenticated)], unread: bool = False
) -> list[dict[str, Any]]:
    return [
        {
            "id": n.id,
            "case_id": n.case_id,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in notify.inbox(session, user_id=a.user.id, unread_only=unread)
    ]


@router.post("/notifications/read")
def read_notifications(session: WriteSession, a: Annotated[Auth, Depends(authenticated)]) -> dict[str, int]:
    return {"marked": notify.mark_read(session, user_id=a.user.id)}


# -- 12345 work orders ------------------------------------------------------------------------------

HotlineAuth = Annotated[Auth, Depends(require("case.hotline"))]


@router.post("/hotline/work-orders", response_model=schemas.CaseOut, status_code=201)
def submit_work_order(
    body: schemas.WorkOrderIn, session: WriteSession, response: Response, a: HotlineAuth
) -> schemas.CaseOut:
    """One 12345 work order; resubmitting the same ``order_no`` returns the same case (200)."""
    case, created = flows.work_order(session, actor=a.actor, order=body)
    if not created:
        response.status_code = 200
    return flows.case_out(session, case, a.actor)


WORK_ORDER_COLUMNS = {
    "工单编号": "order_no",
    "order_no": "order_no",
    "诉求分类": "category_code",
    "category_code": "category_code",
    "诉求类型": "demand_type",
    "demand_type": "demand_type",
    "标题": "title",
    "title": "title",
    "内容": "content",
    "content": "content",
    "地址": "address",
    "address": "address",
    "经度": "lon",
    "lon": "lon",
    "纬度": "lat",
    "lat": "lat",
    "坐标系": "crs",
    "crs": "crs",
    "诉求人": "citizen_name",
    "citizen_name": "citizen_name",
    "联系电话": "citizen_phone",
    "citizen_phone": "citizen_phone",
    "紧急程度": "urgency",
    "urgency": "urgency",
    "来电时间": "called_at",
    "called_at": "called_at",
    "回访要求": "callback_needed",
    "是否回访": "callback_needed",
    "callback_needed": "callback_needed",
    "回访方式": "callback_way",
    "callback_way": "callback_way",
    "回访时间": "callback_time",
    "callback_time": "callback_time",
}
DEMAND_TYPES = {
    "咨询": "consult",
    "求助": "help",
    "投诉": "complaint",
    "举报": "report",
    "意见建议": "suggestion",
    "建议": "suggestion",
    "表扬": "praise",
}
CALLBACK_NEEDED = {"是": True, "需要": True, "需回访": True, "否": False, "不需要": False, "无需回访": False}
CALLBACK_WAYS = {"电话": "phone", "电话回访": "phone", "短信": "sms", "短信回访": "sms"}
URGENCY = {"一般": "normal", "紧急": "urgent", "特急": "critical"}
MAX_IMPORT_ROWS = 5000


def read_work_order_sheet(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # not an xlsx file
        raise ValidationFailed("The file is not an Excel workbook (.xlsx)") from exc
    ws = wb.active
    assert ws is not None
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    keys = [WORK_ORDER_COLUMNS.get(h) for h in header]
    if "order_no" not in keys or "content" not in keys:
        raise ValidationFailed("The sheet needs the columns 工单编号 and 内容 (see the template)")
    out = []
    for values in rows:
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        rec: dict[str, Any] = {}
        for k, v in zip(keys, values, strict=False):
            if k and v is not None and str(v).strip() != "":
                rec[k] = v if k in ("lon", "lat") or (k == "called_at" and isinstance(v, datetime)) else str(v).strip()
        rec["demand_type"] = DEMAND_TYPES.get(rec.get("demand_type", ""), rec.get("demand_type", "complaint"))
        rec["urgency"] = URGENCY.get(rec.get("urgency", ""), rec.get("urgency", "normal"))
        if "callback_needed" in rec:
            rec["callback_needed"] = CALLBACK_NEEDED.get(rec["callback_needed"], rec["callback_needed"])
        if "callback_way" in rec:
            rec["callback_way"] = CALLBACK_WAYS.get(rec["callback_way"], rec["callback_way"])
        out.append(rec)
        if len(out) > MAX_IMPORT_ROWS:
            raise ValidationFailed("At most %(n)s rows per file", n=MAX_IMPORT_ROWS)
    return out


@router.post("/hotline/import")
def import_work_orders(
    request: Request,
    session: WriteSession,
    a: HotlineAuth,
    file: Annotated[UploadFile, File()],
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """Import 12345 work orders from Excel; answers a per-row report (JSON, or an .xlsx with ``format=xlsx``)."""
    rows = read_work_order_sheet(file.file.read(20_000_000))
    report = flows.work_order_rows(session, actor=a.actor, rows=rows)
    audit.record(
        session,
        actor=a.actor,
        action="case.hotline.import",
        detail={
            "rows": len(report),
            "created": sum(r["status"] == "created" for r in report),
            "errors": sum(r["status"] == "error" for r in report),
        },
    )
    if format == "xlsx":
        data = to_xlsx(
            ["row", "order_no", "status", "case_number", "message"],
            [[r["row"], r.get("order_no"), r["status"], r.get("case_number"), r.get("message")] for r in report],
            "report",
        )
        return Response(
            data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="12345-import-report.xlsx"'},
        )
    return {
        "rows": report,
        "created": sum(r["status"] == "created" for r in report),
        "duplicates": sum(r["status"] == "duplicate" for r in report),
        "errors": sum(r["status"] == "error" for r in report),
    }


# -- intake desk ----------------------------------------------------------------------------------

IntakeAuth = Annotated[Auth, Depends(require("case.intake"))]


@router.post("/intake", response_model=schemas.CaseOut, status_code=201)
def take_call(body: schemas.IntakeIn, session: WriteSession, a: IntakeAuth) -> schemas.CaseOut:
    """A call taken at the intake desk becomes an accepted 12345 case with its work-order facts; with
    ``message_case_id`` a web/Open311 message is accepted with the clerk's category and position."""
    case = intake.take(session, actor=a.actor, data=body)
    return flows.case_out(session, case, a.actor)


@router.post("/intake/callers")
def caller_cases(body: schemas.CallerIn, session: WriteSession, a: IntakeAuth) -> list[dict[str, Any]]:
    """The caller's past cases, by the phone number's keyed index (audited as a personal-data read)."""
    return [
        {
            "id": p.id,
            "number": p.number,
            "title": p.title,
            "state": p.state,
            "category_name": p.category_name,
            "reported_at": p.reported_at,
            "is_open": p.is_open,
        }
        for p in intake.past_cases(session, actor=a.actor, phone=body.phone)
    ]


@router.get("/intake/messages", response_model=Paged[schemas.CaseOut])
def waiting_messages(session: ReadSession, a: IntakeAuth) -> Paged[schemas.CaseOut]:
    """Messages from the web and Open311 waiting at the desk to be accepted, oldest first."""
    rows, total = intake.message_queue(session)
    return Paged(
        items=[flows.case_out(session, c, a.actor) for c in rows], total=total, limit=intake.MAX_QUEUE, offset=0
    )


@router.get("/case-phrases")
def list_phrases(session: ReadSession, _: IntakeAuth, category_id: QueryId = None) -> list[dict[str, Any]]:
    """Stock phrases (常用语): the global ones and the category's."""
    return [
        {"id": p.id, "text": p.text, "category_id": p.category_id, "position": p.position}
        for p in intake.phrases(session, category_id=category_id)
    ]


@router.post("/case-phrases", status_code=201)
def add_phrase(
    body: schemas.PhraseIn, session: WriteSession, a: Annotated[Auth, Depends(require("case.configure"))]
) -> dict[str, Any]:
    p = intake.add_phrase(session, actor=a.actor, text=body.text, category_id=body.category_id, position=body.position)
    return {"id": p.id, "text": p.text, "category_id": p.category_id, "position": p.position}


@router.delete("/case-phrases/{phrase_id}", status_code=204)
def remove_phrase(
    phrase_id: PathId, session: WriteSession, a: Annotated[Auth, Depends(require("case.configure"))]
) -> Response:
    intake.remove_phrase(session, actor=a.actor, phrase_id=phrase_id)
    return Response(status_code=204)


# -- evaluation -----------------------------------------------------------------------------------


@router.get("/case-evaluation")
def get_evaluation(
    session: ReadSession,
    _: Annotated[Auth, Depends(require("case.evaluate"))],
    start: schemas.Moment,
    end: schemas.Moment,
    subject: Literal["department", "township", "grid", "person", "registrar", "dispatcher"] = "department",
) -> dict[str, Any]:
    """Indicators (percent), composite score and grade per subject for cases reported in [start, end).
    A date (``2026-11-01``) is the start of that day in the county's time zone; a date-time needs its zone."""
    rows = evaluation.evaluate(session, subject=subject, start=start, end=end)
    weights, grades = evaluation.scheme(session, subject=subject)
    return {
        "subject": subject,
        "weights": weights,
        "grades": grades,
        "rows": [
            {
                "key": r.key,
                "name": r.name,
                "score": r.score,
                "grade": r.grade,
                "rates": r.rates,
                "counts": r.counts.__dict__,
            }
            for r in rows
        ],
    }


@router.put("/case-evaluation/schemes/{subject}")
def set_evaluation_scheme(
    subject: Literal["department", "township", "grid", "person", "registrar", "dispatcher"],
    body: schemas.SchemeIn,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.configure"))],
) -> dict[str, Any]:
    """Weights of the composite score (indicator → weight) and grade thresholds, as data."""
    row = evaluation.set_scheme(
        session,
        actor=a.actor,
        subject=subject,
        weights=body.weights,
        grades=[list(g) for g in body.grades] if body.grades else None,
    )
    return {"subject": row.subject, "weights": row.weights, "grades": row.grades}
