"""The open-data portal (一网通享): public, phone first, without login.

``/open`` searches the open catalogue (text, facets with their counts, sort, 20 a page);
``/open/datasets/{name}`` shows a dataset's public metadata, its open 信息项, the first rows and the
download links and API addresses; ``/open/datasets/{name}/download.{ext}`` sends the rows as CSV, XLSX,
JSON or GeoJSON (``service/downloads.py``), each download recorded for 数据沉淀 (who only when logged in).
What is open is decided once, in ``service/opendata.py``: these pages show exactly what the CKAN API
serves, and a 信息项 not marked open appears nowhere.
``?large=1`` is the large-text (适老) mode, as on the services guide.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from countyos.core.db import Database
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.data import flows
from countyos.data.codes import LABELS, FieldType, OpenType, UpdateCycle
from countyos.data.models import Resource
from countyos.data.service import downloads, opendata
from countyos.web.deps import Auth, ReadSession, get_db, public
from countyos.web.templating import templates, translate

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 1000
PREVIEW_ROWS = 20
SUMMARY_CHARS = 120  # a result's summary in the list
PREVIEW_CHARS = 80  # a long value (a geometry) in the preview table
MAX_Q = 100

# Facets: the CKAN search field → its heading. Values are URL names, format names or update-cycle codes.
FACETS = {
    "groups": N_("Themes"),
    "organization": N_("Provider department"),
    "res_format": N_("Format"),
    "update_cycle": N_("Update cycle"),
}
FacetValue = Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_-]*$")]
SORTS = {"updated": "metadata_modified desc, name asc", "name": "name asc"}
SORT_LABELS = {"updated": N_("Recently updated"), "name": N_("Name")}
CYCLE_LABELS: dict[str, str] = dict(LABELS[UpdateCycle])  # 不定时, 实时, 每日 …
TYPE_LABELS: dict[str, str] = dict(LABELS[FieldType])  # 整数, 小数, 文本, 日期, 日期时间, 是非, 空间
OPEN_LABELS: dict[str, str] = dict(LABELS[OpenType])
FORMAT_NAMES = {"CSV": "CSV", "XLSX": "Excel (XLSX)", "JSON": "JSON", "GeoJSON": "GeoJSON"}
EXT_OF = {fmt: ext for ext, fmt in downloads.EXTENSIONS.items()}


def _site() -> str:
    return get_settings().public_url.rstrip("/")


def _shorten(text: str, most: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[:most].rstrip() + "…"


def _last_updated(s: opendata.OpenSet, res: Resource) -> datetime:
    """When the entry or its data last changed (the later of the two)."""
    load = s.loads.get(res.current_load_id or 0)
    finished = load.finished_at if load is not None else None
    return max(res.updated_at, finished) if finished is not None else res.updated_at


def _licence(res: Resource) -> tuple[str, str]:
    return opendata.LICENCES.get(res.licence, (res.licence, ""))


def _href(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v})
    return "/open" + (f"?{query}" if query else "")


def _facets(found: dict[str, Any], chosen: dict[str, str], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Each facet's values with their counts and the link that picks (or, when picked, drops) the value."""
    out = []
    for field, title in FACETS.items():
        values = []
        for item in found["search_facets"][field]["items"]:
            picked = chosen[field] == item["name"]
            values.append(
                {
                    "label": CYCLE_LABELS.get(item["name"], item["name"])
                    if field == "update_cycle"
                    else FORMAT_NAMES.get(item["name"], item["display_name"]),
                    "translate": field == "update_cycle" and item["name"] in CYCLE_LABELS,
                    "count": item["count"],
                    "picked": picked,
                    "href": _href(params, **{field: "" if picked else item["name"]}),
                }
            )
        if chosen[field] and not any(v["picked"] for v in values):  # nothing left with it: still removable
            values.insert(0, {"label": chosen[field], "translate": False, "count": 0, "picked": True,
                              "href": _href(params, **{field: ""})})  # fmt: skip
        out.append({"field": field, "title": title, "values": values})
    return out


def _result(s: opendata.OpenSet, res: Resource) -> dict[str, Any]:
    return {
        "name": res.name,
        "title": res.title,
        "department": s.departments[res.provider_id].name,
        "summary": _shorten(res.summary, SUMMARY_CHARS),
        "formats": [FORMAT_NAMES[f] for f in opendata.formats_of(res)] if opendata.rows_open(res) else [],
        "conditional": res.open_type == OpenType.CONDITIONAL,
        "updated": _last_updated(s, res),
        "licence": _licence(res)[0],
    }


