"""OGC SensorThings API v1.1 (sensing part) at ``/sta/v1.1``.

Reads are public unless ``sta_public_read`` is off (then they need ``sensing.read``). Writes need
``sensing.write``, sent as HTTP Basic of a machine account (what SensorThings clients such as the
FROST Python client send) or as an API token (``Authorization: Bearer cos_…``).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from countyos.core import loopreads
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.errors import (
    Conflict,
    CountyError,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
)
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import users
from countyos.sensing import flows
from countyos.sensing.service import geometry
from countyos.sensing.service.sta import basic, fast
from countyos.sensing.service.sta import entities as E
from countyos.sensing.service.sta import links as L
from countyos.sensing.service.sta import observations as O
from countyos.sensing.service.sta import query as Q
from countyos.sensing.service.sta import read as R
from countyos.sensing.service.sta import write as W
from countyos.sensing.service.sta.parser import StaQueryError
from countyos.sensing.service.store import paused_gc
from countyos.web import sidewrites
from countyos.web.deps import (
    SESSION_COOKIE,
    TOUCH_EVERY,
    Auth,
    WriteSession,
    client_ip,
    get_db,
    public,
    require,
)
from countyos.web.errors import problem_response
from countyos.web.ratelimit import SlidingWindowLimiter

PREFIX = "/sta/v1.1"
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates",
]


class StaBadRequest(CountyError):
    status = 400
    code = "sta_bad_request"
    title = N_("The SensorThings request is not valid")

    def __init__(self, message: str | None = None, /, *, errors: list[dict[str, str]] | None = None, **params: Any):
        super().__init__(message, **params)
        self.errors = errors or []

    def extra(self) -> dict[str, Any]:
        return {"errors": self.errors} if self.errors else {}


# A SensorThings write body (a deep insert or a CreateObservations batch); split bigger loads.
MAX_BODY_BYTES = 16_000_000


def credential_failures(request: Request) -> SlidingWindowLimiter:
    """Refused credentials per client address and minute (Basic here, device tokens on ingest)."""
    state = request.app.state
    limiter: SlidingWindowLimiter | None = getattr(state, "credential_failures", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "credential_failures", None)
            if limiter is None:
                limiter = state.credential_failures = SlidingWindowLimiter(get_settings().login_rate_per_minute)
    return limiter


_limiter_lock = threading.Lock()


async def sta_auth(request: Request) -> None:
    """The request's caller: a kept one (``basic.PRINCIPALS``) is known here on the event loop,
    without a query or a hop to the thread pool; any other goes through :func:`basic_auth`."""
    header = request.headers.get("authorization", "")
    if not header[:7].lower().startswith(("bearer ", "basic ")) or kept_caller(request):
        return
    await run_in_threadpool(basic_auth, request)


def kept_caller(request: Request) -> bool:
    """The caller of a request with Bearer or Basic credentials, when they are kept: sets
    ``request.state.auth`` (and the locale) and says True. False when they need the full check."""
    header = request.headers.get("authorization", "")
    scheme = header[:7].lower()
    if scheme.startswith("bearer "):
        with _no_query(request) as s:
            try:
                principal = basic.bearer_principal(s, plain=header[7:].strip(), kept_only=True)
            except (basic.NotKept, basic.Refused):
                return False
        _known(request, principal)
        return True
    if not scheme.startswith("basic "):
        return False
    try:
        username, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    if not username:
        return False
    with _no_query(request) as s:
        try:
            principal = basic.basic_principal(s, username=username, password=password, check_fn=basic.not_kept)
        except basic.NotKept:
            return False
    request.state.locale = principal.user.locale
    request.state.auth = Auth(actor=principal.actor(client_ip(request)), user=principal.user)
    return True


@contextmanager
def _no_query(request: Request) -> Iterator[Session]:
    """A session only to ask the caches (which never query for it)."""
    s = get_db(request).session()
    try:
        yield s
    finally:
        s.close()


def basic_auth(request: Request) -> None:
    """HTTP Basic of a machine account, or an API token, → the request's caller.

    Accepted credentials are kept in ``basic.PRINCIPALS`` (emptied by any write to accounts, roles or
    tokens), so a device that writes every second is known without a query. A refused Basic attempt
    is audited and counts toward the account's lockout and the client address's limit of refused
    credentials per minute; over that limit an address gets 429 before any check. A token that is
    not accepted here takes the common path (``web.deps.current_auth``), which audits the refusal.
    """
    header = request.headers.get("authorization", "")
    scheme = header[:7].lower()
    if scheme.startswith("bearer "):
        _bearer(request, header[7:].strip())
        return
    if not scheme.startswith("basic "):
        return
    request.state.auth = None
    ip = client_ip(request)
    try:
        username, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAuthenticated("The Basic credentials are not readable") from exc
    limiter = credential_failures(request)
    db = get_db(request)
    checked: list[basic.Outcome] = []  # the full check, when it ran

    def check() -> basic.Outcome:
        user = users.get_by_username(s, username=username)
        if user is not None and not basic.usable(user) and basic.remembered(user, password):
            outcome = basic.Outcome(user, user)  # checked lately against this very password hash
        else:
            wait = limiter.blocked(ip or "unknown")
            if wait is not None:
                raise RateLimited(
                    "Too many sign-in attempts from this address; wait %(s)s seconds", s=wait, retry_after=wait
                )
            outcome = basic.check(s, username=username, password=password)
        checked.append(outcome)
        return outcome

    s = db.session()
    try:
        principal = basic.basic_principal(s, username=username, password=password, check_fn=check)
    except basic.Refused as refused:
        assert refused.outcome is not None
        s.close()
        limiter.hit(ip or "unknown")
        with db.unit_of_work() as w:
            basic.record_failure(w, outcome=refused.outcome, username=username, ip=ip)
        raise NotAuthenticated("The user name or password is wrong, or it is not a machine account") from None
    finally:
        s.close()  # expunges without expiring: the user stays readable for this request
    if checked and checked[0].hashed and principal.user.failed_logins:
        with db.unit_of_work() as w:
            basic.record_success(w, user_id=principal.user.id)
    request.state.locale = principal.user.locale
    request.state.auth = Auth(actor=principal.actor(ip), user=principal.user)


def _bearer(request: Request, plain: str) -> None:
    """A kept API token → the caller, its last use handed to the side writer at most once a minute."""
    db = get_db(request)
    s = db.session()
    try:
        principal = basic.bearer_principal(s, plain=plain)
    except basic.Refused:
        return
    finally:
        s.close()
    _known(request, principal)


def _known(request: Request, principal: basic.Principal) -> None:
    """A token's caller: its last use handed to the side writer at most once a minute."""
    assert principal.token_id is not None
    db = get_db(request)
    now = utcnow()
    last = _token_touched.get(principal.token_id)
    if last is None or now - last > TOUCH_EVERY:
        _token_touched[principal.token_id] = now
        sidewrites.for_app(request.app.state, db).token_used(principal.token_id, now)
    request.state.locale = principal.user.locale
    request.state.auth = Auth(actor=principal.actor(client_ip(request)), user=principal.user)


