"""Pages of the data domain, and its machine endpoints at the site root (CKAN action API, DCAT)."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.data import ckan
from countyos.data.pages import admin, overview, portal, sharing

EARLY_ROUTERS = [ckan.router]
router = APIRouter()
router.include_router(admin.router)
router.include_router(sharing.router)
router.include_router(overview.router)
router.include_router(portal.router)
NAV = [*admin.NAV, *sharing.NAV, *overview.NAV]
