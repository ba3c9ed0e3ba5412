"""The programme domain's API under /api/v1/programme, one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.programme.api import index, kpis, modules, partners, payments, projects

router = APIRouter(prefix="/programme", tags=["programme"])
for part in (modules, projects, kpis, payments, index, partners):
    router.include_router(part.router)