_token_touched: dict[int, datetime] = {}  # when this process last handed a token's use over


router = APIRouter(prefix=PREFIX, tags=["sensorthings"], dependencies=[Depends(sta_auth)])


def _base(request: Request) -> str:
    """The service's address as the client named it (``http://host/sta/v1.1``), the same for every
    request to one host: kept, up to a bound (the Host header is the client's to choose)."""
    scope = request.scope
    key = (scope.get("scheme"), str(scope.get("server")), scope.get("root_path"), request.headers.get("host"))
    base = _bases.get(key)
    if base is None:
        if len(_bases) >= 1_000:
            _bases.clear()
        base = _bases[key] = str(request.base_url).rstrip("/") + PREFIX
    return base


_bases: dict[tuple[Any, ...], str] = {}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _translate(exc: Exception) -> CountyError:
    if isinstance(exc, W.StaInvalid):
        return StaBadRequest(str(exc), errors=exc.errors)
    if isinstance(exc, StaQueryError):
        return StaBadRequest(str(exc))
    if isinstance(exc, R.StaNotFound | W.StaMissing):
        return NotFound(str(exc))
    if isinstance(exc, W.StaConflict):
        return Conflict(str(exc))
    raise exc


def _may_read(a: Auth | None) -> bool:
    try:
        _check_read(a)
    except CountyError:
        return False
    return True


