"""The FastAPI application: composition of the domains, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from countyos import __version__, domains
from countyos.core import loopreads, runtime
from countyos.core.db import Database
from countyos.core.scheduler import Scheduler
from countyos.core.settings import Settings, get_settings
from countyos.org.service import roles
from countyos.programme.service.modules import SWITCHABLE
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


def _gate(domain: str) -> Any:
    """A dependency in front of every route of a switchable domain (before authentication and validation):
    while the domain is off its routes answer as if they did not exist (404)."""

    async def module_on(request: Request) -> None:
        if domain in request.app.state.modules_off():
            raise HTTPException(status_code=404)

    return Depends(module_on)


def _gated_lane(lane: Any, domain: str) -> Any:
    """A domain's lane that hands every request to the routes (which answer 404) while the domain is off."""

    class Gated:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app
            self.lane = lane(app)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and domain in scope["app"].state.modules_off():
                await self.app(scope, receive, send)
            else:
                await self.lane(scope, receive, send)

    Gated.__name__ = f"Gated{getattr(lane, '__name__', 'Lane')}"
    return Gated


def _include(holder: APIRouter, router: APIRouter, domain: str) -> None:
    holder.include_router(router, dependencies=[_gate(domain)] if domain in SWITCHABLE else None)


def _routes() -> tuple[list[BaseRoute], list[NavItem], Any]:
    """Every domain's routes in matching order, the navigation entries of its pages, and the lifespan of its
    routers (what a domain starts and stops with the application: the sensing domain's MQTT bridge).
    A switchable domain's routes and navigation entries are marked with it: while it is off they are gone."""
    global _ROUTES
    if _ROUTES is None:
        holder = APIRouter()
        nav: list[NavItem] = []
        pages = [(d, m) for d in domains.DOMAINS if (m := domains.optional_module(d, "pages")) is not None]
        # Matching walks the routes in order (FastAPI tries them one by one, for every request),
        # so the endpoints that machines call at high rates (Open311, SensorThings), each under a prefix
        # no other route uses, go before the API and the pages.
        for d, mod in pages:
            for early in getattr(mod, "EARLY_ROUTERS", []):
                _include(holder, early, d)
        for d in domains.DOMAINS:
            api_mod = domains.optional_module(d, "api")
            if api_mod is not None:
                sub = APIRouter(prefix="/api/v1")
                sub.include_router(api_mod.router)
                _include(holder, sub, d)
        for d, mod in pages:
            _include(holder, mod.router, d)
            nav.extend(replace(item, module=d) for item in getattr(mod, "NAV", []))
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
            scheduler = Scheduler(app.state.db, domains.jobs(), off=app.state.modules_off)
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
    app.state.modules_off = lambda: domains.modules_off_now(app.state.db)  # programme.service.modules
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
    for d in domains.DOMAINS:
        mod = domains.optional_module(d, "pages")
        for lane in getattr(mod, "LANES", []) if mod is not None else []:
            app.add_middleware(_gated_lane(lane, d) if d in SWITCHABLE else lane)
    app.state.metrics = middleware.install(app, max_body_bytes=MAX_BODY_BYTES, tls=settings.tls)
    return app
