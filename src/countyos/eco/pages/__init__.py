"""Pages of the ecology domain, one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.eco.pages import air, assets, gep, rivers, water

router = APIRouter()
for part in (air, water, rivers, assets, gep):
    router.include_router(part.router)
NAV = [*air.NAV, *water.NAV, *rivers.NAV, *assets.NAV, *gep.NAV]