def _check_read(a: Auth | None) -> None:
    if get_settings().sta_public_read:
        return
    if a is None:
        raise NotAuthenticated()
    if not a.actor.can("sensing.read"):
        raise PermissionDenied()


@router.get("")
def service_root(request: Request, a: Annotated[Auth | None, Depends(public)]) -> Response:
    _check_read(a)
    base = _base(request)
    value = [{"name": plural, "url": f"{base}/{plural}"} for plural in E.ENTITIES]
    return _json({"serverSettings": {"conformance": CONFORMANCE}, "value": value})


@router.get("/{path:path}")
async def get(path: str, request: Request, a: Annotated[Auth | None, Depends(public)]) -> Response:
    """Any SensorThings resource: collections, entities, navigation, properties, $value, $ref.

    The lean path of the most frequent requests: the caller is known without a thread (no
    credentials) or from the Basic/Bearer check, and the read itself — its read session (the same
    ``Database.reading`` as ``ReadSession``), the statements and the JSON — runs in one hop to the
    thread pool instead of one per dependency."""
    _check_read(a)
    return await _read_in_thread(request, path)


async def _read_in_thread(
    request: Request, path: str, *, keep_as: tuple[str, str, str, bytes] | None = None
) -> Response:
    """:func:`_get` in one of the threads for SensorThings reads (``sta_read_threads``): a read is
    mostly Python's work, one thread at a time, and threads beyond a few only add switching between
    them (measured with 16 reads in flight: the pool's default of 40 threads made each read cost
    twice the CPU of a lone one)."""
    db = get_db(request)
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "sta_read_threads", None)
    if limiter is None:  # made on the event loop, where no other code runs in between
        n = get_settings().sta_read_threads or (2 if db.is_sqlite else 4)
        limiter = state.sta_read_threads = anyio.CapacityLimiter(n)
    args = (db, _base(request), path, dict(request.query_params), keep_as)
    return await anyio.to_thread.run_sync(_get, *args, limiter=limiter)


