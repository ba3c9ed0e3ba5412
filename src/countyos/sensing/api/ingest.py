"""``POST /api/v1/sensing/ingest``: the batch endpoint of devices and gateways.

A device authenticates with its own token in ``X-Device-Token: dev_…`` and may write to its own
datastreams and to those of the devices behind it (a gateway). An operator's API token with
``sensing.write`` (``Authorization: Bearer cos_…``) may write to any datastream.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from countyos.core.actor import Actor
from countyos.core.errors import NotAuthenticated, PermissionDenied, RateLimited, ValidationFailed
from countyos.org.models import AuditResult
from countyos.org.service import audit
from countyos.sensing import flows
from countyos.sensing.api.sta import credential_failures
from countyos.sensing.service import devices, store
from countyos.sensing.service import ingest as ingest_service
from countyos.sensing.service.streams import StreamInfo
from countyos.web.deps import Auth, WriteSession, client_ip, get_db, public

router = APIRouter()
FAILED_ACTION = "sensing.device_token_failed"


def _refused(request: Request) -> NoReturn:
    """An unknown or revoked device token: audited, and counted toward the client address's limit of
    refused credentials per minute (over it: 429, no longer audited one by one)."""
    ip = client_ip(request)
    limiter = credential_failures(request)
    wait = limiter.blocked(ip or "unknown")
    if wait is not None:
        raise RateLimited("Too many sign-in attempts from this address; wait %(s)s seconds", s=wait, retry_after=wait)
    limiter.hit(ip or "unknown")
    with get_db(request).unit_of_work() as s:
        audit.record(
            s,
            actor=Actor(id=None, name="device", ip=ip),
            action=FAILED_ACTION,
            result=AuditResult.FAILURE,
            detail={"reason": "unknown_or_revoked"},
        )
    raise NotAuthenticated("The device token is unknown or revoked")


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/ingest")
def ingest(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth | None, Depends(public)],
    body: Annotated[bytes, Depends(raw_body)],
) -> JSONResponse:
    """Store a batch of observations; refused items are listed with a reason, the others are stored.

    Idempotent: an observation of a datastream at a phenomenon time that is stored already is counted
    under ``duplicates`` and not stored again."""
    allowed: ingest_service.Allowed
    plain = request.headers.get("x-device-token")
    if plain:
        found = devices.token_thing(session, plain=plain.strip())
        if found is None:
            session.rollback()  # ends the request's transaction (and SQLite's writer turn) before the audit
            _refused(request)
        thing_id = found

        def allowed(info: StreamInfo) -> bool:
            return info.thing_id == thing_id or info.gateway_id == thing_id

    elif a is not None:
        if not a.actor.can("sensing.write"):
            raise PermissionDenied()
        allowed = None
    else:
        raise NotAuthenticated("Send the device token in the X-Device-Token header")
    with store.paused_gc():
        try:
            batch = ingest_service.decode(body)
        except ingest_service.BadBody as exc:
            raise ValidationFailed("The body is not an ingest batch: %(error)s", error=str(exc)) from exc
        prepared = ingest_service.prepare(session, batch, allowed=allowed)
        outcome = flows.ingest(session, prepared)
    total = len(prepared) + len(prepared.errors)
    status = 422 if total and not len(prepared) else 200
    return JSONResponse(outcome.as_dict(), status_code=status)
