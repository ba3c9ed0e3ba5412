"""Error rendering: problem+json for the API, a message page for browsers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from countyos.core import i18n
from countyos.core.errors import (
    CountyError,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)

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


def install(app: FastAPI) -> None:
    @app.exception_handler(CountyError)
    async def _county(request: Request, exc: CountyError) -> Response:
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
            return problem_response(request, PermissionDenied())
        return problem_response(request, CountyError(str(exc.detail)))

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> Response:
        text = str(exc.orig).lower() if exc.orig else str(exc).lower()
        if "disk" in text or "full" in text:
            err = ServiceUnavailable("The server's disk is full; nothing was saved. Tell the IT staff.")
        else:
            err = ServiceUnavailable("The database is not reachable right now; nothing was saved. Try again shortly.")
        return problem_response(request, err)
