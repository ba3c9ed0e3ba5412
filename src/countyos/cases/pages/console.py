"""Staff pages: dispatcher console, department inbox, case detail with its actions, supervision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response

from countyos.cases import flows, lifecycle
from countyos.cases.lifecycle import Action
from countyos.cases.models import Case, Satisfaction, SupervisionLevel
from countyos.cases.pages import evidence, labels, mobile
from countyos.cases.pages.nostore import form_data, page_router
from countyos.cases.service import attachments, cases, duplicates, people, routing, timers, transitions
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import PageParams
from countyos.org.service import departments, users
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = page_router()

# Labels that templates look up in small dicts (marked here so that they are extracted).
TEMPLATE_LABELS = (
    N_("On time"),
    N_("Due soon"),
    N_("Overdue"),
    N_("Clock stopped"),
    N_("No clock"),
    N_("Urgent"),
    N_("Critical"),
    N_("Created"),
    N_("Already imported"),
    N_("Error"),
    N_("Score"),
    N_("Closure rate"),
    N_("Closed on time"),
)

QUEUES: list[tuple[str, str, dict[str, Any]]] = [
    ("all", N_("All open"), {"open": True}),
    ("red", N_("Overdue"), {"level": "red"}),
    ("yellow", N_("Due soon"), {"level": "yellow"}),
    ("reported", N_("To accept"), {"state": "reported"}),
    ("accepted", N_("To register"), {"state": "accepted,verifying"}),
    ("registered", N_("To dispatch"), {"state": "registered"}),
    ("handling", N_("With departments"), {"state": "dispatched,handling,extension_requested,suspension_requested"}),
    (
        "approvals",
        N_("Awaiting approval"),
        {"state": "return_requested,extension_requested,suspension_requested,void_requested"},
    ),
    ("checking", N_("To check and close"), {"state": "feedback,checking,checked"}),
    ("feedback", N_("To send for checking"), {"state": "feedback"}),
    ("checked", N_("To close"), {"state": "checked"}),
    ("duplicates", N_("Suspected duplicates"), {"duplicates": True}),
    ("closed", N_("Closed"), {"open": False}),
]


def _dep_names(session: Any) -> dict[int, str]:
    return {d.id: d.name for d in departments.all_active(session)}


def _list_page(
    request: Request,
    session: Any,
    a: Auth,
    *,
    title: str,
    queue: str,
    f: cases.CaseFilter,
    limit: int,
    offset: int,
    template: str = "cases/console.html",
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    from countyos.cases.pages.batch import offered_actions

    now = utcnow()
    rows, total = cases.list_cases(session, actor=a.actor, f=f, page=PageParams(limit, offset), now=now)
    deps = _dep_names(session)
    suggestions = {}
    for c in rows:
        if c.state == lifecycle.State.REGISTERED:
            sug = routing.suggest(session, category=c.category, township_code=c.township_code, grid_code=c.grid_code)
            suggestions[c.id] = sug.department_id if sug else None
    ctx = {
        "title": title,
        "rows": rows,
        "total": total,
        "limit": limit,
        "offset": offset,
        "queue": queue,
        "queues": QUEUES,
        "counts": cases.queue_counts(session, actor=a.actor, now=now),
        "levels": {c.id: str(timers.level(c, now)) for c in rows},
        "labels": lifecycle.LABELS,
        "deps": deps,
        "departments": sorted(deps.items(), key=lambda kv: kv[1]),
        "suggestions": suggestions,
        "can_dispatch": a.actor.can("case.dispatch"),
        "base_query": urlencode({"queue": queue, **({"q": f.q} if f.q else {})}),
        "q": f.q or "",
        "batch_actions": offered_actions(a.actor),
        "sup_levels": lifecycle.SUPERVISION_LABELS,
        "batch": None,
        "batch_errors": {},
        "batch_typed": {},
    }
    ctx.update(extra or {})
    return templates(request).render(request, template, ctx, status_code=status_code)


@router.get("/cases")
def console(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("case.read"))],
    queue: str = "all",
    q: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The dispatcher console: queues by step and urgency, overdue first, a map beside the list."""
    spec: dict[str, Any] = dict(next((x[2] for x in QUEUES if x[0] == queue), QUEUES[0][2]))
    f = cases.CaseFilter(q=q or None, **spec)
    return _list_page(request, session, a, title="Dispatcher console", queue=queue, f=f, limit=limit, offset=offset)


