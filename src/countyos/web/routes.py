"""Enumerate the application's routes with their full paths (for the access-policy tests and docs).

FastAPI resolves included routers lazily; this walks them the same way the router does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    route: APIRoute


def _walk(routes: Iterable[Any]) -> Iterator[RouteInfo]:
    for r in routes:
        if isinstance(r, APIRoute):
            yield RouteInfo(r.path, frozenset(r.methods or ()), r)
        elif hasattr(r, "effective_candidates"):
            yield from _walk(r.effective_candidates())
        elif isinstance(getattr(r, "original_route", None), APIRoute):
            yield RouteInfo(r.path, frozenset(r.original_route.methods or ()), r.original_route)


def api_routes(app: FastAPI) -> list[RouteInfo]:
    return list(_walk(app.routes))