class ReadLane:
    """ASGI, in front of the routes: the common SensorThings read answered before routing and the
    dependencies, which cost as much as the read of a page of observations.

    It takes a ``GET /sta/v1.1/…`` whose caller is known without a query (no credentials and no
    session cookie, or kept Bearer or Basic credentials) and answers it with the same :func:`_get`
    as the route, and the read's own errors (a bad query, an unknown entity, a read past its time)
    as the route's error handler tells them, without reading again. Anything else goes to the route,
    which answers it in full: other credentials, a session, a missing permission (refusals are
    recorded there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(LANE_PREFIX):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.headers.get("authorization"):
            known = kept_caller(request)
        else:
            known = SESSION_COOKIE not in request.cookies
            if known:
                request.state.auth = None
        path = scope["path"][len(LANE_PREFIX) :]
        if not known or not path or not _may_read(request.state.auth):
            await self.app(scope, receive, send)  # the route answers it (and records a refusal)
            return
        db = get_db(request)
        base = _base(request)
        scope["route"] = READ_ROUTE
        found = fast.key_of(db.engine.dialect.name, base, path, scope["query_string"])
        reads = loopreads.of(request.app.state, db, seconds=get_settings().sta_query_seconds,
                             on_connect=geometry.register_sqlite)  # fmt: skip
        if found is not None and reads is not None:
            key, ids = found
            kept = fast.lookup(key)
            if kept is not None:
                try:
                    raw = await reads.rows(kept.sql, kept.bind(ids))
                except loopreads.TooLongForTheLoop:
                    fast.forget(key)  # this shape is read in the threads from now on
                except loopreads.LoopReadFailed:
                    fast.forget(key, for_good=False)  # read in a thread, kept again if it can be
                else:
                    body = orjson.dumps(kept.answer(kept.rows(raw), base, path))
                    length = str(len(body)).encode()
                    headers = [(b"content-length", length), (b"content-type", b"application/json")]
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
            keep_as = None if fast.known(key) else key
        else:
            keep_as = None
        try:
            response = await _read_in_thread(request, path, keep_as=keep_as)
        except CountyError as exc:
            # a bad query, an unknown entity, a read past its time: told as the route's error handler
            # tells it (the caller is known, there is nothing more to resolve), without reading again
            response = problem_response(request, exc)
        await response(scope, receive, send)


LANE_PREFIX = PREFIX + "/"


@dataclass(frozen=True)
class _Route:
    path: str  # what the metrics name the route by


READ_ROUTE = _Route(LANE_PREFIX + "{path:path}")


def _get(
    db: Database, base: str, path: str, params: dict[str, str], keep_as: tuple[str, str, str, bytes] | None = None
) -> Response:
    with db.reading_within(get_settings().sta_query_seconds) as session:
        ctx = R.Ctx(session, base, db.engine.dialect.name, keep_as=keep_as)
        try:
            # paused_gc: large answers allocate tens of thousands of small objects at once;
            # bounded: the request's statements stop when its time budget is spent (a 400)
            with paused_gc(), R.bounded(ctx):
                return _read(ctx, path, params)
        except (StaQueryError, R.StaNotFound) as exc:
            raise _translate(exc) from exc


def _read(ctx: R.Ctx, path: str, params: dict[str, str]) -> Response:
    target = R.resolve(path)
    opts = Q.parse(params, target.ent)
    if target.ref:
        return _json(R.read_refs(ctx, target, opts))
    if target.prop is not None:
        value = R.read_property(ctx, target)
        if target.value:
            return PlainTextResponse("" if value is None else str(value))
        return _json({target.prop: value})
    if opts.result_format == "dataArray":
        return _json(R.data_array(ctx, target, opts))
    if target.single:
        return _json(R.read_entity(ctx, target, opts, query=params))
    return _json(R.read_collection(ctx, target, opts, query=params, path=path))


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("A SensorThings body may have at most %(mb)s MB", mb=MAX_BODY_BYTES // 1_000_000)
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise StaBadRequest("The body is not JSON: %(error)s", error=str(exc)) from exc


Body = Annotated[Any, Depends(json_body)]


@router.post("/{path:path}")
def post(
    path: str,
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("sensing.write"))],
    body: Body,
) -> Response:
    """Create an entity (with deep insert), or observations in bulk (``CreateObservations``)."""
    writer = W.Writer(session, a.actor)
    base = _base(request)
    try:
        if path.strip("/") == "CreateObservations":
            links = writer.create_observations(body, base)
            flows.after_sta_write(session, writer.created, writer.batches)
            return _json(links, status=201)
        target = R.resolve(path)
        if target.ref:
            return _link(session, a, target, body)
        if target.single or target.prop is not None:
            raise StaQueryError("POST to a collection, e.g. /Things or /Things(1)/Datastreams")
        rid = writer.create(target.ent.plural, body, target.parent)
        flows.after_sta_write(session, writer.created, writer.batches)
        written = writer.observations.get(rid) if target.ent.plural == "Observations" else None
        if written is not None:  # an observation's body is what was written: no read-back
            created = O.as_json(base, rid, written)
        else:
            ctx = R.Ctx(session, base, session.get_bind().dialect.name)
            created = R.read_entity(ctx, R.resolve(f"{target.ent.plural}({rid})"), Q.Options())
        return _json(created, status=201, headers={"Location": f"{base}/{target.ent.plural}({rid})"})
    except (StaQueryError, R.StaNotFound, W.StaInvalid, W.StaMissing, W.StaConflict) as exc:
        raise _translate(exc) from exc


def _link(session: Any, a: Auth, target: R.Target, body: Any) -> Response:
    """``$ref``: link an existing entity (POST to a collection, PUT/PATCH of a to-one navigation)."""
    if target.parent is None or target.key is not None:
        raise StaQueryError("link through a navigation of one entity, e.g. POST /Things(1)/Locations/$ref")
    plural, pid, nav = target.parent
    L.link(W.Writer(session, a.actor), plural, pid, nav, L.referenced_id(body, target.ent.plural))
    flows.after_sta_update(session, plural=plural, entity_id=pid, fields=[nav])
    return Response(status_code=204)


def _single(path: str) -> R.Target:
    target = R.resolve(path)
    if not target.single or target.key is None or target.prop is not None:
        raise StaQueryError("address one entity by its id, e.g. /Things(1)")
    return target


@router.patch("/{path:path}")
def patch(
    path: str,
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("sensing.write"))],
    body: Body,
) -> Response:
    """Change an entity: a merge of the given properties, or a JSON Patch (application/json-patch+json)."""
    try:
        target = R.resolve(path)
        if target.ref:
            return _link(session, a, target, body)
        target = _single(path)
        json_patch = request.headers.get("content-type", "").startswith("application/json-patch+json")
        assert target.key is not None
        W.Writer(session, a.actor).patch(target.ent.plural, target.key, body, json_patch=json_patch)
        _updated(session, target, body, json_patch=json_patch)
        return Response(status_code=200)
    except (StaQueryError, R.StaNotFound, W.StaInvalid, W.StaMissing, W.StaConflict) as exc:
        raise _translate(exc) from exc


@router.put("/{path:path}")
def put(
    path: str,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("sensing.write"))],
    body: Body,
) -> Response:
    """Replace an entity's properties."""
    try:
        target = R.resolve(path)
        if target.ref:
            return _link(session, a, target, body)
        target = _single(path)
        assert target.key is not None
        W.Writer(session, a.actor).patch(target.ent.plural, target.key, body, replace=True)
        _updated(session, target, body)
        return Response(status_code=200)
    except (StaQueryError, R.StaNotFound, W.StaInvalid, W.StaMissing, W.StaConflict) as exc:
        raise _translate(exc) from exc


