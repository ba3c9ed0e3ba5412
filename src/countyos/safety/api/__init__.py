"""The safety domain's API under /api/v1/safety, one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.safety.api import cameras, events, inspections, plans, reports, traffic

router = APIRouter(prefix="/safety", tags=["safety"])
for part in (plans, events, reports, inspections, cameras, traffic):
    router.include_router(part.router)
