"""JSON API of the sensing domain under ``/api/v1/sensing`` (the SensorThings API is in ``api.sta``)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.sensing.api import ingest, operations

router = APIRouter(prefix="/sensing", tags=["sensing"])
router.include_router(ingest.router)
router.include_router(operations.router)
