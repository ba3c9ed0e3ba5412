"""HTTP middleware: locale, security headers, body size limit and request metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from countyos.core import i18n
from countyos.core.clock import to_local, utcnow
from countyos.core.crypto import new_token
from countyos.core.errors import PayloadTooLarge
from countyos.core.usage import COUNTER, module_of
from countyos.web.deps import ANON_CSRF_COOKIE
from countyos.web.errors import problem_response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; child-src blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


class GroupCommitCollector(Collector):
    """``countyos_group_commit_*``: transactions of the group-commit writer and the writes in them, read
    at scrape time (writes ÷ transactions is how many reports shared a commit on average)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Any]:
        writer = getattr(self.state, "group_commit", None)
        yield CounterMetricFamily(
            "countyos_group_commit_transactions", "transactions of the group-commit writer",
            value=writer.batches if writer else 0,
        )  # fmt: skip
        yield CounterMetricFamily(
            "countyos_group_commit_writes", "writes (e.g. Open311 reports) run by the group-commit writer",
            value=writer.jobs if writer else 0,
        )  # fmt: skip


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "countyos_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "countyos_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


def _count_usage(request: Request, status: int) -> None:
    auth = getattr(request.state, "auth", None)
    if auth is None or status >= 400 or auth.stage != "full":
        return
    module = module_of(request.url.path)
    if module is None:
        return
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        kind = "action"
    else:
        kind = "api" if request.url.path.startswith("/api/") else "view"
    COUNTER.add(to_local(utcnow()).date(), module, sorted(auth.user.role_codes), kind)


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimit:
    """Counts the bytes of the request body as they arrive, so that a body sent without
    Content-Length (chunked) cannot exceed the limit either; the route sees a 413 (problem+json)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


class Envelope:
    """What every answer gets: the request's locale and anonymous CSRF token, the security headers, the
    usage count and the metrics. Plain ASGI (no ``BaseHTTPMiddleware``): the request body and the response
    pass through untouched, only the response's first message is amended."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, tls: bool, metrics: Metrics) -> None:
        self.app, self.max_body_bytes, self.tls, self.metrics = app, max_body_bytes, tls, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        lang = request.query_params.get("lang") or request.cookies.get("countyos_lang")
        request.state.locale = i18n.normalize_locale(lang) if lang else i18n.DEFAULT_LOCALE
        anon_csrf = request.cookies.get(ANON_CSRF_COOKIE)
        request.state.anon_csrf = anon_csrf or new_token(24)
        path: str = scope["path"]
        status = 500

        async def amended(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                h = MutableHeaders(scope=message)
                if not anon_csrf and not path.startswith(("/api/", "/open311/", "/sta/")):
                    h.append("set-cookie", self._cookie(request.state.anon_csrf))
                h.setdefault("Content-Security-Policy", CSP)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "same-origin")
                h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
                if self.tls:
                    h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
                if path.startswith(("/api/", "/login", "/account")):
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            mb = self.max_body_bytes // 1_000_000
            response = problem_response(request, PayloadTooLarge("The request is larger than %(mb)s MB", mb=mb))
            await response(scope, receive, amended)
        else:
            await self.app(scope, receive, amended)
        _count_usage(request, status)
        template = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.requests.labels(request.method, template, str(status)).inc()
        self.metrics.latency.labels(request.method, template).observe(time.perf_counter() - started)

    def _cookie(self, value: str) -> str:
        holder = Response()
        holder.set_cookie(ANON_CSRF_COOKIE, value, httponly=True, samesite="strict", secure=self.tls)
        return holder.headers["set-cookie"]


def install(app: FastAPI, *, max_body_bytes: int, tls: bool) -> Metrics:
    metrics = Metrics()
    metrics.registry.register(GroupCommitCollector(app.state))
    app.add_middleware(BodyLimit, max_body_bytes=max_body_bytes)
    app.add_middleware(Envelope, max_body_bytes=max_body_bytes, tls=tls, metrics=metrics)  # outside BodyLimit
    return metrics
