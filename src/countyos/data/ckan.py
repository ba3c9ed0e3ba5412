"""The CKAN action API (``/api/3/action/{name}`` and ``/api/action/{name}``) and the DCAT 3 catalogue
(``/catalog.jsonld``, ``/catalog.ttl``) of the county's open data, for the field's tools unchanged
(``ckanapi``, CKAN harvesters, DCAT harvesters).

Like CKAN: each action takes its parameters from the query string (GET) or a JSON body (POST), answers
``{"help", "success", "result"}``, and fails with ``{"success": false, "error": {"__type", …}}`` — 404
``Not Found Error``, 409 ``Validation Error`` (field → messages), 403 ``Authorization Error``, 400 for an
unknown action. Read-only: only the reading actions exist; anonymous callers see exactly what the public
portal shows (``data/service/opendata.py``). ``datastore_search_sql`` runs one checked SELECT over the open
resources (``data/service/sqlsearch.py``); its refusals (403) go to the audit log like every refusal
(``web/refusals.py``, coalesced per address and minute).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from countyos.core import i18n
from countyos.core.errors import CountyError, NotFound, PermissionDenied
from countyos.core.settings import get_settings
from countyos.data.service import dcat, opendata, sqlsearch
from countyos.web import refusals
from countyos.web.deps import ReadSession, public

MAX_BODY = 64 * 1024
MAX_LIST = 100


class Params:
    """An action's parameters, with CKAN's coercions (JSON strings in a query string, "true"/"false")."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def text(self, key: str, default: str = "") -> str:
        value = self.raw.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str | int | float):
            raise opendata.ValidationError({key: ["must be a string"]})
        return str(value)[:2000]

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.raw.get(key, default)
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise opendata.ValidationError({key: ["Invalid integer"]}) from None
        if not lo <= n <= hi:
            raise opendata.ValidationError({key: [f"Must be between {lo} and {hi}"]})
        return n

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1", "yes", "on")

    def structured(self, key: str) -> Any:
        value = self.raw.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            try:
                return json.loads(value)
            except ValueError:
                raise opendata.ValidationError({key: ["Cannot parse JSON"]}) from None
        return value

    def names(self, key: str) -> list[str]:
        value = self.structured(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_LIST or not all(isinstance(i, str) for i in items):
            raise opendata.ValidationError({key: [f"a list of at most {MAX_LIST} names"]})
        return items


async def _params(request: Request) -> Params:
    raw: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    if request.method == "POST":
        body = await request.body()
        if len(body) > MAX_BODY:
            raise opendata.ValidationError({"__body": ["too large"]})
        if body:
            ctype = request.headers.get("content-type", "")
            if "json" in ctype or body[:1] == b"{":
                try:
                    data = json.loads(body)
                except ValueError:
                    raise opendata.ValidationError({"__body": ["Cannot parse JSON"]}) from None
                if not isinstance(data, dict):
                    raise opendata.ValidationError({"__body": ["must be a JSON object"]})
                raw.update(data)
            else:
                form = await request.form()
                raw.update({k: v for k, v in form.items() if isinstance(v, str)})
    return Params(raw)


def _site() -> str:
    return get_settings().public_url.rstrip("/")


# -- actions ----------------------------------------------------------------------------------------------------


def package_list(s: Session, p: Params) -> Any:
    names = [r.name for r in opendata.open_set(s).resources]
    offset = p.integer("offset", 0, 0, 1_000_000)
    limit = p.integer("limit", 1000, 0, 1000)
    return names[offset : offset + limit]


def package_search(s: Session, p: Params) -> Any:
    return opendata.search(
        opendata.open_set(s),
        site=_site(),
        q=p.text("q"),
        fq=p.text("fq"),
        rows=p.integer("rows", 10, 0, opendata.MAX_ROWS),
        start=p.integer("start", 0, 0, 1_000_000),
        sort=p.text("sort", "score desc, metadata_modified desc") or "score desc, metadata_modified desc",
        facet_fields=p.names("facet.field"),
        facet_limit=p.integer("facet.limit", 50, -1, 1000) % 1001,
    )


def package_show(s: Session, p: Params) -> Any:
    found = opendata.open_set(s)
    return opendata.package(found, opendata.find(found, p.text("id")), _site())


def _orgs(s: Session, p: Params, *, groups: bool) -> Any:
    found = opendata.open_set(s)
    if groups:
        items = [found.group(t) for t in found.group_names]
        count = {t: sum(t in r.themes for r in found.resources) for t in found.group_names}
        for item, t in zip(items, found.group_names, strict=True):
            item["package_count"] = count[t]
    else:
        items = [found.org(d) for d in found.org_names]
        for item, d in zip(items, found.org_names, strict=True):
            item["package_count"] = sum(r.provider_id == d for r in found.resources)
    items.sort(key=lambda i: i["name"])
    if p.flag("all_fields", False):
        return items
    return [i["name"] for i in items]


def _org_show(s: Session, p: Params, *, groups: bool) -> Any:
    found = opendata.open_set(s)
    wanted = p.text("id")
    if groups:
        theme = next((t for t, n in found.group_names.items() if wanted in (n, found.group(t)["id"])), None)
        if theme is None:
            raise NotFound("Not found")
        out, members = found.group(theme), [r for r in found.resources if theme in r.themes]
    else:
        dept = next((d for d, n in found.org_names.items() if wanted in (n, found.org(d)["id"])), None)
        if dept is None:
            raise NotFound("Not found")
        out, members = found.org(dept), [r for r in found.resources if r.provider_id == dept]
    out["package_count"] = len(members)
    if p.flag("include_datasets", False):
        out["packages"] = [opendata.package(found, r, _site()) for r in members[:1000]]
    return out


def tag_list(s: Session, p: Params) -> Any:
    found = opendata.open_set(s)
    tags = sorted({k for r in found.resources for k in r.keywords})
    q = p.text("query") or p.text("q")
    return [t for t in tags if q in t] if q else tags


def resource_show(s: Session, p: Params) -> Any:
    found = opendata.open_set(s)
    res, fmt = opendata.find_by_resource_id(found, p.text("id"))
    return next(
        r for r in opendata.resources_of(res, _site(), found.loads.get(res.current_load_id or 0)) if r["format"] == fmt
    )


def datastore_search(s: Session, p: Params) -> Any:
    found = opendata.open_set(s)
    rid = p.text("resource_id") or p.text("id")
    res, _fmt = opendata.find_by_resource_id(found, rid)
    q = p.structured("q")
    return opendata.datastore_search(
        s,
        res,
        rid=rid,
        filters=p.structured("filters"),
        q=q if isinstance(q, dict) else p.text("q"),
        fields=p.structured("fields"),
        sort=p.text("sort"),
        limit=p.integer("limit", 100, 0, opendata.MAX_LIMIT),
        offset=p.integer("offset", 0, 0, opendata.MAX_OFFSET),
        include_total=p.flag("include_total", True),
        distinct=p.flag("distinct", False),
    )


def datastore_search_sql(s: Session, p: Params) -> Any:
    """One read-only SELECT over the open resources (``service/sqlsearch.py`` says what it may do)."""
    sql = p.raw.get("sql")
    if sql is None or sql == "":
        raise opendata.ValidationError({"sql": ["Missing value"]})
    if not isinstance(sql, str):
        raise opendata.ValidationError({"sql": ["must be a string"]})
    return sqlsearch.search_sql(s, opendata.open_set(s), sql=sql)


def status_show(s: Session, p: Params) -> Any:
    return {
        "site_title": "CountyOS",
        "site_url": _site(),
        "ckan_version": "2.10.4",
        "locale_default": "zh_Hans_CN",
        "extensions": ["datastore", "dcat"],
    }


ACTIONS: dict[str, Callable[[Session, Params], Any]] = {
    "package_list": package_list,
    "package_search": package_search,
    "package_show": package_show,
    "organization_list": lambda s, p: _orgs(s, p, groups=False),
    "organization_show": lambda s, p: _org_show(s, p, groups=False),
    "group_list": lambda s, p: _orgs(s, p, groups=True),
    "group_show": lambda s, p: _org_show(s, p, groups=True),
    "tag_list": tag_list,
    "resource_show": resource_show,
    "datastore_search": datastore_search,
    "datastore_search_sql": datastore_search_sql,
    "status_show": status_show,
}


def _answer(action: str, status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"help": f"{_site()}/api/3/action/help_show?name={action}", **body}, status_code=status)


