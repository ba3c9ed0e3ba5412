"""JSON API of the services domain under /api/v1/services (one module per part, composed here)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.services.api import applications, exchange, matters, ratings, supervision

router = APIRouter(prefix="/services", tags=["services"])
for _module in (matters, applications, ratings, supervision, exchange):
    router.include_router(_module.router)
