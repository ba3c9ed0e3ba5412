"""The intake desk (受理台) at /cases/intake: a call or a web message becomes an accepted case in one
form; the caller's past cases by phone number, place and category search, stock phrases, Ctrl+Enter.
Its stock phrases are edited at /cases/intake/phrases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response

from countyos.cases import lifecycle
from countyos.cases.models import CallbackWay, DemandType, Priority
from countyos.cases.pages import labels
from countyos.cases.pages.nostore import form_data, page_router
from countyos.cases.schemas import IntakeIn
from countyos.cases.service import cases, categories, intake, people
from countyos.core.clock import to_local, utcnow
from countyos.core.crypto import new_token
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.web.deps import Auth, ReadSession, WriteSession, require
from countyos.web.templating import redirect, templates, translate

router = page_router()
Clerk = Annotated[Auth, Depends(require("case.intake"))]
Configurer = Annotated[Auth, Depends(require("case.configure"))]

# A pydantic error's type → the message a clerk reads beside the field.
FIELD_MESSAGES = {
    "missing": N_("Required"),
    "float_parsing": N_("Not a number"),
    "int_parsing": N_("Not a number"),
    "greater_than_equal": N_("Out of range"),
    "less_than_equal": N_("Out of range"),
    "string_too_long": N_("Too long"),
    "string_too_short": N_("Too short"),
    "enum": N_("Not one of the choices"),
    "literal_error": N_("Not one of the choices"),
    "bool_parsing": N_("Not one of the choices"),
    "datetime_from_date_parsing": N_("Not a date and time"),
    "value_error": N_("Not a date and time"),
}
CHECKBOXES = frozenset({"callback_needed"})


def intake_from_form(form: FormData) -> IntakeIn:
    """The API's model from the desk's form: the same field names; empty fields are left out."""
    raw: dict[str, Any] = {}
    for name in IntakeIn.model_fields:
        value = form.get(name)
        if name in CHECKBOXES:
            raw[name] = value in ("1", "on", "true")
            continue
        if isinstance(value, str) and value.strip():
            raw[name] = value if name == "description" else value.strip()
    return IntakeIn.model_validate(raw)


def _now_local() -> str:
    return to_local(utcnow(), get_settings().timezone).strftime("%Y-%m-%d %H:%M")


def _desk(
    request: Request,
    session: Any,
    a: Auth,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    done: Any = None,
    status_code: int = 200,
) -> Response:
    queue, waiting = intake.message_queue(session)
    chosen = None
    cat_id = values.get("category_id")
    if isinstance(cat_id, str) and cat_id.isdigit():
        try:
            chosen = categories.get(session, category_id=int(cat_id))
        except NotFound:
            chosen = None
    return templates(request).render(
        request,
        "cases/intake.html",
        {
            "values": values,
            "errors": errors or {},
            "message": message,
            "done": done,
            "chosen": chosen,
            "queue": queue,
            "waiting": waiting,
            "phrases": intake.phrases(session, every=True),
            "demand_types": list(DemandType)[:5],
            "callback_ways": list(CallbackWay),
            "priorities": list(Priority),
            "labels": lifecycle.LABELS,
            **labels.ALL,
        },
        status_code=status_code,
    )


def _fresh() -> dict[str, Any]:
    return {"called_at": _now_local(), "demand_type": "complaint", "idempotency_key": new_token(16)}


def _message_values(session: Any, a: Auth, case_id: int) -> dict[str, Any]:
    """The desk filled from a message waiting to be accepted."""
    case = cases.get(session, case_id=case_id)
    if case.channel not in intake.MESSAGE_CHANNELS or case.state != lifecycle.State.REPORTED:
        raise NotFound("Case %(id)s does not exist", id=case_id)
    rep = intake.first_reporter(session, case_id=case.id)
    unmasked = a.actor.can("case.pii")
    return {
        "message_case_id": str(case.id),
        "message_number": case.number,
        "message_channel": str(case.channel),
        "caller_name": (rep.name if unmasked else people.mask_name(rep.name)) if rep and rep.name else "",
        "caller_phone": intake.shown_phone(rep.phone_enc, unmasked=unmasked) if rep else "",
        "address": case.address or "",
        "lon": f"{case.lon:.6f}" if case.lon is not None else "",
        "lat": f"{case.lat:.6f}" if case.lat is not None else "",
        "place_name": " · ".join(x for x in (case.township_name, case.village_name) if x),
        "category_id": str(case.category_id),
        "title": case.title,
        "description": intake.first_words(session, case_id=case.id) or case.description or "",
        "called_at": "",
        "demand_type": "complaint",
        "priority": str(case.priority),
    }


@router.get("/cases/intake")
def desk(
    request: Request,
    session: ReadSession,
    a: Clerk,
    message: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    done: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The desk, empty for the next call; ``message``: filled from a web message; ``done``: the case
    just made, shown with its number and a link."""
    values = _fresh()
    if message is not None:
        values.update(_message_values(session, a, message))
    made = None
    if done is not None:
        made = cases.get_visible(session, actor=a.actor, case_id=done)
    return _desk(request, session, a, values=values, done=made)


