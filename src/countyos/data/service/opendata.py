"""Open data: the published resources the public may see, in the shapes of CKAN's action API.

What is open: a resource PUBLISHED in the catalogue whose 开放类型 is not 不开放. Its metadata is listed;
its rows (``datastore_search``, downloads) only when it opens unconditionally and has a current load, and
only the 信息项 marked open (``InfoItem.open``): a column not marked open never leaves, whatever is asked.

The dicts follow CKAN 2.10's ``package_show``, ``organization_show``, ``group_show`` and
``datastore_search`` so that ``ckanapi`` and CKAN harvesters read them unchanged. Organizations are the
provider departments, groups the catalogue's 主题, with URL names in pinyin.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pypinyin import lazy_pinyin
from sqlalchemy import Table, asc, desc, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from countyos.core import errors
from countyos.core.i18n import N_
from countyos.data.codes import FieldType, OpenType
from countyos.data.lifecycle import State
from countyos.data.models import InfoItem, Load, Resource
from countyos.data.service import tables
from countyos.org.models import Department

NAMESPACE = uuid.UUID("5b0e3c52-7b86-4f43-9a36-1f5a3c0d2e11")
MAX_ROWS = 1000  # package_search rows
MAX_LIMIT = 32_000  # datastore_search limit (CKAN's default ckan.datastore.search.rows_max)
MAX_OFFSET = 10_000_000
MAX_FILTER_VALUES = 100
FORMATS = {
    "CSV": ("csv", "text/csv"),
    "XLSX": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "JSON": ("json", "application/json"),
    "GeoJSON": ("geojson", "application/geo+json"),
}
LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODC-BY-1.0": ("Open Data Commons Attribution License", "https://opendatacommons.org/licenses/by/1-0/"),
}
CKAN_TYPES = {
    FieldType.INTEGER: "int",
    FieldType.NUMBER: "numeric",
    FieldType.TEXT: "text",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamp",
    FieldType.BOOLEAN: "bool",
    FieldType.GEOMETRY: "text",
}


class ValidationError(errors.CountyError):
    """CKAN's ``Validation Error`` (409): the field names and what is wrong with each."""

    status = 409
    code = "validation_error"
    title = N_("The request is not valid")
    takes_message_id = False  # CKAN's field names and their English messages, not message ids

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(N_("The request is not valid"))
        self.fields = fields


def slug(text: str) -> str:
    """A CKAN URL name from Chinese or other text (pinyin, lower case, - between words)."""
    words = lazy_pinyin(text)
    out = re.sub(r"[^a-z0-9]+", "-", "-".join(words).lower()).strip("-")
    return out[:90] or "x"


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value is not None else None


@dataclass(frozen=True)
class OpenSet:
    """Everything open, read once per request: the resources, their departments and the name maps."""

    resources: list[Resource]
    departments: dict[int, Department]
    org_names: dict[int, str]
    group_names: dict[str, str]  # theme → URL name
    loads: dict[int, Load]

    def org(self, dept_id: int) -> dict[str, Any]:
        d = self.departments[dept_id]
        return {
            "id": str(uuid.uuid5(NAMESPACE, f"org:{d.id}")),
            "name": self.org_names[d.id],
            "title": d.name,
            "display_name": d.name,
            "description": "",
            "type": "organization",
            "is_organization": True,
            "state": "active",
            "approval_status": "approved",
            "image_url": "",
            "created": _iso(d.created_at),
        }

    def group(self, theme: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(NAMESPACE, f"group:{theme}")),
            "name": self.group_names[theme],
            "title": theme,
            "display_name": theme,
            "description": "",
            "type": "group",
            "is_organization": False,
            "state": "active",
            "approval_status": "approved",
            "image_display_url": "",
        }


def open_set(session: Session) -> OpenSet:
    resources = list(
        session.scalars(
            select(Resource)
            .where(Resource.state == State.PUBLISHED, Resource.open_type != OpenType.CLOSED)
            .order_by(Resource.name)
            .options(selectinload(Resource.items))
        )
    )
    dept_ids = {r.provider_id for r in resources}
    departments = (
        {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(dept_ids)))} if dept_ids else {}
    )
    org_names: dict[int, str] = {}
    for d in sorted(departments.values(), key=lambda d: d.id):
        name = slug(d.name)
        org_names[d.id] = name if name not in org_names.values() else f"{name}-{d.id}"
    group_names: dict[str, str] = {}
    for theme in sorted({t for r in resources for t in r.themes}):
        name = slug(theme)
        group_names[theme] = name if name not in group_names.values() else f"{name}-{len(group_names)}"
    load_ids = [r.current_load_id for r in resources if r.current_load_id]
    loads = {ld.id: ld for ld in session.scalars(select(Load).where(Load.id.in_(load_ids)))} if load_ids else {}
    return OpenSet(resources, departments, org_names, group_names, loads)


