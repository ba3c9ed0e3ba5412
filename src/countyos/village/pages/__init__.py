"""Pages of the village domain, one module per part. Each part names its audit codes with
``audit.name_codes`` in its own pages module."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.village.pages import certs, farming, market, producers, tourism

router = APIRouter()
for part in (producers, farming, certs, market, tourism):
    router.include_router(part.router)
NAV = [*producers.NAV, *farming.NAV, *certs.NAV, *market.NAV, *tourism.NAV]