@router.delete("/{path:path}")
def remove(
    path: str, request: Request, session: WriteSession, a: Annotated[Auth, Depends(require("sensing.write"))]
) -> Response:
    """Delete an entity and what the standard deletes with it, or (``…/$ref``) only a link."""
    try:
        ref = R.resolve(path)
        if ref.ref:
            if ref.parent is None:
                raise StaQueryError("unlink through a navigation of one entity, e.g. /Things(1)/Locations(2)/$ref")
            plural, pid, nav = ref.parent
            child = ref.key
            if child is None and request.query_params.get("$id"):
                child = L.referenced_id(request.query_params["$id"], ref.ent.plural)
            L.unlink(W.Writer(session, a.actor), plural, pid, nav, child)
            flows.after_sta_update(session, plural=plural, entity_id=pid, fields=[nav])
            return Response(status_code=204)
        target = _single(path)
        assert target.key is not None
        W.Writer(session, a.actor).delete(target.ent.plural, target.key)
        return Response(status_code=200)
    except (StaQueryError, R.StaNotFound, W.StaInvalid, W.StaMissing, W.StaConflict) as exc:
        raise _translate(exc) from exc


def _updated(session: Any, target: R.Target, body: Any, *, json_patch: bool = False) -> None:
    """Tell MQTT subscribers of the entity (and of the properties that changed) after commit."""
    assert target.key is not None
    if json_patch:
        ops = body if isinstance(body, list) else []
        fields = [str(op.get("path", "")).strip("/").split("/")[0] for op in ops if isinstance(op, dict)]
    else:
        fields = [k for k in body if k in target.ent.props] if isinstance(body, dict) else []
    flows.after_sta_update(session, plural=target.ent.plural, entity_id=target.key, fields=sorted(set(fields)))


__all__ = ["JSONResponse", "router"]