def rows_open(res: Resource) -> bool:
    """Whether the public may read the rows (not only the metadata)."""
    return res.open_type == OpenType.UNCONDITIONAL and res.current_load_id is not None


def open_items(res: Resource) -> list[InfoItem]:
    return [i for i in res.items if i.open]


def resource_id(res: Resource, fmt: str) -> str:
    return res.uid if fmt == "CSV" else str(uuid.uuid5(NAMESPACE, f"{res.uid}:{fmt}"))


def formats_of(res: Resource) -> list[str]:
    fmts = ["CSV", "XLSX", "JSON"]
    if any(i.type == FieldType.GEOMETRY for i in open_items(res)):
        fmts.append("GeoJSON")
    return fmts


def resources_of(res: Resource, site: str, load: Load | None) -> list[dict[str, Any]]:
    if not rows_open(res) or load is None:
        return []
    out = []
    for n, fmt in enumerate(formats_of(res)):
        ext, mime = FORMATS[fmt]
        out.append(
            {
                "id": resource_id(res, fmt),
                "package_id": res.uid,
                "name": f"{res.title}（{fmt}）",
                "description": res.summary,
                "format": fmt,
                "mimetype": mime,
                "url": f"{site}/open/datasets/{res.name}/download.{ext}",
                "url_type": "datastore",
                "datastore_active": True,
                "state": "active",
                "position": n,
                "size": None,
                "created": _iso(load.finished_at or load.started_at),
                "last_modified": _iso(load.finished_at),
                "metadata_modified": _iso(load.finished_at),
                "rows": load.rows_loaded,
            }
        )
    return out


