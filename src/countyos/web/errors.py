"""Error rendering: problem+json for the API, a message page for browsers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from countyos.core import i18n
from countyos.core.errors import (
    CountyError,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from countyos.core.i18n import N_
from countyos.web import refusals

if TYPE_CHECKING:
    from countyos.web.templating import Templates

PROBLEM = "application/problem+json"


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/sta/", "/open311/")) or path in ("/healthz", "/metrics"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem_response(request: Request, err: CountyError) -> Response:
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        body = err.problem(instance=request.url.path)
    headers = {}
    if hasattr(err, "retry_after"):
        headers["Retry-After"] = str(err.retry_after)
    if wants_json(request):
        return JSONResponse(body, status_code=err.status, media_type=PROBLEM, headers=headers)
    if isinstance(err, NotAuthenticated) and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    templates: Templates = request.app.state.templates
    fields = field_messages(request, getattr(err, "errors", None) or []) if isinstance(err, ValidationFailed) else []
    context = {
        "problem": body,
        "fields": fields,
        # a form that was sent and refused: the page offers the way back to it, with what was typed
        "form_refused": request.method == "POST" and err.status in (400, 409, 422),
    }
    return templates.render(request, "error.html", context, status_code=err.status, headers=headers)


# A validation error's type → a message a person reads (the same ids as the forms' own messages).
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
    "too_long": N_("Too many"),
    "string_too_short": N_("Required"),
    "too_short": N_("Required"),
    "string_pattern_mismatch": N_("Not in the expected form"),
    "enum": N_("Not one of the choices"),
    "literal_error": N_("Not one of the choices"),
    "bool_parsing": N_("Not one of the choices"),
    "value_error": N_("Not valid"),
}


# Short words some services put in ``errors[].message`` → the message id shown for them.
PLAIN_WORDS = {
    "required": N_("Required"),
    "invalid": N_("Not valid"),
    "unknown": N_("Not one of the choices"),
    "value out of range": N_("Out of range"),
}


def field_messages(request: Request, errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The errors of a refused form as (field name, message in the interface language); the page puts
    each beside its field when the person goes back to the form (``countyos.js``)."""
    out: list[dict[str, str]] = []
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
        for e in errors[:50]:
            message = str(e.get("message_id") or e.get("message") or N_("Not valid"))
            text = i18n.gettext(PLAIN_WORDS.get(message, message))
            item = {"field": str(e.get("field") or ""), "message": text}
            if item not in out:
                out.append(item)
    return out


async def _resolve_caller(request: Request) -> None:
    """Who is asking, also when the request failed before its route resolved it (a form whose fields
    are refused by validation): the error page then shows the person's shell, not a login link."""
    if hasattr(request.state, "auth"):
        return
    from starlette.concurrency import run_in_threadpool

    from countyos.web.deps import SESSION_COOKIE, current_auth

    if not request.cookies.get(SESSION_COOKIE):
        return
    try:
        await run_in_threadpool(current_auth, request)
    except CountyError:
        request.state.auth = None


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable, `detail` is translated.",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["message"],
            },
        },
    },
}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI description say what the API answers on errors: every 4xx (and 503) is
    ``application/problem+json`` (FastAPI would document a JSON 422 shape that is never sent)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = PROBLEM_SCHEMA
        problem = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["4XX"] = {"description": "The request cannot be served as sent (problem details)", **problem}
                responses.setdefault(
                    "503", {"description": "Disk full or database unreachable (problem details)", **problem}
                )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    document_problems(app)

    @app.exception_handler(CountyError)
    async def _county(request: Request, exc: CountyError) -> Response:
        if isinstance(exc, NotAuthenticated | PermissionDenied):
            await refusals.record(request, exc)  # in the audit log, coalesced
        elif not wants_json(request):
            await _resolve_caller(request)
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors: list[dict[str, Any]] = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path", "form")),
                "location": e["loc"][0] if e["loc"] else None,
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        if not wants_json(request):  # a page: messages a person reads, in the interface language
            await _resolve_caller(request)
            for e, raw in zip(errors, exc.errors(), strict=True):
                e["message_id"] = FIELD_MESSAGES.get(raw["type"], N_("Not valid"))
        return problem_response(request, ValidationFailed(errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not wants_json(request):
            await _resolve_caller(request)
        if exc.status_code == 404:
            return problem_response(request, NotFound("There is nothing at %(path)s", path=request.url.path))
        if exc.status_code == 405:
            return problem_response(request, MethodNotAllowed())
        if exc.status_code == 403:
            denied = PermissionDenied()
            await refusals.record(request, denied)
            return problem_response(request, denied)
        if exc.status_code == 413:
            return problem_response(request, PayloadTooLarge())
        return problem_response(request, CountyError(str(exc.detail)))

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A number too large for the database (SQLite's 64-bit integers, PostgreSQL's int4 columns)
        # or a value the database refuses to convert: the input is wrong, not the server.
        return problem_response(
            request, ValidationFailed(errors=[{"field": "", "location": None, "message": "value out of range"}])
        )

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> Response:
        text = str(exc.orig).lower() if exc.orig else str(exc).lower()
        if "disk" in text or "full" in text:
            err = ServiceUnavailable("The server's disk is full; nothing was saved. Tell the IT staff.")
        else:
            err = ServiceUnavailable("The database is not reachable right now; nothing was saved. Try again shortly.")
        return problem_response(request, err)
