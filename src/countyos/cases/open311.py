"""Open311 GeoReport v2 at /open311/v2: discovery, services, service definitions, requests, tokens.

Formats by suffix (``.xml`` — required by the spec — and ``.json``). Errors use the spec's shape
(``[{"code", "description"}]`` / ``<errors><error>…``): 403 for a missing or wrong api_key, 404 for
something that does not exist, 400 for everything else. Posting apps use an api_key: an API token of a
machine account holding ``case.open311``. Categories marked public appear as services; every request
becomes a case on its grid, routed and timed like any other. This server is ``realtime``: POST answers
with the ``service_request_id``; ``/tokens/{token}`` resolves the reporter's tracking token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from countyos.cases import lifecycle
from countyos.cases.models import Attachment, Case, Category, Channel
from countyos.cases.service import attachments, cases, categories, location
from countyos.cases.service.publicmap import is_published, published
from countyos.core import groupcommit
from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound, PermissionDenied, RateLimited, ValidationFailed
from countyos.core.settings import get_settings
from countyos.org.models import Department
from countyos.org.service import tokens
from countyos.web.deps import ReadSession, client_ip, get_db, public
from countyos.web.ratelimit import SlidingWindowLimiter

MAX_REQUESTS = 1000
DEFAULT_SPAN = timedelta(days=90)


class Open311Error(CountyError):
    status = 400
    code = "open311"


def _format(request: Request) -> str:
    path = request.url.path
    return "json" if path.endswith(".json") else "xml"


# characters XML 1.0 cannot carry even escaped (C0 controls but tab/newline/return, surrogates, U+FFFE/F)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(root: str, item: str, rows: list[dict[str, Any]]) -> str:
    def value(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, datetime):
            return v.isoformat()
        return escape(_XML_INVALID.sub("\ufffd", str(v)))

    def node(name: str, v: Any) -> str:
        if isinstance(v, list):
            inner_name = {
                "attributes": "attribute",
                "values": "value",
                "endpoints": "endpoint",
                "formats": "format",
            }.get(name, "item")
            return (
                f"<{name}>"
                + "".join(
                    node(inner_name, x)
                    if not isinstance(x, dict)
                    else f"<{inner_name}>" + "".join(node(k, y) for k, y in x.items()) + f"</{inner_name}>"
                    for x in v
                )
                + f"</{name}>"
            )
        if isinstance(v, dict):
            return f"<{name}>" + "".join(node(k, y) for k, y in v.items()) + f"</{name}>"
        return f"<{name}>{value(v)}</{name}>"

    body = "".join(f"<{item}>" + "".join(node(k, v) for k, v in r.items()) + f"</{item}>" for r in rows)
    return f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>{body}</{root}>'


def _json_ready(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, list):
        return [_json_ready(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_ready(x) for k, x in v.items()}
    return v


def respond(
    request: Request, root: str, item: str, rows: list[dict[str, Any]] | dict[str, Any], status: int = 200
) -> Response:
    import json

    if _format(request) == "json":
        body = json.dumps(_json_ready(rows), ensure_ascii=False)
        return Response(body, status_code=status, media_type="application/json; charset=utf-8")
    if isinstance(rows, dict):  # a single root object (service_definition, discovery)
        xml = _xml("__wrap__", root, [rows]).replace("<__wrap__>", "").replace("</__wrap__>", "")
    else:
        xml = _xml(root, item, rows)
    return Response(xml, status_code=status, media_type="text/xml; charset=utf-8")


def error_response(request: Request, status: int, description: str) -> Response:
    return respond(request, "errors", "error", [{"code": status, "description": description}], status=status)


class Open311Route(APIRoute):
    """Every error of this router in the spec's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                text = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'body'))}: {e['msg']}"
                    for e in exc.errors()
                )
                return error_response(request, 400, text)
            except RateLimited as exc:
                response = error_response(request, 429, exc.message)
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
            except CountyError as exc:
                status = exc.status if exc.status in (403, 404) else 400
                if exc.status == 401:
                    status = 403
                detail = exc.message
                errs = getattr(exc, "errors", None)
                if errs:
                    detail += " (" + "; ".join(f"{e.get('field', '')}: {e.get('message', '')}" for e in errs) + ")"
                return error_response(request, status, detail)

        return route