def package(s: OpenSet, res: Resource, site: str) -> dict[str, Any]:
    title, url = LICENCES.get(res.licence, (res.licence, ""))
    resources = resources_of(res, site, s.loads.get(res.current_load_id or 0))
    extras = {
        "resource_code": res.code,
        "classification": "/".join(c for c in (res.class_1, res.class_2, res.class_3, res.class_4) if c),
        "update_cycle": res.update_cycle.value,
        "open_type": res.open_type.value,
        "open_condition": res.open_condition,
        "share_type": res.share_type.value,
        "published_at": res.published_on.isoformat() if res.published_on else "",
        "provider_code": s.departments[res.provider_id].uscc or "",
        "source_system": res.source_system,
        "grade": res.grade.value,
    }
    return {
        "id": res.uid,
        "name": res.name,
        "title": res.title,
        "notes": res.summary,
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": True,
        "url": f"{site}/open/datasets/{res.name}",
        "version": str(s.loads[res.current_load_id].number) if res.current_load_id in s.loads else None,
        "author": s.departments[res.provider_id].name,
        "maintainer": s.departments[res.provider_id].name,
        "license_id": res.licence,
        "license_title": title,
        "license_url": url,
        "metadata_created": _iso(res.created_at),
        "metadata_modified": _iso(res.updated_at),
        "owner_org": s.org(res.provider_id)["id"],
        "organization": s.org(res.provider_id),
        "tags": [
            {"id": str(uuid.uuid5(NAMESPACE, f"tag:{k}")), "name": k, "display_name": k, "state": "active"}
            for k in res.keywords
        ],
        "num_tags": len(res.keywords),
        "groups": [s.group(t) for t in res.themes],
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def find(s: OpenSet, id_or_name: str) -> Resource:
    for r in s.resources:
        if id_or_name in (r.uid, r.name):
            return r
    raise errors.NotFound(N_("Not found"))


def find_by_resource_id(s: OpenSet, rid: str) -> tuple[Resource, str]:
    for r in s.resources:
        if rows_open(r):
            for fmt in formats_of(r):
                if resource_id(r, fmt) == rid:
                    return r, fmt
    raise errors.NotFound(N_("Not found"))


# -- package_search ----------------------------------------------------------------------------------------

FQ_TERM = re.compile(r'([+-]?)([a-z_]+):("(?:[^"\\]|\\.)*"|\S+)')
FQ_FIELDS = {"organization", "groups", "tags", "res_format", "license_id", "name", "id", "update_cycle", "open_type"}


def _values(s: OpenSet, res: Resource, field: str) -> set[str]:
    if field == "organization":
        return {s.org_names[res.provider_id]}
    if field == "groups":
        return {s.group_names[t] for t in res.themes}
    if field == "tags":
        return set(res.keywords)
    if field == "res_format":
        return set(formats_of(res)) if rows_open(res) else set()
    if field == "license_id":
        return {res.licence}
    if field == "name":
        return {res.name}
    if field == "id":
        return {res.uid}
    if field == "update_cycle":
        return {res.update_cycle.value}
    if field == "open_type":
        return {res.open_type.value}
    return set()


def parse_fq(fq: str) -> list[tuple[bool, str, str]]:
    """Solr filter terms ``field:value`` / ``field:"quoted value"`` / ``-field:value`` (AND between them)."""
    terms = []
    text = fq.replace(" AND ", " ").strip()
    pos = 0
    for m in FQ_TERM.finditer(text):
        if text[pos : m.start()].strip():
            raise ValidationError({"fq": [f"cannot read: {text[pos : m.start()].strip()[:50]}"]})
        pos = m.end()
        sign, field, value = m.groups()
        if field not in FQ_FIELDS:
            raise ValidationError({"fq": [f"unknown field: {field}"]})
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        terms.append((sign == "-", field, value))
    if text[pos:].strip():
        raise ValidationError({"fq": [f"cannot read: {text[pos:].strip()[:50]}"]})
    return terms


def _matches_q(s: OpenSet, res: Resource, q: str) -> bool:
    if not q or q == "*:*":
        return True
    hay = " ".join(
        [res.title, res.summary, res.name, res.code, *res.keywords, *res.themes, s.departments[res.provider_id].name]
    ).lower()
    return all(word.lower() in hay for word in q.split())


SORTS: dict[str, Callable[[OpenSet, Resource], Any]] = {
    "name": lambda s, r: r.name,
    "title_string": lambda s, r: r.title,
    "metadata_modified": lambda s, r: r.updated_at,
    "metadata_created": lambda s, r: r.created_at,
    "score": lambda s, r: 0,
}


def search(
    s: OpenSet,
    *,
    site: str,
    q: str = "",
    fq: str = "",
    rows: int = 10,
    start: int = 0,
    sort: str = "score desc, metadata_modified desc",
    facet_fields: Sequence[str] = (),
    facet_limit: int = 50,
) -> dict[str, Any]:
    terms = parse_fq(fq) if fq else []
    found = [
        r
        for r in s.resources
        if _matches_q(s, r, q) and all((value in _values(s, r, field)) != negate for negate, field, value in terms)
    ]
    for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
        key, _, direction = part.partition(" ")
        if key not in SORTS or direction.strip() not in ("", "asc", "desc"):
            raise ValidationError({"sort": [f"cannot sort by: {part[:50]}"]})
        sort_key = SORTS[key]
        found.sort(key=lambda r: sort_key(s, r), reverse=direction.strip() == "desc")
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in facet_fields:
        if field not in FQ_FIELDS:
            raise ValidationError({"facet.field": [f"unknown field: {field}"]})
        counts: dict[str, int] = {}
        for r in found:
            for v in _values(s, r, field):
                counts[v] = counts.get(v, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:facet_limit]
        facets[field] = dict(top)
        search_facets[field] = {
            "title": field,
            "items": [{"name": v, "display_name": _display(s, field, v), "count": n} for v, n in top],
        }
    page = found[start : start + rows]
    return {
        "count": len(found),
        "facets": facets,
        "search_facets": search_facets,
        "sort": sort,
        "results": [package(s, r, site) for r in page],
    }


def _display(s: OpenSet, field: str, value: str) -> str:
    if field == "organization":
        return next((s.departments[d].name for d, n in s.org_names.items() if n == value), value)
    if field == "groups":
        return next((t for t, n in s.group_names.items() if n == value), value)
    return value


# -- datastore_search ----------------------------------------------------------------------------------------


def _field_names(raw: Any, allowed: dict[str, InfoItem], what: str) -> list[str]:
    names = [f.strip() for f in raw.split(",")] if isinstance(raw, str) else list(raw)
    bad = [str(n)[:50] for n in names if not isinstance(n, str) or (n not in allowed and n != tables.ROW_ID)]
    if bad:
        raise ValidationError({what: [f'field "{b}" not in table' for b in bad]})
    return names


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def datastore_search(
    session: Session,
    res: Resource,
    *,
    rid: str,
    filters: dict[str, Any] | None = None,
    q: str | dict[str, str] = "",
    fields: Any = None,
    sort: str = "",
    limit: int = 100,
    offset: int = 0,
    include_total: bool = True,
    distinct: bool = False,
    path: str = "/api/3/action/datastore_search",
) -> dict[str, Any]:
    from countyos.data.service import loads  # the table of the current load

    found = loads.current_table(session, res)
    if found is None:
        raise errors.NotFound(N_("Not found"))
    table, _items = found
    allowed = {i.name: i for i in open_items(res)}
    chosen = _field_names(fields, allowed, "fields") if fields else [tables.ROW_ID, *allowed]
    if not (0 <= limit <= MAX_LIMIT):
        raise ValidationError({"limit": [f"must be between 0 and {MAX_LIMIT}"]})
    if not (0 <= offset <= MAX_OFFSET):
        raise ValidationError({"offset": [f"must be between 0 and {MAX_OFFSET}"]})
    cond = _filters(table, allowed, filters or {}) + _q(table, allowed, q)
    order = _sort(table, allowed, sort)
    cols = [table.c[n] for n in chosen]
    stmt = select(*cols).where(*cond).order_by(*order, table.c[tables.ROW_ID]).limit(limit).offset(offset)
    if distinct:
        stmt = stmt.distinct()
    records = [{n: _json_value(v) for n, v in zip(chosen, row, strict=True)} for row in session.execute(stmt)]
    out: dict[str, Any] = {
        "resource_id": rid,
        "fields": [
            {
                "id": n,
                "type": "int" if n == tables.ROW_ID else CKAN_TYPES[allowed[n].type],
                **({"info": {"label": allowed[n].label}} if n in allowed else {}),
            }
            for n in chosen
        ],
        "records": records,
        "limit": limit,
        "records_format": "objects",
        "include_total": include_total,
        "_links": {"start": f"{path}?resource_id={rid}", "next": f"{path}?resource_id={rid}&offset={offset + limit}"},
    }
    if offset:
        out["offset"] = offset
    if filters:
        out["filters"] = filters
    if q:
        out["q"] = q
    if sort:
        out["sort"] = sort
    if include_total:
        out["total"] = session.scalar(select(func.count()).select_from(table).where(*cond)) or 0
        out["total_was_estimated"] = False
    return out


def _cast(item: InfoItem, value: Any) -> Any:
    from countyos.data.service import readers

    if value is None:
        return None
    try:
        return readers.convert(str(value), item.type)
    except ValueError as exc:
        raise ValidationError({"filters": [f'invalid value for "{item.name}"']}) from exc


def _filters(table: Table, allowed: dict[str, InfoItem], filters: dict[str, Any]) -> list[Any]:
    if not isinstance(filters, dict):
        raise ValidationError({"filters": ["must be an object of field: value"]})
    cond = []
    for name, value in filters.items():
        if name not in allowed and name != tables.ROW_ID:
            raise ValidationError({"filters": [f'field "{str(name)[:50]}" not in table']})
        col = table.c[name]
        item = allowed.get(name)
        values = value if isinstance(value, list) else [value]
        if len(values) > MAX_FILTER_VALUES:
            raise ValidationError({"filters": [f"at most {MAX_FILTER_VALUES} values per field"]})
        typed = [_cast(item, v) if item is not None else int(v) for v in values]
        cond.append(col.in_(typed) if len(typed) > 1 else col == typed[0] if typed else col.is_(None))
    return cond


def _q(table: Table, allowed: dict[str, InfoItem], q: str | dict[str, str]) -> list[Any]:
    if not q:
        return []
    text_cols = [n for n, i in allowed.items() if i.type == FieldType.TEXT]
    if isinstance(q, dict):
        out = []
        for name, text in q.items():
            if name not in allowed:
                raise ValidationError({"q": [f'field "{str(name)[:50]}" not in table']})
            out.append(table.c[name].like(f"%{str(text)[:100]}%"))
        return out
    words = str(q).split()[:10]
    return [or_(*[table.c[n].like(f"%{w[:100]}%") for n in text_cols]) if text_cols else false() for w in words]


def _sort(table: Table, allowed: dict[str, InfoItem], sort: str) -> list[Any]:
    out = []
    for part in [p.strip() for p in sort.split(",") if p.strip()][:5]:
        name, _, direction = part.strip('"').partition(" ")
        name = name.strip('"')
        direction = direction.strip().lower()
        if (name not in allowed and name != tables.ROW_ID) or direction not in ("", "asc", "desc"):
            raise ValidationError({"sort": [f'field "{part[:50]}" not in table']})
        out.append(desc(table.c[name]) if direction == "desc" else asc(table.c[name]))
    return out


def rows_for_download(session: Session, res: Resource, limit: int) -> tuple[list[InfoItem], Iterable[Sequence[Any]]]:
    from countyos.data.service import loads

    found = loads.current_table(session, res)
    if found is None:
        raise errors.NotFound(N_("Not found"))
    table, _ = found
    items = open_items(res)
    stmt = select(*[table.c[i.name] for i in items]).order_by(table.c[tables.ROW_ID]).limit(limit)
    return items, session.execute(stmt)