@router.get("/open", dependencies=[Depends(public)])
def search_page(
    request: Request,
    session: ReadSession,
    q: Annotated[str, Query(max_length=MAX_Q)] = "",
    groups: FacetValue = "",
    organization: FacetValue = "",
    res_format: FacetValue = "",
    update_cycle: FacetValue = "",
    sort: Annotated[Literal["updated", "name"], Query()] = "updated",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    large: Annotated[bool, Query()] = False,
) -> Response:
    """Search the open catalogue: text, one value per facet (AND between facets), sort, pages of 20."""
    q = " ".join(q.split())
    chosen = {"groups": groups, "organization": organization, "res_format": res_format, "update_cycle": update_cycle}
    fq = " ".join(f'{field}:"{value}"' for field, value in chosen.items() if value)
    s = opendata.open_set(session)
    found = opendata.search(
        s,
        site=_site(),
        q=q,
        fq=fq,
        rows=PAGE_SIZE,
        start=(page - 1) * PAGE_SIZE,
        sort=SORTS[sort],
        facet_fields=list(FACETS),
    )
    by_uid = {r.uid: r for r in s.resources}
    params: dict[str, Any] = {"q": q, **chosen, "sort": "" if sort == "updated" else sort, "large": 1 if large else ""}
    total = found["count"]
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return templates(request).render(
        request,
        "data/open/search.html",
        {
            "q": q,
            "chosen": chosen,
            "sort": sort,
            "sorts": [
                (key, label, _href(params, sort="" if key == "updated" else key)) for key, label in SORT_LABELS.items()
            ],
            "facets": _facets(found, chosen, params),
            "any_chosen": any(chosen.values()),
            "clear_href": _href({"q": q, "sort": params["sort"], "large": params["large"]}),
            "results": [_result(s, by_uid[p["id"]]) for p in found["results"]],
            "total": total,
            "page": page,
            "pages": pages,
            "prev_href": _href(params, page=page - 1 if page > 2 else "") if page > 1 else "",
            "next_href": _href(params, page=page + 1) if page < min(pages, MAX_PAGE) else "",
            "large": large,
            "toggle_href": _href(params, large="" if large else 1, page=page if page > 1 else ""),
        },
    )


def _preview_cell(request: Request, value: Any, kind: FieldType) -> str:
    if value is None:
        return ""
    if kind == FieldType.BOOLEAN:
        return translate(request, N_("Yes") if value else N_("No"))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return _shorten(str(value), PREVIEW_CHARS)


@router.get("/open/datasets/{name}", dependencies=[Depends(public)])
def dataset_page(
    request: Request,
    name: Annotated[str, Path(min_length=1, max_length=100)],
    session: ReadSession,
    large: Annotated[bool, Query()] = False,
) -> Response:
    """A dataset's public metadata, open 信息项, first rows, downloads and API addresses."""
    s = opendata.open_set(session)
    res = opendata.find(s, name)
    load = s.loads.get(res.current_load_id or 0)
    items = opendata.open_items(res)
    rows_open = opendata.rows_open(res) and load is not None
    preview: list[list[str]] = []
    if rows_open:
        _, rows = opendata.rows_for_download(session, res, PREVIEW_ROWS)
        preview = [[_preview_cell(request, v, i.type) for v, i in zip(row, items, strict=True)] for row in rows]
    too_large = downloads.too_large(load)
    site = _site()
    licence_title, licence_url = _licence(res)
    base = f"/open/datasets/{quote(res.name, safe='')}"
    return templates(request).render(
        request,
        "data/open/dataset.html",
        {
            "res": res,
            "department": s.departments[res.provider_id].name,
            "classification": " / ".join(c for c in (res.class_1, res.class_2, res.class_3, res.class_4) if c),
            "cycle_label": CYCLE_LABELS[res.update_cycle],
            "open_label": OPEN_LABELS[res.open_type],
            "conditional": res.open_type == OpenType.CONDITIONAL,
            "published_on": res.published_on.isoformat() if res.published_on else "",
            "themes": [(t, _href({"groups": s.group_names[t]})) for t in res.themes],
            "updated": _last_updated(s, res),
            "licence_title": licence_title,
            "licence_url": licence_url,
            "items": [(i.label, i.name, TYPE_LABELS[i.type]) for i in items],
            "rows_open": rows_open,
            "rows": load.rows_loaded if load is not None else 0,
            "preview": preview,
            "preview_labels": [i.label for i in items],
            "too_large": too_large,
            "most_rows": downloads.MAX_DOWNLOAD_ROWS,
            "downloads": []
            if too_large or not rows_open
            else [(FORMAT_NAMES[f], f"{base}/download.{EXT_OF[f]}") for f in opendata.formats_of(res)],
            "package_show": f"{site}/api/3/action/package_show?{urlencode({'id': res.name})}",
            "datastore_search": f"{site}/api/3/action/datastore_search?"
            + urlencode({"resource_id": opendata.resource_id(res, "CSV"), "limit": 5})
            if rows_open
            else "",
            "large": large,
            "back_href": _href({"large": 1 if large else ""}),
            "toggle_href": f"{base}" + ("" if large else "?large=1"),
        },
    )


def _stream(db: Database, plan: downloads.Plan, user_id: int | None) -> Iterator[bytes]:
    """The download recorded, then the file from a read session of its own: both after the route's
    session has ended (it ends when the route returns)."""
    flows.record_download(db, plan=plan, user_id=user_id)
    with db.reading() as session:
        yield from downloads.write(session, plan)


@router.get("/open/datasets/{name}/download.{ext}")
def download(
    request: Request,
    name: Annotated[str, Path(min_length=1, max_length=100)],
    ext: Annotated[str, Path(max_length=10)],
    session: ReadSession,
    who: Annotated[Auth | None, Depends(public)],
) -> Response:
    """The open rows as CSV, XLSX, JSON or GeoJSON (only the 信息项 marked open). Each download is recorded
    (数据沉淀 counts them): the user only when logged in, nothing of an anonymous visitor."""
    res = opendata.find(opendata.open_set(session), name)
    plan = downloads.plan(session, res, ext=ext)
    return StreamingResponse(
        _stream(get_db(request), plan, who.user.id if who is not None else None),
        media_type=plan.media_type,
        headers={"Content-Disposition": plan.content_disposition},
    )