@router.get("/cases/inbox")
def inbox(
    request: Request,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("case.read"))],
    queue: str = "all",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The department's open cases (main or co-handling), overdue first."""
    f = cases.CaseFilter(open=True, department_id=a.actor.department_id if not cases.sees_all(a.actor) else None)
    if cases.sees_all(a.actor) and a.actor.department_id is not None:
        f = cases.CaseFilter(open=True, department_id=a.actor.department_id)
    return _list_page(request, session, a, title="Department inbox", queue="inbox", f=f, limit=limit, offset=offset)


@router.get("/cases/map.geojson")
def map_features(
    session: ReadSession, a: Annotated[Auth, Depends(require("case.read"))], queue: str = "all"
) -> JSONResponse:
    """The visible open cases of a queue as GeoJSON points (for the console map)."""
    now = utcnow()
    spec: dict[str, Any] = dict(next((x[2] for x in QUEUES if x[0] == queue), QUEUES[0][2]))
    rows, _ = cases.list_cases(session, actor=a.actor, f=cases.CaseFilter(**spec), page=PageParams(500, 0), now=now)
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {"id": c.id, "number": c.number, "title": c.title, "level": str(timers.level(c, now))},
        }
        for c in rows
        if c.lon is not None and c.lat is not None
    ]
    return JSONResponse({"type": "FeatureCollection", "features": feats})


@router.get("/cases/supervision")
def supervision(
    request: Request, session: ReadSession, a: Annotated[Auth, Depends(require("case.supervise"))]
) -> Response:
    """The 值班长's view: overdue and due-soon cases, requests awaiting approval, suspended cases."""
    now = utcnow()
    sections = []
    for key, label, spec in (
        ("red", N_("Overdue"), {"level": "red"}),
        ("yellow", N_("Due soon"), {"level": "yellow"}),
        (
            "approvals",
            N_("Awaiting approval"),
            {"state": "extension_requested,suspension_requested,void_requested,return_requested"},
        ),
        ("suspended", N_("Suspended"), {"state": "suspended"}),
    ):
        rows, total = cases.list_cases(
            session, actor=a.actor, f=cases.CaseFilter(**dict[str, Any](spec)), page=PageParams(100, 0), now=now
        )
        sections.append((key, label, rows, total))
    from sqlalchemy import select

    from countyos.cases.models import Supervision

    recent = list(session.scalars(select(Supervision).order_by(Supervision.at.desc()).limit(30)))
    by_id: dict[int, Case | None] = {c.id: c for _, _, rows, _ in sections for c in rows}
    for sup in recent:
        if sup.case_id not in by_id:
            by_id[sup.case_id] = session.get(Case, sup.case_id)
    return templates(request).render(
        request,
        "cases/supervision.html",
        {
            "sections": sections,
            "labels": lifecycle.LABELS,
            "deps": _dep_names(session),
            "recent": recent,
            "cases_by_id": by_id,
            "sup_labels": lifecycle.SUPERVISION_LABELS,
            "levels": {c.id: str(timers.level(c, now)) for c in by_id.values() if c},
        },
    )


ACTION_FIELDS: dict[Action, tuple[str, ...]] = {
    Action.DISPATCH: ("department", "comment"),
    Action.REDISPATCH: ("department", "comment"),
    Action.SEND_VERIFY: ("assignee", "comment"),
    Action.SEND_CHECK: ("assignee", "comment"),
    Action.VERIFY: ("result", "photos", "comment"),  # the problem as found on the ground (before)
    Action.REQUEST_EXTENSION: ("amount", "comment"),
    Action.APPROVE_EXTENSION: ("comment",),
    Action.RATE: ("satisfaction", "comment"),
    Action.SUPERVISE: ("level", "comment"),
    Action.MERGE: ("target", "comment"),
    Action.RELOCATE: ("position", "comment"),
    Action.FEEDBACK: ("photos", "comment"),
    Action.CHECK_PASS: ("photos", "comment"),
    Action.CHECK_FAIL: ("photos", "comment"),
}

