"""Pages of the programme domain, one module per part. Each part names its audit codes with
``audit.name_codes`` in its own pages module."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.programme.pages import index, kpis, modules, partners, payments, projects

router = APIRouter()
for part in (modules, projects, kpis, payments, index, partners):
    router.include_router(part.router)
NAV = [*modules.NAV, *projects.NAV, *kpis.NAV, *payments.NAV, *index.NAV, *partners.NAV]
