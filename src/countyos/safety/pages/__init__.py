"""Pages of the safety domain, one module per part. Each part names its audit codes with
``audit.name_codes`` in its own pages module."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.safety.pages import cameras, events, inspections, plans, reports, traffic

router = APIRouter()
for part in (plans, events, reports, inspections, cameras, traffic):
    router.include_router(part.router)
NAV = [*plans.NAV, *events.NAV, *reports.NAV, *inspections.NAV, *cameras.NAV, *traffic.NAV]
# ASGI steps in front of the routes: an analysis box's camera event answered before routing.
LANES = [*cameras.LANES]