# Keyboard shortcuts of the case page (never while typing in a field): a key opens the form of the
# first of its actions the person may take now. The dispatcher's frequent actions come first.
SHORTCUTS: tuple[tuple[str, tuple[Action, ...]], ...] = (
    ("a", (Action.ACCEPT,)),
    ("g", (Action.REGISTER,)),
    ("d", (Action.DISPATCH, Action.REDISPATCH)),
    ("r", (Action.APPROVE_RETURN, Action.REQUEST_RETURN)),
    ("x", (Action.REJECT,)),
    ("v", (Action.SEND_VERIFY, Action.VERIFY)),
    ("k", (Action.SEND_CHECK, Action.CHECK_PASS)),
    ("f", (Action.FEEDBACK,)),
    ("l", (Action.CLOSE,)),
    ("m", (Action.MERGE,)),
    ("s", (Action.SUPERVISE,)),
    ("c", (Action.COMMENT,)),
)


def shortcuts_for(allowed: list[str]) -> dict[str, str]:
    """Action → key for the actions allowed now (each key to the first of its actions allowed)."""
    out: dict[str, str] = {}
    for key, actions in SHORTCUTS:
        first = next((str(a) for a in actions if str(a) in allowed and str(a) not in out), None)
        if first is not None:
            out[first] = key
    return out


@router.get("/cases/{case_id:int}")
def detail(
    request: Request,
    case_id: int,
    session: ReadSession,
    a: Annotated[Auth, Depends(require("case.read"))],
    act: Annotated[str | None, Query(max_length=24)] = None,
) -> Response:
    """The case page; ``act`` opens that action's form (the buttons' link when scripts are off)."""
    case = cases.get_visible(session, actor=a.actor, case_id=case_id)
    return _detail_page(request, session, a, case, opened=act)


def _detail_page(
    request: Request,
    session: Any,
    a: Auth,
    case: Case,
    form: ActionForm | None = None,
    status_code: int = 200,
    opened: str | None = None,
) -> Response:
    """The case page; FORM is an action form sent back with what was typed and its errors."""
    now = utcnow()
    allowed = transitions.allowed_actions(session, a.actor, case)
    sug = routing.suggest(session, category=case.category, township_code=case.township_code, grid_code=case.grid_code)
    inspectors = people.holders(session, permission="case.inspect")
    timeline = cases.timeline(session, case_id=case.id)
    deps = _dep_names(session)
    if form is not None:
        opened = form.action
    elif opened not in allowed:
        opened = allowed[0] if allowed else None
    return templates(request).render(
        request,
        "cases/detail.html",
        {
            "c": case,
            "level": str(timers.level(case, now)),
            "remaining": timers.remaining(case, now),
            "labels": lifecycle.LABELS,
            "action_labels": lifecycle.ACTION_LABELS,
            "allowed": allowed,
            "opened": opened,
            "shortcuts": shortcuts_for(allowed),
            "fields": {str(k): v for k, v in ACTION_FIELDS.items()},
            "photo_needed": {x: attachments.required_stage(case.category, x) is not None for x in allowed},
            "timeline": timeline,
            "actors": _actors(session, timeline, deps),
            "evidence": attachments.before_after(session, case_id=case.id),
            **evidence.context(),
            "can_publish": a.actor.can("case.intake"),
            "related": duplicates.related(session, case=case, visible=cases.visibility(session, a.actor), now=now),
            "reporters": cases.reporters(session, case_id=case.id),
            "masked": people.masked,
            "mask_name": people.mask_name,
            "deps": deps,
            "departments": sorted(deps.items(), key=lambda kv: kv[1]),
            "suggested": sug.department_id if sug else None,
            "inspectors": inspectors,
            "satisfactions": list(Satisfaction),
            "levels": list(SupervisionLevel),
            "duplicate": cases.get(session, case_id=case.duplicate_of_id) if case.duplicate_of_id else None,
            "out": flows.case_out(session, case, a.actor, now),
            "sat_labels": lifecycle.SATISFACTION_LABELS,
            "sup_labels": lifecycle.SUPERVISION_LABELS,
            "form": form,
            **labels.ALL,
        },
        status_code=status_code,
    )


def _actors(session: Any, timeline: list[Any], deps: dict[int, str]) -> dict[int, str]:
    """Who acted on each event, as people read it: "display name · department"."""
    found = users.colleagues(session, user_ids=(e.actor_id for e in timeline))
    return {
        uid: f"{p.display_name} · {deps[p.department_id]}" if p.department_id in deps else p.display_name
        for uid, p in found.items()
    }


