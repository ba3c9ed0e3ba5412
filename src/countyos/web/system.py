"""Shell routes: home, language switch, health and metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import RedirectResponse, Response

from countyos import __version__, domains
from countyos.core import i18n
from countyos.core.clock import utcnow
from countyos.org.service import audit, users
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, public, require
from countyos.web.templating import templates

router = APIRouter()


HEALTH_503: dict[int | str, dict[str, Any]] = {
    503: {"description": "Degraded: the same body, with the failing checks", "content": {"application/json": {}}}
}


@router.get("/healthz", tags=["system"], responses=HEALTH_503)
def healthz(request: Request, session: ReadSession, _: Annotated[Any, Depends(public)]) -> Response:
    """Liveness and readiness: the database answers."""
    from fastapi.responses import JSONResponse

    checks: dict[str, Any] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
    for name, probe in getattr(request.app.state, "health_probes", {}).items():
        checks[name] = probe()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "version": __version__, "checks": checks}, status_code=200 if ok else 503
    )


class MetricsResponse(Response):
    media_type = CONTENT_TYPE_LATEST  # the Prometheus text format, as the OpenAPI description says


@router.get("/metrics", tags=["system"], response_class=MetricsResponse)
def metrics(request: Request, _: Annotated[Auth, Depends(require("system.manage"))]) -> Response:
    """Prometheus metrics (scrape with a token that has system.manage)."""
    return MetricsResponse(generate_latest(request.app.state.metrics.registry))


@router.get("/", include_in_schema=False)
def home(request: Request, session: ReadSession, a: Annotated[Auth, Depends(authenticated)]) -> Response:
    """The person's work: each queue of theirs with its count, overdue and nearly due first, each
    linking to the list of the same cases or alarms; then the modules their roles open."""
    queues = domains.home_queues(session, a.actor, utcnow())
    status = None
    if a.actor.can("system.manage"):
        settings = request.app.state.settings
        scheduler = getattr(request.app.state, "scheduler", None)
        status = {
            "backend": session.get_bind().dialect.name,
            "revision": session.execute(text("SELECT version_num FROM alembic_version")).scalar(),
            "accounts": users.account_stats(session, mfa_roles=settings.mfa_required_roles),
            "job_errors": dict(scheduler.last_error) if scheduler else {},
            "jobs": len(scheduler.jobs) if scheduler else 0,
        }
    return templates(request).render(request, "home.html", {"status": status, "queues": queues})


@router.post("/lang", include_in_schema=False)
def switch_language(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth | None, Depends(public)],
    locale: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Switch the interface language; remembered on the account when logged in."""
    loc = i18n.normalize_locale(locale)
    if a is not None and a.user.locale != loc:
        user = users.get(session, user_id=a.user.id)
        user.locale = loc
        audit.record(
            session, actor=a.actor, action="user.locale", target_type="user", target_id=user.id, detail={"locale": loc}
        )
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie("countyos_lang", loc, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
