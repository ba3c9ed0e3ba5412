"""HTML pages of the sensing domain, and the mount point of the SensorThings API (``/sta/v1.1`` is a
standard path outside ``/api/v1``; pages are the routers mounted at the root)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.sensing.api import sta

router = APIRouter()
router.include_router(sta.router)
NAV: list[object] = []