# Not in the JSON API's OpenAPI: GeoReport v2 is its own published interface (XML or JSON, its own
# error shape), which the API's schema-driven checks do not describe.
router = APIRouter(prefix="/open311/v2", route_class=Open311Route, include_in_schema=False, tags=["open311"])
Public = Annotated[Any, Depends(public)]


def jurisdiction_id() -> str:
    host = urlparse(get_settings().public_url).hostname or "countyos"
    return host


def _check_jurisdiction(value: str | None) -> None:
    if value and value != jurisdiction_id():
        raise NotFound(
            "jurisdiction_id %(j)s was not found; this endpoint serves %(mine)s", j=value, mine=jurisdiction_id()
        )


def _fmt(fmt: str) -> None:
    if fmt not in ("xml", "json"):
        raise NotFound("Format %(fmt)s is not offered; use .xml or .json", fmt=fmt)


def _service(c: Category) -> dict[str, Any]:
    return {
        "service_code": c.service_code,
        "service_name": c.name,
        "description": c.description or c.name,
        "metadata": bool(c.attributes),
        "type": "realtime",
        "keywords": c.keywords or "",
        "group": c.parent.name if c.parent else "",
    }


@router.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str, _: Public) -> Response:
    _fmt(fmt)
    base = get_settings().public_url.rstrip("/") + "/open311/v2/"
    return respond(
        request,
        "discovery",
        "discovery",
        {
            "changeset": "2026-11-27T00:00:00Z",
            "contact": get_settings().county_name,
            "key_service": base.replace("/open311/v2/", "/admin/tokens"),
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": "2026-11-27T00:00:00Z",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@router.get("/services.{fmt}")
def services(
    request: Request, fmt: str, session: ReadSession, _: Public, jurisdiction_id: str | None = None
) -> Response:
    _fmt(fmt)
    _check_jurisdiction(jurisdiction_id)
    rows = [_service(c) for c in categories.list_categories(session, reportable=True, public=True)]
    return respond(request, "services", "service", rows)


@router.get("/services/{service_code}.{fmt}")
def service_definition(
    request: Request, service_code: str, fmt: str, session: ReadSession, _: Public, jurisdiction_id: str | None = None
) -> Response:
    _fmt(fmt)
    _check_jurisdiction(jurisdiction_id)
    cat = categories.get_by_service_code(session, code=service_code)
    if cat is None or not cat.public or cat.is_group or not cat.is_active:
        raise NotFound("service_code %(code)s was not found", code=service_code)
    attrs = [
        {
            k: a.get(k)
            for k in (
                "variable",
                "code",
                "datatype",
                "required",
                "datatype_description",
                "order",
                "description",
                "values",
            )
        }
        for a in cat.attributes
    ]
    return respond(
        request, "service_definition", "service_definition", {"service_code": cat.service_code, "attributes": attrs}
    )


_ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]+)\](\[\])?\Z")


