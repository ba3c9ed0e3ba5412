"""JSON API of the ioc domain (mounted under ``/api/v1``)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.ioc.api import alerts, live, ops, usage

router = APIRouter()
for _module in (usage, ops, live, alerts):
    router.include_router(_module.router)
