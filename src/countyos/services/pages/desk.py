"""The intake desk (受理台) at ``/services/desk`` for window clerks (窗口人员) and village or township agents
(代办员): pick the matter by name or pinyin initials, find the applicant among earlier applications by
证件号码 or enter a new one, tick the material checklist with a scan or photo per material, submit. The
window's 待受理 queue (``/services/desk/queue``) and the decision on each application
(``/services/desk/applications/{id}``: 受理, 即办, 不予受理, 一次性告知). The printables are ``desk_print``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from countyos.core.clock import to_local, utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.paging import PageParams
from countyos.core.settings import get_settings
from countyos.org.service import audit, departments
from countyos.services import codes, lifecycle
from countyos.services.codes import Audience
from countyos.services.lifecycle import Action
from countyos.services.models import ConsentWay, IdType, MaterialForm, Matter, MatterStatus, MatterVersion
from countyos.services.pages.common import SERVICES
from countyos.services.schemas import ACTION_MODELS, MAX_ID, DeskApplicationIn, DeskStartIn
from countyos.services.service import applications, desk, search
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.errors import FIELD_MESSAGES
from countyos.web.forms import PostedForm, parse, typed
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
WINDOW, AGENT = applications.WINDOW, applications.AGENT
Staff = Annotated[Auth, Depends(authenticated)]
Window = Annotated[Auth, Depends(require(WINDOW))]
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
MATTER_PAGE = 12
QUEUE_PAGE = 50

NAV = [
    NavItem(SERVICES, N_("Intake desk"), "/services/desk", WINDOW, order=100),
    NavItem(SERVICES, N_("Intake desk"), "/services/desk", AGENT, order=100),
    NavItem(SERVICES, N_("Awaiting acceptance"), "/services/desk/queue", WINDOW, order=101),
]
audit.name_codes(
    actions={
        "services.application.lookup": N_("Earlier applications looked up by ID number"),
    },
)

ID_TYPE_LABELS: dict[str, str] = {
    IdType.RESIDENT_ID: N_("Resident ID card"),
    IdType.PASSPORT: N_("Passport"),
    IdType.HK_MACAO_PERMIT: N_("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT: N_("Mainland travel permit for Taiwan residents"),
    IdType.FOREIGN_RESIDENT: N_("Foreigner's permanent residence ID card"),
    IdType.USCC: N_("Unified social credit code"),
    IdType.OTHER: N_("Other document"),
}
CONSENT_LABELS: dict[str, str] = {
    ConsentWay.SIGNED_FORM: N_("Signed letter of authorisation"),
    ConsentWay.PHONE: N_("Confirmed by phone"),
    ConsentWay.IN_PERSON: N_("Confirmed in person"),
}
FORM_LABELS: dict[str, str] = {
    MaterialForm.ORIGINAL: N_("Original"),
    MaterialForm.COPY: N_("Copy"),
    MaterialForm.ELECTRONIC: N_("Electronic"),
}
LABELS: dict[str, Any] = {
    "id_type_labels": ID_TYPE_LABELS,
    "consent_labels": CONSENT_LABELS,
    "form_labels": FORM_LABELS,
    "audience_labels": codes.LABELS[Audience],
    "kind_labels": codes.LABELS[codes.ApplicationKind],
    "unit_labels": codes.LABELS[codes.TimeLimitUnit],
    "state_labels": lifecycle.LABELS,
    "action_labels": lifecycle.ACTION_LABELS,
    "decision_labels": lifecycle.DECISION_LABELS,
}
SCALARS = ("applicant_name", "applicant_kind", "id_type", "id_number", "phone", "address")
CONSENT = ("consent_by", "consent_way", "consent_at", "consent_note")
DESK_ACTIONS = (Action.ACCEPT, Action.ACCEPT_IMMEDIATE, Action.REJECT, Action.REQUEST_CORRECTION)
# The desk opened from elsewhere (a window appointment of the residents' portal, ``desk_start``): the
# applicant's name and phone filled in, and ``then``, a path of this site where the clerk goes with the
# new application's id.
THEN_PATTERN = r"^/[A-Za-z0-9_-][A-Za-z0-9/_-]{0,249}$"  # a path of this site, never //host


def _then(value: str) -> str:
    return value if re.fullmatch(THEN_PATTERN, value or "") else ""


def _desk_user(a: Auth) -> None:
    if not desk.may_use(a.actor):
        raise NotFound(N_("The intake desk is for window clerks and agents"))


def _is_agent(a: Auth) -> bool:
    """An agent's submissions need the applicant's consent (a window clerk acts as the window)."""
    return a.actor.can(AGENT) and not a.actor.can(WINDOW)


def _matter(session: Session, matter_id: int | None) -> tuple[Matter, MatterVersion] | None:
    if matter_id is None:
        return None
    m = session.get(Matter, matter_id)
    if m is None or m.status != MatterStatus.PUBLISHED or m.current is None:
        return None
    return m, m.current


def _local_now() -> str:
    return to_local(utcnow(), get_settings().timezone).strftime("%Y-%m-%d %H:%M")


def _fresh(agent: bool) -> dict[str, Any]:
    return {"applicant_kind": "person", "id_type": "resident_id", "consent_at": _local_now() if agent else ""}


def _desk_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    q: str = "",
    matter_id: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    done: Any = None,
    status_code: int = 200,
    then: str = "",
) -> Response:
    chosen = _matter(session, matter_id)
    hits: list[search.Entry] = []
    total = 0
    if q or chosen is None:
        f = search.MatterFilter(q=q or None, status=MatterStatus.PUBLISHED)
        hits, total = search.search(session, f, PageParams(limit=MATTER_PAGE, offset=0))
    agent = _is_agent(a)
    return templates(request).render(
        request,
        "services/desk/desk.html",
        {
            "q": q,
            "hits": hits,
            "total": total,
            "matter": chosen[0] if chosen else None,
            "v": chosen[1] if chosen else None,
            "values": values if values is not None else _fresh(agent),
            "errors": errors or {},
            "message": message,
            "done": done,
            "awaiting": desk.awaiting_corrections(session, actor=a.actor) if chosen is None else [],
            "agent": agent,
            "window": a.actor.can(WINDOW),
            "audiences": list(Audience),
            "id_types": list(IdType),
            "consent_ways": list(ConsentWay),
            "material_forms": list(MaterialForm),
            "max_file_mb": applications.MAX_FILE_BYTES // 1_000_000,
            "then": _then(then),
            **LABELS,
        },
        status_code=status_code,
    )


@router.get("/services/desk")
def desk_page(
    request: Request,
    session: ReadSession,
    a: Staff,
    q: Annotated[str, Query(max_length=search.MAX_QUERY)] = "",
    matter_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    done: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The desk: search matters; with ``matter_id`` the application form for it; ``done``: the
    application just submitted, with its number and what to do next."""
    _desk_user(a)
    made = applications.get(session, actor=a.actor, application_id=done) if done is not None else None
    return _desk_page(request, session, a, q=q, matter_id=matter_id, done=made)