def _attributes(form: Any, cat: Category | categories.CategoryInfo) -> dict[str, Any]:
    got: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for key in form:
        if not key.startswith("attribute"):
            continue
        m = _ATTRIBUTE_KEY.match(key)
        if m is None:
            errors.append({"field": key[:60], "message": "not attribute[code] or attribute[code][]"})
        elif m.group(2):  # attribute[code][]: a multivaluelist
            previous = got.get(m.group(1))
            values = previous if isinstance(previous, list) else ([previous] if previous is not None else [])
            got[m.group(1)] = values + [str(v) for v in form.getlist(key)]
        elif m.group(1) in got:
            errors.append({"field": key[:60], "message": "one value only"})
        else:
            got[m.group(1)] = str(form.get(key))
    defs = {a["code"]: a for a in cat.attributes}
    for code, a in defs.items():
        v = got.get(code)
        if a.get("required") and a.get("variable", True) and (v is None or v == "" or v == []):
            errors.append({"field": f"attribute[{code}]", "message": "required"})
            continue
        keys = {str(x["key"]) for x in a.get("values", [])}
        if v not in (None, "", []) and keys:
            vals = v if isinstance(v, list) else [v]
            if a["datatype"] == "singlevaluelist" and len(vals) > 1:
                errors.append({"field": f"attribute[{code}]", "message": "one value only"})
            if any(str(x) not in keys for x in vals):
                errors.append({"field": f"attribute[{code}]", "message": "not one of the listed values"})
        if v not in (None, "") and a["datatype"] == "number":
            try:
                float(str(v))
            except ValueError:
                errors.append({"field": f"attribute[{code}]", "message": "not a number"})
    unknown = set(got) - set(defs)
    if unknown:
        errors.append({"field": "attribute", "message": "unknown: " + ", ".join(sorted(unknown))})
    if errors:
        raise ValidationFailed("The attributes are not valid", errors=errors)
    return {k: v for k, v in got.items() if k in defs}


def _float(form: Any, name: str) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ValidationFailed("%(name)s is not a number", name=name) from exc


def _limit(request: Request) -> None:
    """Posting is rate-limited per client address (``open311_posts_per_minute``; one window per process)."""
    per_minute = get_settings().open311_posts_per_minute
    if not per_minute:
        return
    limiter = getattr(request.app.state, "public_post_limiter", None)
    if limiter is None or limiter.limit != per_minute:
        limiter = request.app.state.public_post_limiter = SlidingWindowLimiter(per_minute)
    retry = limiter.hit(client_ip(request) or "unknown")
    if retry is not None:
        raise RateLimited(retry_after=retry)


@router.post("/requests.{fmt}")
async def post_request(request: Request, fmt: str, _: Public) -> Response:
    """A report from a posting app. The write runs in the group-commit writer (``core.groupcommit``):
    under load several reports share one transaction, and each is answered after its commit."""
    _fmt(fmt)
    _limit(request)
    form = await request.form()  # read on the event loop, before the writer thread takes the job
    posted = await groupcommit.for_app(request.app.state, get_db(request)).run(
        partial(
            _post,
            form=form,
            api_key=str(form.get("api_key") or request.headers.get("x-api-key") or "").strip(),
            idempotency_key=request.headers.get("idempotency-key"),
            ip=client_ip(request),
        )
    )
    return respond(request, "service_requests", "request", [posted])


