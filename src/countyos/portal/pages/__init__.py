"""Pages of the residents' portal (一网通享): the front door, sign-in, my county, notices, publishing."""

from __future__ import annotations

from fastapi import APIRouter

from countyos.portal.pages import (
    account,
    bookings,
    casemap,
    environment,
    facilities,
    home,
    notices,
    publish,
    subscriptions,
)

router = APIRouter()
router.include_router(home.router)
router.include_router(account.router)
router.include_router(casemap.router)
router.include_router(notices.router)
router.include_router(subscriptions.router)
router.include_router(publish.router)
router.include_router(facilities.router)
router.include_router(bookings.router)
router.include_router(environment.router)
NAV = [*home.NAV, *account.NAV, *notices.NAV, *subscriptions.NAV, *publish.NAV, *facilities.NAV, *bookings.NAV]