@router.post("/services/desk/start")
def desk_start(request: Request, session: ReadSession, a: Staff, form: PostedForm) -> Response:
    """The desk's form for a matter with the applicant's name and phone filled in and ``then`` where to
    go once it is submitted (``DeskStartIn``: posted by a window appointment's page, so that the name
    and phone never stand in an address). Writes nothing."""
    _desk_user(a)
    try:
        start = parse(DeskStartIn, typed(form, DeskStartIn.model_fields), empty_is_none=True)
    except PydanticValidationError:
        return _desk_page(
            request, session, a, message=translate(request, N_("Choose the matter first")), status_code=422
        )
    filled = {k: v.strip() for k, v in (("applicant_name", start.applicant_name), ("phone", start.phone)) if v.strip()}
    values = {**_fresh(_is_agent(a)), **filled}
    return _desk_page(request, session, a, matter_id=start.matter_id, values=values, then=start.then)


def _typed(form: FormData, version: MatterVersion) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in (*SCALARS, *CONSENT):
        value = form.get(name)
        values[name] = value if isinstance(value, str) else ""
    for m in version.materials:
        for part in ("received", "form", "count"):
            value = form.get(f"mat-{m.id}-{part}")
            values[f"mat-{m.id}-{part}"] = value if isinstance(value, str) else ""
    return values


