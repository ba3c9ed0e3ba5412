"""The village domain's API under /api/v1/village, one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.village.api import certs, farming, market, producers, tourism

router = APIRouter(prefix="/village", tags=["village"])
for part in (producers, farming, certs, market, tourism):
    router.include_router(part.router)
