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
    return templates.render(request, "error.html", {"problem": body}, status_code=err.status, headers=headers)


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
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors: list[dict[str, Any]] = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")),
                "location": e["loc"][0] if e["loc"] else None,
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        return problem_response(request, ValidationFailed(errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
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
