"""The data catalogue under /api/v1/data: resources (目录), their review actions and their loads.

Signed-in staff see published entries and their own department's; providers (``data.catalogue.manage``)
write their department's entries and load their data; the data administrator (``data.catalogue.review``)
reviews. Open data for the public is served by ``data/ckan.py`` and the portal pages.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, Response, UploadFile
from sqlalchemy import select

from countyos.core.errors import NotFound, PayloadTooLarge, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.paging import MAX_LIMIT, Paged
from countyos.data import flows, schemas
from countyos.data.api import exchange
from countyos.data.lifecycle import State
from countyos.data.models import Connector, Load, LoadState, RequestState
from countyos.data.service import catalogue, connectors, sharing
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, get_db, public, require

router = APIRouter(prefix="/data", tags=["data"])
PathId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]
Person = Annotated[Auth, Depends(authenticated)]
Provider = Annotated[Auth, Depends(require(catalogue.MANAGE))]


def _out(res: object) -> schemas.ResourceOut:
    return schemas.ResourceOut.model_validate(res)


@router.get("/resources", response_model=Paged[schemas.ResourceOut])
def list_resources(
    session: ReadSession,
    a: Person,
    state: State | None = None,
    provider_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Paged[schemas.ResourceOut]:
    """The catalogue as the caller may see it: every published entry, and the caller's department's."""
    rows, total = catalogue.listing(
        session, actor=a.actor, state=state, provider_id=provider_id, q=q, limit=limit, offset=offset
    )
    return Paged(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/resources", response_model=schemas.ResourceOut, status_code=201)
def create_resource(data: schemas.ResourceIn, session: WriteSession, a: Provider) -> schemas.ResourceOut:
    return _out(catalogue.create(session, actor=a.actor, data=data))


@router.get("/resources/{resource_id}", response_model=schemas.ResourceOut)
def get_resource(resource_id: PathId, session: ReadSession, a: Person) -> schemas.ResourceOut:
    res = catalogue.get(session, resource_id)
    if not catalogue.visible(a.actor, res):
        raise NotFound(N_("No such data resource."))
    return _out(res)


@router.put("/resources/{resource_id}", response_model=schemas.ResourceOut)
def update_resource(
    resource_id: PathId,
    data: schemas.ResourceIn,
    session: WriteSession,
    a: Provider,
    version: Annotated[int, Query(ge=1, le=schemas.MAX_ID, description="the version as read")],
) -> schemas.ResourceOut:
    return _out(catalogue.update(session, actor=a.actor, resource_id=resource_id, data=data, version=version))


@router.post("/resources/{resource_id}/actions", response_model=schemas.ResourceOut)
def act_on_resource(
    resource_id: PathId, data: schemas.ActionIn, session: WriteSession, a: Provider
) -> schemas.ResourceOut:
    """提交审核, 审核通过, 退回, 申请撤销, 重新编制 (``data/lifecycle.py``)."""
    return _out(catalogue.act(session, actor=a.actor, resource_id=resource_id, data=data))


@router.get("/resources/{resource_id}/loads", response_model=list[schemas.LoadOut])
def list_loads(resource_id: PathId, session: ReadSession, a: Provider) -> list[schemas.LoadOut]:
    res = catalogue.get(session, resource_id)
    if not catalogue.roles_of(a.actor, res):
        raise PermissionDenied()
    rows = session.scalars(select(Load).where(Load.resource_id == res.id).order_by(Load.number.desc()).limit(200))
    return [schemas.LoadOut.model_validate(r) for r in rows]


@router.post("/resources/{resource_id}/loads", response_model=schemas.LoadOut, status_code=201)
def upload_load(
    request: Request,
    resource_id: PathId,
    a: Provider,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON, GeoJSON or a zipped Shapefile")],
    skip_bad_rows: Annotated[bool, Form()] = False,
) -> schemas.LoadOut:
    """Load a file into a new version of the resource's data. A file that cannot be read, or whose rows
    fail a quality rule (unless bad rows are skipped), loads nothing: 422 with the load's report."""
    try:
        load = flows.load_upload(
            get_db(request),
            actor=a.actor,
            resource_id=resource_id,
            upload=file.file,
            filename=file.filename or "upload",
            skip_bad_rows=skip_bad_rows,
        )
    except flows.TooLarge as exc:
        raise PayloadTooLarge() from exc
    out = schemas.LoadOut.model_validate(load)
    if load.state != LoadState.LOADED:
        raise ValidationFailed(
            N_("Nothing was loaded: %(reason)s"),
            reason=load.error or load.state.value,
            errors=[
                {"field": "file", "message": load.error, "state": load.state.value, "load": out.model_dump(mode="json")}
            ],
        )
    return out


# -- sharing between departments ----------------------------------------------------------------------------

Requester = Annotated[Auth, Depends(require(sharing.REQUEST))]


@router.post("/resources/{resource_id}/requests", response_model=schemas.ShareRequestOut, status_code=201)
def request_share(
    resource_id: PathId, data: schemas.ShareRequestIn, session: WriteSession, a: Requester, response: Response
) -> schemas.ShareRequestOut:
    """共享申请 for the caller's department. An unconditionally shared resource is granted at once: the
    scoped key is in the ``X-Data-Key`` response header, this once."""
    req, key = sharing.request(session, actor=a.actor, resource_id=resource_id, data=data)
    if key is not None:
        response.headers["X-Data-Key"] = key
    return schemas.ShareRequestOut.model_validate(req)