def _local_time(text: str) -> datetime | str:
    """A county time typed as 2026-12-03 09:30 → an aware datetime (else the text, refused by the model)."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        return text
    return naive.replace(tzinfo=ZoneInfo(get_settings().timezone))


def _payload(values: dict[str, Any], matter_id: int, version: MatterVersion, agent: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"matter_id": matter_id, "draft": True}
    data.update({k: values[k].strip() for k in SCALARS if values[k].strip()})
    if agent or any(values[k].strip() for k in CONSENT if k != "consent_at"):
        consent = {
            "given_by": values["consent_by"],
            "way": values["consent_way"],
            "at": _local_time(values["consent_at"]),
            "note": values["consent_note"].strip() or None,
        }
        data["consent"] = consent
    mats = []
    for m in version.materials:
        count = values[f"mat-{m.id}-count"].strip()
        ticked = values[f"mat-{m.id}-received"] == "1"
        guide_form = MaterialForm.ORIGINAL if m.originals else MaterialForm.COPY  # what the guide asks for
        mats.append(
            {
                "material_id": m.id,
                "received": ticked,
                "form": values[f"mat-{m.id}-form"] or (str(guide_form) if ticked else None),
                "count": count or (1 if values[f"mat-{m.id}-received"] == "1" else 0),
            }
        )
    data["materials"] = mats
    return data


def _field(loc: tuple[Any, ...] | list[Any], version: MatterVersion) -> str:
    """The form field for an error location of ``DeskApplicationIn`` (``consent.at`` → ``consent_at``)."""
    parts = [str(p) for p in loc]
    if not parts:
        return ""
    if parts[0] == "consent":
        return "consent_" + {"given_by": "by", "way": "way", "at": "at", "note": "note"}.get(
            parts[1] if len(parts) > 1 else "given_by", "by"
        )
    if parts[0] == "materials" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(version.materials):
        mid = version.materials[int(parts[1])].id
        part = parts[2] if len(parts) > 2 and parts[2] in ("form", "count", "received") else "received"
        return f"mat-{mid}-{part}"
    return parts[0]


def _errors(request: Request, exc: Exception, version: MatterVersion, id_type: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(exc, PydanticValidationError):
        for e in exc.errors():
            name = _field(e["loc"], version)
            message = FIELD_MESSAGES.get(e["type"], N_("Not valid"))
            if name == "id_number" and e["type"] == "value_error":
                message = (
                    N_("Not a valid unified social credit code: check the 18 characters")
                    if id_type == IdType.USCC
                    else N_("Not a valid resident ID number: check the date of birth and the last character")
                )
            if name == "consent_at" and e["type"] != "missing":
                message = N_("A date and time such as 2026-12-03 09:30")
            out.setdefault(name, translate(request, message))
    elif isinstance(exc, CountyError):
        for e in getattr(exc, "errors", None) or []:
            name = _field(str(e.get("field") or "").split("."), version)
            out.setdefault(name, str(e.get("message") or translate(request, N_("Not valid"))))
    return out


def _files(form: FormData, version: MatterVersion) -> list[tuple[int, bytes, str]]:
    """The scans and photos sent with the form, one per material at most, each bounded."""
    out: list[tuple[int, bytes, str]] = []
    for m in version.materials:
        f = form.get(f"mat-{m.id}-file")
        if not isinstance(f, UploadFile) or not f.filename:
            continue
        data = f.file.read(applications.MAX_FILE_BYTES + 1)
        if len(data) > applications.MAX_FILE_BYTES:
            msg, mb = N_("A file may be at most %(mb)s MB"), applications.MAX_FILE_BYTES // 1_000_000
            raise ValidationFailed(msg, mb=mb, errors=[{"field": f"mat-{m.id}-file", "message": gettext(msg, mb=mb)}])
        if data:
            out.append((m.id, data, f.filename[:200]))
    return out


@router.post("/services/desk")
def submit(request: Request, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    """Create the application with its materials and files, then submit it; on any problem the desk
    comes back with what was typed and each message beside its field (files must be chosen again)."""
    _desk_user(a)
    raw = str(form.get("matter_id") or "")
    chosen = _matter(session, int(raw) if raw.isdigit() and int(raw) <= MAX_ID else None)
    if chosen is None:
        msg = translate(request, N_("Choose the matter first"))
        return _desk_page(request, session, a, message=msg, status_code=422)
    matter, version = chosen
    agent = _is_agent(a)
    values = _typed(form, version)
    errors: dict[str, str] = {}
    try:
        try:
            data = DeskApplicationIn.model_validate(_payload(values, matter.id, version, agent))
        except PydanticValidationError as exc:
            errors = _errors(request, exc, version, values["id_type"])
            raise ValidationFailed(N_("Please correct the marked fields")) from exc
        files = _files(form, version)
        app = applications.create(session, actor=a.actor, data=data)
        for material_id, blob, name in files:
            try:
                applications.attach_material(
                    session, actor=a.actor, application_id=app.id, material_id=material_id, data=blob, name=name
                )
            except ValidationFailed as exc:
                errors[f"mat-{material_id}-file"] = exc.message
                raise
        model = ACTION_MODELS[Action.SUBMIT]
        applications.act(
            session, actor=a.actor, application_id=app.id, action=Action.SUBMIT, data=model(version=app.version)
        )
    except CountyError as exc:
        session.rollback()
        errors = {**_errors(request, exc, version, values["id_type"]), **errors}
        if any(k.endswith("-file") for k in errors) or any(
            isinstance(f := form.get(f"mat-{m.id}-file"), UploadFile) and f.filename for m in version.materials
        ):
            errors.setdefault("files", translate(request, N_("Choose the files again before submitting")))
        return _desk_page(
            request,
            session,
            a,
            matter_id=matter.id,
            values=values,
            errors=errors,
            message=exc.message,
            status_code=exc.status,
            then=str(form.get("then") or ""),
        )
    then = _then(str(form.get("then") or ""))
    return redirect(
        f"{then}?application={app.id}" if then else f"/services/desk?done={app.id}",
        flash=translate(request, "Application %(number)s submitted", number=app.number),
    )


@router.post("/services/desk/applicants")
def applicants(request: Request, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    """Earlier applications of the typed 证件号码 (a fragment of the desk), by its keyed index; audited."""
    _desk_user(a)
    number = str(form.get("id_number") or "")[:40]
    rows: list[desk.EarlierApplicant] = []
    error = None
    try:
        rows = desk.earlier_applicants(session, actor=a.actor, id_number=number)
    except ValidationFailed as exc:
        session.rollback()
        error = str((exc.errors or [{}])[0].get("message") or exc.message)
    return templates(request).render(
        request, "services/desk/_applicants.html", {"rows": rows, "error": error, "looked_up": bool(number), **LABELS}
    )


# ── the 待受理 queue and the decision ────────────────────────────────────────────────────────────────


def _opt_id(value: str) -> int | None:
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_ID else None


@router.get("/services/desk/queue")
def queue_page(
    request: Request,
    session: ReadSession,
    a: Window,
    matter_id: Annotated[str, Query(max_length=10)] = "",
    department_id: Annotated[str, Query(max_length=10)] = "",
    mine: Annotated[bool, Query()] = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Applications waiting for the window's decision, the longest waiting first."""
    rows, total = desk.queue(
        session,
        actor=a.actor,
        matter_id=_opt_id(matter_id),
        department_id=_opt_id(department_id),
        at_my_window=mine,
        limit=QUEUE_PAGE,
        offset=offset,
    )
    deps = {d.id: d.name for d in departments.all_active(session)}
    matters = search.search(session, search.MatterFilter(status=MatterStatus.PUBLISHED), PageParams(limit=500))[0]
    query = {"matter_id": matter_id, "department_id": department_id, "mine": "1" if mine else ""}
    return templates(request).render(
        request,
        "services/desk/queue.html",
        {
            "rows": rows,
            "total": total,
            "offset": offset,
            "limit": QUEUE_PAGE,
            "query": query,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "deps": deps,
            "departments": sorted(deps.items(), key=lambda t: t[1]),
            "matters": matters,
            "now": utcnow(),
            **LABELS,
        },
    )


