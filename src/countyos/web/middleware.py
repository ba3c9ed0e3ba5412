"""HTTP middleware: locale, security headers, body size limit and request metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from countyos.core import i18n
from countyos.core.clock import to_local, utcnow
from countyos.core.crypto import new_token
from countyos.core.errors import PayloadTooLarge
from countyos.core.usage import COUNTER, module_of
from countyos.web import inline
from countyos.web.deps import ANON_CSRF_COOKIE
from countyos.web.errors import problem_response

CSP = (
    f"default-src 'self'; script-src 'self'; style-src 'self' {inline.csp_hashes()}; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; child-src blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

MACHINE_PREFIXES = ("/api/", "/open311/", "/sta/")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


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
    COUNTER.add(to_local(utcnow()).date(), module, sorted(auth.user.role_codes), kind, auth.user.id)


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
        self.security = [*SECURITY_HEADERS, *([HSTS] if tls else [])]
        # the metrics' children by (method, route, status): a label lookup takes a lock and a hash of
        # every label on each request
        self.children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        lang = request.query_params.get("lang") if b"lang=" in scope.get("query_string", b"") else None
        lang = lang or request.cookies.get("countyos_lang")
        request.state.locale = i18n.normalize_locale(lang) if lang else i18n.DEFAULT_LOCALE
        path: str = scope["path"]
        machine = path.startswith(MACHINE_PREFIXES)  # answers of machine interfaces carry no cookie
        anon_csrf = request.cookies.get(ANON_CSRF_COOKIE)
        request.state.anon_csrf = anon_csrf or ("" if machine else new_token(24))
        status = 500

        async def amended(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if not anon_csrf and not machine:
                    headers.append((b"set-cookie", self._cookie(request.state.anon_csrf).encode("latin-1")))
                headers.extend(h for h in self.security if h[0] not in present)
                if b"cache-control" not in present and path.startswith(("/api/", "/login", "/account")):
                    headers.append((b"cache-control", b"no-store"))
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
        key = (scope["method"], template, status)
        children = self.children.get(key)
        if children is None:
            if len(self.children) > 10_000:  # methods are the client's to name: bounded
                self.children.clear()
            children = self.children[key] = (
                self.metrics.requests.labels(scope["method"], template, str(status)),
                self.metrics.latency.labels(scope["method"], template),
            )
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

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