def _error(request: Request, action: str, exc: CountyError) -> JSONResponse:
    with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):  # ?lang= or the cookie
        return _error_in_locale(action, exc)


def _error_in_locale(action: str, exc: CountyError) -> JSONResponse:
    if isinstance(exc, opendata.ValidationError):
        return _answer(action, 409, {"success": False, "error": {"__type": "Validation Error", **exc.fields}})
    if isinstance(exc, NotFound):
        return _answer(action, 404, {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}})
    if isinstance(exc, PermissionDenied) or exc.status in (401, 403):
        return _answer(
            action, 403, {"success": False, "error": {"__type": "Authorization Error", "message": exc.message}}
        )
    return _answer(
        action, exc.status, {"success": False, "error": {"__type": "Validation Error", "message": exc.message}}
    )


router = APIRouter(include_in_schema=False, tags=["open data"])


@router.api_route("/api/3/action/{action}", methods=["GET", "POST"], dependencies=[Depends(public)])
@router.api_route("/api/action/{action}", methods=["GET", "POST"], dependencies=[Depends(public)])
async def action(request: Request, action: str, session: ReadSession) -> Response:
    handler = ACTIONS.get(action)
    if handler is None:
        message = f"Bad request - Action name not known: {action[:100]}"
        return _answer(action[:100], 400, {"success": False, "error": {"__type": "Bad request", "message": message}})
    try:
        params = await _params(request)
        result = await anyio.to_thread.run_sync(handler, session, params)
    except CountyError as exc:
        if isinstance(exc, PermissionDenied):  # a table or function the query may not use: audited, coalesced
            detail = {"reason": exc.message_id, "action": action, **{k: str(v)[:60] for k, v in exc.params.items()}}
            request.state.refusal = refusals.Refusal("access.denied", detail=detail)
            await refusals.record(request, exc)
        return _error(request, action, exc)
    return _answer(action, 200, {"success": True, "result": result})


def _catalogue(session: Session) -> Any:
    found = opendata.open_set(session)
    site = _site()
    packages = [opendata.package(found, r, site) for r in found.resources]
    settings = get_settings()
    county = getattr(settings, "county_name", "") or "CountyOS"
    return dcat.catalogue_graph(
        packages=packages,
        site_url=site,
        title=f"{county} 公共数据开放目录",
        description="县域政务数据资源开放目录 (DCAT 3)",
        publisher_name=county,
    )


@router.get("/catalog.jsonld", dependencies=[Depends(public)])
def catalog_jsonld(session: ReadSession) -> Response:
    return Response(dcat.serialize(_catalogue(session), "json-ld"), media_type="application/ld+json")


@router.get("/catalog.ttl", dependencies=[Depends(public)])
def catalog_ttl(session: ReadSession) -> Response:
    return Response(dcat.serialize(_catalogue(session), "turtle"), media_type="text/turtle; charset=utf-8")