def _decide_page(
    request: Request,
    session: Session,
    a: Auth,
    app_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    app = applications.get(session, actor=a.actor, application_id=app_id)
    version = applications.version_of(session, app)
    allowed = applications.allowed_actions(session, a.actor, app)
    draft = desk.correction_draft(session, app)
    return templates(request).render(
        request,
        "services/desk/decide.html",
        {
            "app": app,
            "v": version,
            "allowed": [x for x in allowed if x in DESK_ACTIONS],
            "values": {
                "note": draft,
                "result_name": version.result_name or "",
                "decision": "granted",
                **{k: val for k, val in (values or {}).items() if val},
            },
            "errors": errors or {},
            "message": message,
            "missing": applications.missing_materials(app),
            "id_number": applications.shown_id_number(a.actor, app),
            "phone": applications.shown_phone(a.actor, app),
            "address": app.address if applications.sees_pii(a.actor, app) else None,
            "has_notice": desk.correction_notice(session, app) is not None,
            "immediate": str(version.application_kind) == "immediate",
            **LABELS,
        },
        status_code=status_code,
    )


@router.get("/services/desk/applications/{application_id}")
def decide_page(request: Request, application_id: AppId, session: ReadSession, a: Window) -> Response:
    """One application at the window: its applicant and materials, and the decisions allowed now."""
    return _decide_page(request, session, a, application_id)


def _action_body(action: Action, values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"version": values["version"] or "0"}
    if values["note"].strip():
        body["note"] = values["note"]
    if action is Action.REJECT:
        body["reason"] = values["reason"]
    if action is Action.ACCEPT_IMMEDIATE:
        result: dict[str, Any] = {"decision": values["decision"]}
        if values["decision"] == "granted":
            result["result_name"] = values["result_name"].strip() or None
            result["result_number"] = values["result_number"].strip() or None
            until = values["valid_until"].strip()
            if until:
                result["valid_until"] = _local_time(until + " 23:59") if len(until) == 10 else until
        body["result"] = result
    return body


def _allowed_message(request: Request, allowed: list[str]) -> str:
    labels = [translate(request, lifecycle.ACTION_LABELS[x]) for x in allowed if x in lifecycle.ACTION_LABELS]
    if not labels:
        return translate(request, N_("Nothing can be done on it now."))
    return translate(request, N_("Allowed now: %(actions)s"), actions="、".join(labels))


@router.post("/services/desk/applications/{application_id}/{action}")
def decide(
    request: Request,
    application_id: AppId,
    action: Annotated[str, Path(max_length=24)],
    session: WriteSession,
    a: Window,
    form: PostedForm,
) -> Response:
    """受理 / 即办 / 不予受理 / 一次性告知 through ``applications.act``; a refusal comes back on the page with
    what was typed, and a 409 names what is allowed now."""
    if action not in {str(x) for x in DESK_ACTIONS}:
        raise NotFound(N_("No such action"))
    act = Action(action)
    names = ("version", "note", "reason", "decision", "result_name", "result_number", "valid_until")
    values = {n: v if isinstance(v := form.get(n), str) else "" for n in names}
    errors: dict[str, str] = {}
    try:
        try:
            data = ACTION_MODELS[act].model_validate(_action_body(act, values))
        except PydanticValidationError as exc:
            for e in exc.errors():
                loc = [str(p) for p in e["loc"]]
                name = loc[-1] if loc and loc[0] == "result" else (loc[0] if loc else "")
                name = "result_name" if name == "result" else name
                errors.setdefault(name, translate(request, FIELD_MESSAGES.get(e["type"], N_("Not valid"))))
            raise ValidationFailed(N_("Please correct the marked fields"), errors=[]) from exc
        app = applications.act(session, actor=a.actor, application_id=application_id, action=act, data=data)
    except lifecycle.TransitionNotAllowed as exc:
        session.rollback()
        text = f"{exc.message} {_allowed_message(request, exc.allowed)}"
        return _decide_page(request, session, a, application_id, values=values, message=text, status_code=409)
    except applications.ActionForbidden as exc:
        session.rollback()
        text = f"{exc.message} {_allowed_message(request, exc.allowed)}"
        return _decide_page(request, session, a, application_id, values=values, message=text, status_code=403)
    except CountyError as exc:
        session.rollback()
        for e in getattr(exc, "errors", None) or []:
            errors.setdefault(str(e.get("field") or "").split(".")[0], str(e.get("message") or ""))
        return _decide_page(
            request,
            session,
            a,
            application_id,
            values=values,
            errors=errors,
            message=exc.message,
            status_code=exc.status,
        )
    done = {
        Action.ACCEPT: N_("Accepted: %(number)s"),
        Action.ACCEPT_IMMEDIATE: N_("Accepted and concluded at once: %(number)s"),
        Action.REJECT: N_("Not accepted: %(number)s"),
        Action.REQUEST_CORRECTION: N_("Correction notice sent: %(number)s"),
    }[act]
    return redirect(
        f"/services/desk/applications/{app.id}", flash=translate(request, done, number=app.receipt_number or app.number)
    )