def _post(session: Session, *, form: Any, api_key: str, idempotency_key: str | None, ip: str | None) -> dict[str, Any]:
    """Validate, place, route and write one report; the answer's row (plain data: it outlives the session)."""
    if not api_key:
        raise PermissionDenied("An api_key is required to post requests")
    tok = tokens.identify(session, plain=api_key)
    if tok is None or "case.open311" not in tok.permissions:
        raise PermissionDenied("Invalid api_key received -- can't proceed with create_request")
    actor = tok.actor(ip)
    _check_jurisdiction(str(form.get("jurisdiction_id") or "") or None)
    code = str(form.get("service_code") or "").strip()
    if not code:
        raise ValidationFailed("service_code was not provided")
    cat = categories.info_by_service_code(session, code=code)
    if cat is None or not cat.public or cat.is_group or not cat.is_active:
        raise NotFound("service_code %(code)s was not found", code=code)
    lat, lon = _float(form, "lat"), _float(form, "long")
    placed_by_address = None
    if lat is None or lon is None:
        address = str(form.get("address_string") or "").strip()
        spot = location.place_address(session, text=address) if address else None
        if spot is None:
            if address or form.get("address_id"):
                raise ValidationFailed(
                    "address_string names no village or township of the county unambiguously; send lat and long"
                )
            raise ValidationFailed("A location is required: lat and long (WGS-84), or an address_string")
        lon, lat, placed_by_address = spot.lon, spot.lat, spot.name
    description = str(form.get("description") or "")
    if len(description) > 4000:
        raise ValidationFailed("description is limited to 4,000 characters")
    attrs = _attributes(form, cat)
    if placed_by_address:  # the position is the named place's, not the spot's: the console says so
        attrs["location_from_address"] = placed_by_address
    media_url = str(form.get("media_url") or "").strip()
    if media_url:
        attrs["media_url"] = media_url[:500]
    photo_ids = []
    upload = form.get("media")
    if isinstance(upload, UploadFile):  # a photo sent with the request (multipart/form-data), beyond media_url
        upload.file.seek(0)  # the writer may run this report twice (core.groupcommit)
        data = upload.file.read(attachments.MAX_BYTES + 1)
        photo = attachments.store(session, actor=actor, data=data, name=upload.filename, public=True)
        photo_ids.append(photo.id)
    first, last = str(form.get("first_name") or ""), str(form.get("last_name") or "")
    key = idempotency_key
    new = cases.NewCase(
        channel=Channel.OPEN311,
        category_id=cat.id,
        description=description,
        lon=lon,
        lat=lat,
        address=str(form.get("address_string") or "") or None,
        attributes=attrs,
        attachment_ids=photo_ids,
        public_report=True,
        idempotency_key=f"o311:{tok.prefix}:{key}"[:80] if key else None,
        reporter=cases.ReporterIn(
            name=(last + first).strip() or None,
            phone=str(form.get("phone") or "") or None,
            email=str(form.get("email") or "") or None,
            device_id=str(form.get("device_id") or "") or None,
            account_id=str(form.get("account_id") or "") or None,
        ),
        context={"api_token": tok.name},
    )
    case, reporter, _created = cases.create(session, actor=actor, new=new)
    notice = f"{get_settings().public_url.rstrip('/')}/r/{reporter.public_token}"
    return {"service_request_id": case.number, "service_notice": notice, "account_id": reporter.account_id}


@router.get("/tokens/{token}.{fmt}")
def token(
    request: Request, token: str, fmt: str, session: ReadSession, _: Public, jurisdiction_id: str | None = None
) -> Response:
    _fmt(fmt)
    _check_jurisdiction(jurisdiction_id)
    rep = cases.reporter_by_token(session, token=token)
    if rep is None:
        raise NotFound("token %(t)s was not found", t=token)
    case = cases.get(session, case_id=rep.original_case_id)
    return respond(request, "service_requests", "request", [{"service_request_id": case.number, "token": token}])


def _status_notes(case: Case) -> str:
    from countyos.core.i18n import gettext

    return gettext(lifecycle.LABELS[case.state])


# What the public sees: reports the public made itself through a public channel. Grid patrols, staff
# entries, 12345 work orders (written by the hotline's operators) and alarms are never published.
def request_row(
    session: Any, case: Case, departments: dict[int, str], media: dict[int, str], handled_as: Case | None = None
) -> dict[str, Any]:
    """The public record of CASE: what the reporter sent, and the progress of HANDLED_AS (the case it was
    merged into, which may be internal: only its state, department and deadline are shown)."""
    base = get_settings().public_url.rstrip("/")
    progress = handled_as or case
    return {
        "service_request_id": case.number,
        "status": "open" if progress.is_open else "closed",
        "status_notes": _status_notes(progress),
        "service_name": case.category.name,
        "service_code": case.category.service_code,
        "description": case.description,
        "agency_responsible": departments.get(progress.department_id or 0),
        "service_notice": None,
        "requested_datetime": case.reported_at,
        "updated_datetime": max(case.updated_at, progress.updated_at),
        "expected_datetime": progress.handle_deadline or progress.step_deadline,
        "address": case.address or " ".join(x for x in (case.village_name, case.township_name) if x),
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": f"{base}/open311/v2/media/{media[case.id]}" if case.id in media else None,
    }