@router.get("/requests", response_model=list[schemas.ShareRequestOut])
def list_requests(
    session: ReadSession, a: Requester, state: RequestState | None = None
) -> list[schemas.ShareRequestOut]:
    """Requests for one's department's resources (to decide) and one's department's own requests."""
    return [
        schemas.ShareRequestOut.model_validate(r) for r in sharing.requests_for(session, actor=a.actor, state=state)
    ]


@router.post("/requests/{request_id}/decision", response_model=schemas.IssuedGrantOut | schemas.ShareRequestOut)
def decide_request(
    request_id: PathId, data: schemas.DecisionIn, session: WriteSession, a: Provider
) -> schemas.IssuedGrantOut | schemas.ShareRequestOut:
    """Approve (possibly narrowed: fewer fields, a row filter, an earlier last day, a daily quota) or refuse.
    An approval answers with the grant and its scoped key, shown this once."""
    req, grant, key = sharing.decide(session, actor=a.actor, request_id=request_id, data=data)
    if grant is None or key is None:
        return schemas.ShareRequestOut.model_validate(req)
    return schemas.IssuedGrantOut.model_validate({**schemas.GrantOut.model_validate(grant).model_dump(), "key": key})


@router.get("/grants", response_model=list[schemas.GrantOut])
def list_grants(session: ReadSession, a: Requester) -> list[schemas.GrantOut]:
    return [schemas.GrantOut.model_validate(g) for g in sharing.grants_for(session, actor=a.actor)]


@router.post("/grants/{grant_id}/revoke", response_model=schemas.GrantOut)
def revoke_grant(grant_id: PathId, session: WriteSession, a: Provider) -> schemas.GrantOut:
    return schemas.GrantOut.model_validate(sharing.revoke(session, actor=a.actor, grant_id=grant_id))


@router.get("/usage", response_model=list[schemas.UsageRow])
def share_usage(session: ReadSession, a: Requester) -> list[schemas.UsageRow]:
    """Calls on grants by consumer and resource (served, refused, rows)."""
    return [schemas.UsageRow.model_validate(r) for r in sharing.usage(session, actor=a.actor)]


@router.get("/shared/rows", dependencies=[Depends(public)])
def shared_rows(
    request: Request,
    x_data_key: Annotated[str, Header(max_length=100)] = "",
    fields: Annotated[str, Query(max_length=2000, description="comma-separated field names")] = "",
    filters: Annotated[str, Query(max_length=2000, description='JSON object {"field": value}')] = "",
    limit: Annotated[int, Query(ge=1, le=sharing.MAX_ROWS)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, object]:
    """Rows of a shared resource for the holder of a grant's key (``X-Data-Key``): only the granted fields
    and rows, sensitive fields masked; every call recorded and audited, refusals included."""
    try:
        parsed = json.loads(filters) if filters else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValidationFailed(N_("filters is a JSON object of field: value."))
    names = [f.strip() for f in fields.split(",") if f.strip()] or None
    return flows.shared_read(get_db(request), key=x_data_key, fields=names, filters=parsed, limit=limit, offset=offset)


# -- connectors (the data administrator) -------------------------------------------------------------------

Bureau = Annotated[Auth, Depends(require(catalogue.REVIEW))]


def _connector_out(c: Connector) -> schemas.ConnectorOut:
    address = connectors.masked(connectors.address_of(c))
    return schemas.ConnectorOut(
        id=c.id, resource_id=c.resource_id, name=c.name, kind=c.kind, address=address, query=c.query,
        every_minutes=c.every_minutes, enabled=c.enabled, next_run_at=c.next_run_at,
    )  # fmt: skip


@router.post("/resources/{resource_id}/connectors", response_model=schemas.ConnectorOut, status_code=201)
def create_connector(
    resource_id: PathId, data: schemas.ConnectorIn, session: WriteSession, a: Bureau
) -> schemas.ConnectorOut:
    """A scheduled pull into the resource: a department's database (one SELECT), a JSON API, or a CountyOS
    live source. The address is kept encrypted and shown with its password masked."""
    return _connector_out(connectors.create(session, actor=a.actor, resource_id=resource_id, data=data))


@router.get("/resources/{resource_id}/connectors", response_model=list[schemas.ConnectorOut])
def list_connectors(resource_id: PathId, session: ReadSession, a: Bureau) -> list[schemas.ConnectorOut]:
    return [_connector_out(c) for c in connectors.of_resource(session, resource_id)]


@router.post("/connectors/{connector_id}/run", response_model=schemas.ConnectorRunOut)
def run_connector(connector_id: PathId, session: WriteSession, a: Bureau) -> schemas.ConnectorRunOut:
    """Run now (the schedule goes on from now); the run is recorded, failed or not."""
    return schemas.ConnectorRunOut.model_validate(connectors.run(session, actor=a.actor, connector_id=connector_id))


@router.get("/connectors/{connector_id}/runs", response_model=list[schemas.ConnectorRunOut])
def connector_runs(connector_id: PathId, session: ReadSession, a: Bureau) -> list[schemas.ConnectorRunOut]:
    return [schemas.ConnectorRunOut.model_validate(r) for r in connectors.runs_of(session, connector_id)]


router.include_router(exchange.router)
