"""The FastAPI application: composition of the domains, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from countyos import __version__, domains
from countyos.core import loopreads, runtime
from countyos.core.db import Database
from countyos.core.scheduler import Scheduler
from countyos.core.settings import Settings, get_settings
from countyos.org.service import roles
from countyos.web import accesslog, errors, middleware, sidewrites, system
from countyos.web.nav import NavItem
from countyos.web.ratelimit import SlidingWindowLimiter
from countyos.web.templating import Templates

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
MAX_BODY_BYTES = 25_000_000


# The routes hold nothing of one application (they reach its state through the request), and making them
# costs about half a second (FastAPI analyses every endpoint's parameters and dependencies): a process that
# starts many applications — the test suite starts one per test — makes them once.
_ROUTES: tuple[list[BaseRoute], list[NavItem], Any] | None = None


def _routes() -> tuple[list[BaseRoute], list[NavItem], Any]:
    """Every domain's routes in matching order, the navigation entries of its pages, and the lifespan of its
    routers (what a domain starts and stops with the application: the sensing domain's MQTT bridge)."""
    global _ROUTES
    if _ROUTES is None:
        holder = APIRouter()
        nav: list[NavItem] = []
        # Matching walks the routes in order (FastAPI tries them one by one, for every request),
        # so the endpoints that machines call at high rates (Open311, SensorThings), each under a prefix
        # no other route uses, go before the API and the pages.
        for mod in domains.modules("pages"):
            for early in getattr(mod, "EARLY_ROUTERS", []):
                holder.include_router(early)
        api = APIRouter(prefix="/api/v1")
        for mod in domains.modules("api"):
            api.include_router(mod.router)
        holder.include_router(api)
        for mod in domains.modules("pages"):
            holder.include_router(mod.router)
            nav.extend(getattr(mod, "NAV", []))
        holder.include_router(system.router)
        _ROUTES = (list(holder.routes), nav, holder.lifespan_context)
    return _ROUTES


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    accesslog.install()  # the access log keeps no query strings (positions, phone numbers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if settings.run_jobs:
            scheduler = Scheduler(app.state.db, [j for m in domains.modules("jobs") for j in m.JOBS])
            scheduler.start()
        app.state.scheduler = scheduler
        # (not in a test process: it starts many applications, and each one's leftovers must stay collectable)
        if settings.env != "test":
            runtime.freeze_startup_objects()  # full garbage collections then skip what startup made
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            await sidewrites.close(app.state)  # last visits and refusal records still waiting
            await loopreads.close(app.state)

    app = FastAPI(
        lifespan=lifespan,
        title="CountyOS",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        description="县域城市运行平台 CountyOS — JSON API. Errors are application/problem+json.",
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    app.state.login_limiter = SlidingWindowLimiter(settings.login_rate_per_minute)
    roles.load_families(domains.all_permissions(), domains.all_grants())

    routes, nav, lifespans = _routes()
    app.router.routes.extend(routes)
    # the domains' lifespans run inside the application's, as including their routers would have them
    app.include_router(APIRouter(lifespan=lifespans))
    app.state.templates = Templates(["web", *domains.DOMAINS], nav)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    errors.install(app)
    # Lanes: ASGI shortcuts of a domain's most frequent requests, inside the envelope and the body
    # limit like every route, that hand whatever they do not answer to the routes.
    for mod in domains.modules("pages"):
        for lane in getattr(mod, "LANES", []):
            app.add_middleware(lane)
    app.state.metrics = middleware.install(app, max_body_bytes=MAX_BODY_BYTES, tls=settings.tls)
    return app