def _rows(session: Any, found: list[Case], handled_as: dict[int, Case] | None = None) -> list[dict[str, Any]]:
    deps = {i: n for i, n in session.execute(select(Department.id, Department.name)).all()}
    ids = [c.id for c in found]
    media: dict[int, str] = {}
    if ids:
        for token, case_id in session.execute(
            select(Attachment.public_token, Attachment.case_id)
            .where(Attachment.case_id.in_(ids), Attachment.public.is_(True))
            .order_by(Attachment.id)
        ).all():
            media.setdefault(case_id, token)  # the first: the reporter's own photo
    handled_as = handled_as or {}
    return [request_row(session, c, deps, media, handled_as.get(c.id)) for c in found]


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed("%(name)s is not a W3C date-time", name=name) from exc
    if d.tzinfo is None:
        raise ValidationFailed("%(name)s needs a time zone (Z or ±hh:mm)", name=name)
    return d


@router.get("/requests.{fmt}")
def get_requests(
    request: Request,
    fmt: str,
    session: ReadSession,
    _: Public,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    _fmt(fmt)
    _check_jurisdiction(jurisdiction_id)
    stmt = select(Case).where(Case.merged_into_id.is_(None), published())
    if service_request_id:
        numbers = [x.strip() for x in service_request_id.split(",") if x.strip()][:MAX_REQUESTS]
        stmt = stmt.where(Case.number.in_(numbers))
    else:
        if status and status not in ("open", "closed"):
            raise ValidationFailed("status is open or closed")
        end = _date(end_date, "end_date") or utcnow()
        start = _date(start_date, "start_date") or end - DEFAULT_SPAN
        if end - start > DEFAULT_SPAN:
            raise ValidationFailed("start_date and end_date may span at most 90 days")
        stmt = stmt.where(Case.reported_at >= start, Case.reported_at <= end)
        if service_code:
            codes = [x.strip() for x in service_code.split(",") if x.strip()]
            stmt = stmt.join(Category, Category.id == Case.category_id).where(Category.service_code.in_(codes))
        if status:
            stmt = stmt.where(Case.is_open.is_(status == "open"))
    found = list(session.scalars(stmt.order_by(Case.reported_at.desc()).limit(MAX_REQUESTS)))
    return respond(request, "service_requests", "request", _rows(session, found))


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(
    request: Request,
    service_request_id: str,
    fmt: str,
    session: ReadSession,
    _: Public,
    jurisdiction_id: str | None = None,
) -> Response:
    _fmt(fmt)
    _check_jurisdiction(jurisdiction_id)
    case = cases.get_by_number(session, number=service_request_id)
    if case is None or not is_published(case):
        raise NotFound("service_request_id %(id)s was not found", id=service_request_id)
    handled_as: dict[int, Case] = {}
    if case.merged_into_id is not None:  # shown as the reporter sent it, with the progress of the kept case
        kept = cases.get(session, case_id=case.merged_into_id)
        handled_as[case.id] = kept
        if is_published(kept):
            case, handled_as = kept, {}
    return respond(request, "service_requests", "request", _rows(session, [case], handled_as))


@router.get("/media/{token}")
def media(token: str, session: ReadSession, _: Public) -> Response:
    """A published file of a published request, named by its random token (a photo as a copy without EXIF)."""
    att = attachments.get_public(session, token=token)
    case = cases.get(session, case_id=att.case_id) if att.case_id is not None else None
    if case is None or not is_published(case):
        raise NotFound("This file does not exist or is not public")
    path, media_type = attachments.public_file(att)  # a photo without its EXIF (position, camera)
    return FileResponse(path, media_type=media_type)
