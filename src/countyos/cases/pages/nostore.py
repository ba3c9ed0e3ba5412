"""Pages of the cases domain show personal data and internal work: no browser or proxy may keep them."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import Response


class NoStoreRoute(APIRoute):
    """Every answer of the route carries ``Cache-Control: no-store`` (the API has it from the middleware)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            response = await handler(request)
            response.headers["Cache-Control"] = "no-store"
            return response

        return route


def page_router() -> APIRouter:
    """The router of a module of cases pages."""
    return APIRouter(route_class=NoStoreRoute)


async def form_data(request: Request) -> FormData:
    """The posted form, read once on the event loop (the route itself runs in a worker thread)."""
    return await request.form()