@router.post("/cases/intake")
def take(request: Request, session: WriteSession, a: Clerk, form: Annotated[FormData, Depends(form_data)]) -> Response:
    """Take the call (or accept the message); on a problem the desk comes back with everything typed
    and each message beside its field."""
    values = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
    errors: dict[str, str] = {}
    try:
        try:
            data = intake_from_form(form)
        except PydanticValidationError as exc:
            errors = {
                str(e["loc"][0]): translate(request, FIELD_MESSAGES.get(e["type"], N_("Not valid")))
                for e in exc.errors()
                if e["loc"]
            }
            raise ValidationFailed("Please correct the marked fields") from exc
        case = intake.take(session, actor=a.actor, data=data)
    except CountyError as exc:
        session.rollback()
        for e in getattr(exc, "errors", None) or []:
            if e.get("field"):
                errors.setdefault(str(e["field"]), translate(request, str(e.get("message") or N_("Not valid"))))
        if values.get("message_case_id", "").isdigit():
            try:
                case_id = int(values["message_case_id"])
                values = {**_message_values(session, a, case_id), **values}
            except NotFound:
                pass
        return _desk(request, session, a, values=values, errors=errors, message=exc.message, status_code=exc.status)
    return redirect(
        f"/cases/intake?done={case.id}", flash=translate(request, "Case %(number)s accepted", number=case.number or "")
    )


@router.post("/cases/intake/callers")
def callers(
    request: Request, session: WriteSession, a: Clerk, form: Annotated[FormData, Depends(form_data)]
) -> Response:
    """The caller's past cases (a fragment of the desk), by the number's keyed index; audited."""
    phone = str(form.get("caller_phone") or "")[:20]
    error = None
    rows: list[intake.PastCase] = []
    try:
        rows = intake.past_cases(session, actor=a.actor, phone=phone)
    except ValidationFailed as exc:
        error = translate(request, str((exc.errors or [{}])[0].get("message") or exc.message))
    return templates(request).render(
        request,
        "cases/intake_past.html",
        {"rows": rows, "error": error, "labels": lifecycle.LABELS, "looked_up": bool(phone)},
    )


KIND_LABELS = {"township": N_("Township or street"), "village": N_("Village or community"), "grid": N_("Unit grid")}


@router.get("/cases/intake/places")
def places(
    request: Request,
    session: ReadSession,
    a: Clerk,
    q: Annotated[str, Query(max_length=intake.MAX_PLACE_QUERY)] = "",
) -> JSONResponse:
    """The county's own places named like Q, each with a point inside it (for the address box)."""
    return JSONResponse(
        [
            {
                "name": p.name,
                "kind": translate(request, KIND_LABELS[p.kind]),
                "code": p.code,
                "lon": p.lon,
                "lat": p.lat,
            }
            for p in intake.places(session, q=q)
        ]
    )


# -- stock phrases ---------------------------------------------------------------------------------


def _phrases_page(
    request: Request, session: Any, *, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    rows = intake.phrases(session, every=True)
    cats = {c.id: c for c in categories.list_categories(session, reportable=True)}
    return templates(request).render(
        request,
        "cases/intake_phrases.html",
        {"rows": rows, "cats": cats, "values": values, "errors": errors},
        status_code=status_code,
    )


@router.get("/cases/intake/phrases")
def phrases_page(request: Request, session: ReadSession, a: Configurer) -> Response:
    return _phrases_page(request, session, values={}, errors={})


@router.post("/cases/intake/phrases")
def phrase_add(
    request: Request, session: WriteSession, a: Configurer, form: Annotated[FormData, Depends(form_data)]
) -> Response:
    text = str(form.get("text") or "")
    cat = str(form.get("category_id") or "").strip()
    values = {"text": text, "category_id": cat}
    try:
        category_id = int(cat) if cat.isdigit() else None
        intake.add_phrase(session, actor=a.actor, text=text[:400], category_id=category_id)
    except CountyError as exc:
        session.rollback()
        errors = {
            str(e["field"]): translate(request, str(e.get("message") or ""))
            for e in getattr(exc, "errors", None) or []
            if e.get("field")
        } or {"text": exc.message}
        return _phrases_page(request, session, values=values, errors=errors, status_code=exc.status)
    return redirect("/cases/intake/phrases", flash=translate(request, "Saved"))


@router.post("/cases/intake/phrases/{phrase_id:int}/delete")
def phrase_delete(request: Request, phrase_id: int, session: WriteSession, a: Configurer) -> Response:
    intake.remove_phrase(session, actor=a.actor, phrase_id=phrase_id)
    return redirect("/cases/intake/phrases", flash=translate(request, "Deleted"))
