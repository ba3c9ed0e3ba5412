"""JSON API of the residents' portal, mounted under /api/v1 (``/portal/…``): one module per part."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.portal.api import bookings, facilities, notices

router = APIRouter()
router.include_router(notices.router)
router.include_router(facilities.router)
router.include_router(bookings.router)