@dataclass
class ActionForm:
    """An action form sent back: which action, what was typed, the message of each wrong field."""

    action: str
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    case_id: int | None = None


# A pydantic error's type → a message a person reads beside the field.
FIELD_MESSAGES = {
    "missing": N_("Required"),
    "float_parsing": N_("Not a number"),
    "int_parsing": N_("Not a number"),
    "finite_number": N_("Not a number"),
    "greater_than": N_("Out of range"),
    "greater_than_equal": N_("Out of range"),
    "less_than": N_("Out of range"),
    "less_than_equal": N_("Out of range"),
    "string_too_long": N_("Too long"),
    "enum": N_("Not one of the choices"),
    "literal_error": N_("Not one of the choices"),
    "bool_parsing": N_("Not one of the choices"),
}


@router.post("/cases/{case_id:int}/act")
def act(
    request: Request,
    case_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.read"))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """One action from a page (the console's one-click dispatch, the case page's forms, the mobile
    tasks), parsed by the API's model, with the photos sent beside it. A wrong field is shown beside
    it with what was typed (the case page and the phone's task page); the console answers with a message."""
    back = str(form.get("back") or "")
    url = back if back.startswith("/cases") or back.startswith("/m/") else None
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str) and k not in ("csrf_token", "back")}
    sent = ActionForm(action=str(form.get("action") or ""), values=typed, case_id=case_id)
    try:
        cases.get_visible(session, actor=a.actor, case_id=case_id)
        try:
            data = flows.action_from_form(form)
        except PydanticValidationError as exc:
            sent.errors = {
                str(e["loc"][0]): translate(request, FIELD_MESSAGES.get(e["type"], N_("Not valid")))
                for e in exc.errors()
                if e["loc"]
            }
            raise ValidationFailed("Please correct the marked fields") from exc
        files, stamp = flows.photos_from_form(form)
        case = flows.act_with_photos(session, actor=a.actor, case_id=case_id, data=data, files=files, stamp=stamp)
    except CountyError as exc:
        session.rollback()
        for e in getattr(exc, "errors", None) or []:
            if e.get("field"):
                sent.errors.setdefault(str(e["field"]), translate(request, str(e.get("message") or N_("Not valid"))))
        if url is None and isinstance(exc, NotFound):
            raise
        sent.message = exc.message
        if url is not None and url.startswith("/m/tasks") and not isinstance(exc, NotFound):
            return mobile.tasks_page(request, session, a, form=sent, status_code=exc.status)
        if url is not None:
            detail = "; ".join(sent.errors.values())
            return redirect(url, flash=exc.message + (f" ({detail})" if detail else ""), kind="error")
        current = cases.get_visible(session, actor=a.actor, case_id=case_id)
        return _detail_page(request, session, a, current, form=sent, status_code=exc.status)
    return redirect(
        url or f"/cases/{case_id}",
        flash=translate(
            request,
            "%(number)s: %(state)s",
            number=case.number or "",
            state=translate(request, lifecycle.LABELS[case.state]),
        ),
    )


@router.post("/cases/{case_id:int}/attachments/{attachment_id:int}/publish")
def publish_attachment(
    request: Request,
    case_id: int,
    attachment_id: int,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.intake"))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Show a file with the public record of the request, or withdraw it (audited)."""
    att = flows.visible_attachment(session, actor=a.actor, attachment_id=attachment_id)
    if att.case_id != case_id:
        raise NotFound("Attachment %(id)s does not exist", id=attachment_id)
    public = form.get("public") == "1"
    flows.publish_attachment(session, actor=a.actor, attachment_id=att.id, public=public)
    message = N_("The file is shown with the public record") if public else N_("The file is for staff only")
    return redirect(f"/cases/{case_id}", flash=translate(request, message))


@router.post("/cases/{case_id:int}/keep-apart")
def keep_apart(
    request: Request, case_id: int, session: WriteSession, a: Annotated[Auth, Depends(require("case.dispatch"))]
) -> Response:
    transitions.keep_apart(session, actor=a.actor, case_id=case_id)
    return redirect(f"/cases/{case_id}", flash=translate(request, "Kept as a separate case"))
