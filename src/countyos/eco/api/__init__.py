"""The ecology domain's API under /api/v1/eco, one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.eco.api import air, assets, gep, rivers, water

router = APIRouter(prefix="/eco", tags=["eco"])
for part in (air, water, rivers, assets, gep):
    router.include_router(part.router)
