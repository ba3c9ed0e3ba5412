"""The catalogue's staff pages: a department's data staff describe their resources (目录编制), load their
files and ask for review; the data bureau reviews (审核, 发布, 撤销).

- ``/data/resources``: the entries the person may see, by state and text.
- ``/data/resources/new`` and ``/data/resources/{id}``: the entry's form (GB/T 21063.3 core metadata, the
  目录编制指南 fields, 信息项 and quality rules); on any error the form comes back with what was typed and each
  message beside its field. Below it: the lifecycle actions the person may take, the upload of a file
  with its quality report, and the load history.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError, NotFound
from countyos.core.i18n import N_
from countyos.data import flows, lifecycle
from countyos.data.lifecycle import State
from countyos.data.models import Connector, ConnectorKind, Load, Resource
from countyos.data.pages.common import DATA, PAGE_LABELS
from countyos.data.schemas import MAX_ID, ActionIn, ConnectorIn, ResourceIn
from countyos.data.service import catalogue, connectors, live, overview
from countyos.org.service import audit, departments
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, get_db, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Staff = Annotated[Auth, Depends(require(catalogue.MANAGE))]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50
EXTRA_ITEMS = 3
EXTRA_RULES = 2
MAX_ROWS = 500

NAV = [NavItem(DATA, N_("Data resource catalogue"), "/data/resources", catalogue.MANAGE, order=140)]

SCALARS = tuple(f for f in ResourceIn.model_fields if f not in ("keywords", "themes", "items", "rules"))
ITEM_TEXT = ("name", "label", "type", "length")
ITEM_FLAGS = ("is_key", "nullable", "sensitive", "shared", "open")
RULE_FIELDS = ("kind", "column", "params")
FLAG_LABELS = {"is_key": N_("Primary key"), "nullable": N_("May be empty"), "sensitive": N_("Sensitive"),
               "shared": N_("Shared"), "open": N_("Open to the public")}  # fmt: skip
SPLIT = re.compile(r"[,，、;；\s]+")


def _departments(session: Session) -> list[tuple[int, str]]:
    return sorted(((d.id, d.name) for d in departments.all_active(session)), key=lambda t: t[1])


@router.get("/data/resources")
def resource_list(
    request: Request,
    session: ReadSession,
    a: Staff,
    q: Annotated[str, Query(max_length=100)] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    provider_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    stale: Annotated[str, Query(max_length=1)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    chosen = State(state) if state in State._value2member_map_ else None
    only = overview.stale_ids(session, now=utcnow(), provider_id=provider_id) if stale == "1" else None
    rows, total = catalogue.listing(session, actor=a.actor, state=chosen, provider_id=provider_id, q=q,
                                    only_ids=only, limit=PAGE, offset=offset)  # fmt: skip
    query = {"q": q, "state": state, "provider_id": str(provider_id or ""), "stale": stale}
    return templates(request).render(
        request,
        "data/admin_list.html",
        {
            "rows": rows,
            "total": total,
            "limit": PAGE,
            "offset": offset,
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "query": query,
            "deps": dict(_departments(session)),
            "is_reviewer": a.actor.can(catalogue.REVIEW),
            **PAGE_LABELS,
        },
    )


def _values_of(res: Resource | None, a: Auth) -> dict[str, Any]:
    """What the form shows, as strings like a posted form."""
    if res is None:
        return {"provider_id": str(a.actor.department_id or ""), "share_type": "conditional", "open_type": "closed",
                "update_cycle": "monthly", "share_method": "platform", "grade": "general", "sensitivity": "1",
                "licence": "CC-BY-4.0", "keywords": "", "themes": "", "items": [], "rules": []}  # fmt: skip
    out: dict[str, Any] = {f: "" if getattr(res, f) is None else str(getattr(res, f)) for f in SCALARS}
    out["keywords"], out["themes"] = "、".join(res.keywords), "、".join(res.themes)
    out["items"] = [
        {**{k: str(getattr(i, k)) for k in ITEM_TEXT}, **{k: "1" if getattr(i, k) else "" for k in ITEM_FLAGS}}
        for i in res.items
    ]
    out["rules"] = [
        {"kind": r["kind"], "column": r["column"], "params": _json(r.get("params") or {})} for r in res.rules
    ]
    return out


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""


def _typed(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = forms.typed(form, (*SCALARS, "keywords", "themes"))
    values["items"] = []
    values["rules"] = []
    for i in range(MAX_ROWS):
        if form.get(f"item-{i}-name") is None and form.get(f"item-{i}-label") is None:
            break
        row = {k: str(form.get(f"item-{i}-{k}") or "").strip() for k in ITEM_TEXT}
        row.update({k: "1" if form.get(f"item-{i}-{k}") == "1" else "" for k in ITEM_FLAGS})
        if row["name"] or row["label"]:
            values["items"].append(row)
    for i in range(100):
        if form.get(f"rule-{i}-kind") is None:
            break
        rule = {k: str(form.get(f"rule-{i}-{k}") or "").strip() for k in RULE_FIELDS}
        if rule["kind"] and rule["column"]:
            values["rules"].append(rule)
    return values


def _parse(values: dict[str, Any]) -> ResourceIn:
    data: dict[str, Any] = {k: v for k, v in values.items() if k in SCALARS and str(v).strip()}
    data["keywords"] = [w for w in SPLIT.split(values["keywords"]) if w]
    data["themes"] = [w for w in SPLIT.split(values["themes"]) if w]
    data["items"] = [
        {**{k: v for k, v in i.items() if k in ITEM_TEXT and v}, **{k: i[k] == "1" for k in ITEM_FLAGS}}
        for i in values["items"]
    ]
    rules = []
    for r in values["rules"]:
        try:
            params = json.loads(r["params"]) if r["params"] else {}
        except ValueError:
            params = None
        rules.append({"kind": r["kind"], "column": r["column"], "params": params})
    data["rules"] = rules
    return ResourceIn.model_validate(data)


def _page(
    request: Request,
    session: Session,
    a: Auth,
    res: Resource | None,
    *,
    form: Refused | None = None,
    status: int = 200,
    load_error: str | None = None,
    connector_form: dict[str, Any] | None = None,
) -> Response:
    roles = catalogue.roles_of(a.actor, res) if res is not None else frozenset()
    loads = (
        session.scalars(select(Load).where(Load.resource_id == res.id).order_by(Load.number.desc()).limit(20)).all()
        if res is not None else []
    )  # fmt: skip
    return templates(request).render(
        request,
        "data/admin_edit.html",
        {
            "res": res,
            "v": form.values if form else _values_of(res, a),
            "errors": form.errors if form else {},
            "error": form.error if form else None,
            "load_error": load_error,
            "editable": res is None or (res.state in lifecycle.EDITABLE and bool(roles)),
            "actions": lifecycle.actions_for(res.state, roles) if res is not None else [],
            "needs_reason": lifecycle.NEEDS_REASON,
            "can_load": res is not None and bool(roles),
            "can_request": res is not None
            and res.state == State.PUBLISHED
            and res.provider_id != a.actor.department_id
            and a.actor.can("data.share.request"),
            "loads": loads,
            "departments": _departments(session),
            "connectors": [
                (c, connectors.masked(connectors.address_of(c)), connectors.runs_of(session, c.id, 5))
                for c in (
                    connectors.of_resource(session, res.id) if res is not None and a.actor.can(catalogue.REVIEW) else []
                )
            ],
            "can_connect": res is not None and a.actor.can(catalogue.REVIEW),
            "connector_form": connector_form or {"values": {"kind": "sql", "every_minutes": "1440"}, "errors": {}},
            "connector_kinds": {
                ConnectorKind.SQL: N_("A department's database"),
                ConnectorKind.HTTP: N_("A JSON web API"),
                ConnectorKind.COUNTYOS: N_("CountyOS's own records"),
            },
            "live_sources": live.NAMES,
            "flag_labels": FLAG_LABELS,
            "actor_name": lambda name: translate(request, audit.actor_label(name) or name) if name else "",
            "extra_items": EXTRA_ITEMS,
            "extra_rules": EXTRA_RULES,
            **PAGE_LABELS,
        },
        status_code=status,
    )


def _visible(session: Session, a: Auth, resource_id: int) -> Resource:
    res = catalogue.get(session, resource_id)
    if not catalogue.visible(a.actor, res):
        raise NotFound(N_("No such data resource."))
    return res


@router.get("/data/resources/new")
def new_form(request: Request, session: ReadSession, a: Staff) -> Response:
    return _page(request, session, a, None)


@router.post("/data/resources/new")
def create(request: Request, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    values = _typed(form)
    try:
        res = catalogue.create(session, actor=a.actor, data=_parse(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _page(request, session, a, None, form=refused, status=refused.status)
    return redirect(f"/data/resources/{res.id}", flash=translate(request, "Saved"))


@router.get("/data/resources/{resource_id}")
def edit_form(request: Request, resource_id: PathId, session: ReadSession, a: Staff) -> Response:
    return _page(request, session, a, _visible(session, a, resource_id))


@router.post("/data/resources/{resource_id}")
def save(request: Request, resource_id: PathId, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    values = _typed(form)
    version = str(form.get("version") or "")
    try:
        catalogue.update(
            session,
            actor=a.actor,
            resource_id=resource_id,
            data=_parse(values),
            version=int(version) if version.isdigit() else 0,
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _page(request, session, a, _visible(session, a, resource_id), form=refused, status=refused.status)
    return redirect(f"/data/resources/{resource_id}", flash=translate(request, "Saved"))


@router.post("/data/resources/{resource_id}/action")
def act(request: Request, resource_id: PathId, session: WriteSession, a: Staff, form: PostedForm) -> Response:
    values = forms.typed(form, ("action", "reason", "version"))
    try:
        data = forms.parse(ActionIn, values)
        catalogue.act(session, actor=a.actor, resource_id=resource_id, data=data)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        message = forms.field_errors(request, exc)
        text = "；".join(v for v in message.values()) or translate(request, "Please correct the marked fields")
        return redirect(f"/data/resources/{resource_id}#actions", flash=text, kind="error")
    return redirect(f"/data/resources/{resource_id}", flash=translate(request, "Done"))


@router.post("/data/resources/{resource_id}/load")
def load(
    request: Request,
    resource_id: PathId,
    a: Staff,
    file: Annotated[UploadFile, File()],
    skip_bad_rows: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    try:
        done = flows.load_upload(
            get_db(request),
            actor=a.actor,
            resource_id=resource_id,
            upload=file.file,
            filename=file.filename or "upload",
            skip_bad_rows=skip_bad_rows == "1",
        )
    except flows.TooLarge:
        message = translate(request, "The file is too large to upload; ask the administrator to load it on the server.")
        return redirect(f"/data/resources/{resource_id}#load", flash=message, kind="error")
    if done.state != "loaded":
        return redirect(
            f"/data/resources/{resource_id}#load-{done.number}", flash=translate(request, done.error), kind="error"
        )
    return redirect(f"/data/resources/{resource_id}#load-{done.number}", flash=translate(request, "Loaded"))


# -- connectors on the resource's page (the data administrator) ---------------------------------------------

Bureau = Annotated[Auth, Depends(require(catalogue.REVIEW))]


@router.post("/data/resources/{resource_id}/connectors")
def add_connector(
    request: Request, resource_id: PathId, session: WriteSession, a: Bureau, form: PostedForm
) -> Response:
    values = forms.typed(form, ("name", "kind", "address", "query", "every_minutes"))
    values["enabled"] = "true"
    try:
        connectors.create(session, actor=a.actor, resource_id=resource_id, data=forms.parse(ConnectorIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {})
        connector_form = {"values": values, "errors": refused.errors, "error": refused.error}
        return _page(request, session, a, _visible(session, a, resource_id), status=422, connector_form=connector_form)
    return redirect(f"/data/resources/{resource_id}#connectors", flash=translate(request, "Saved"))


@router.post("/data/connectors/{connector_id}/run")
def run_connector(request: Request, connector_id: PathId, session: WriteSession, a: Bureau) -> Response:
    run = connectors.run(session, actor=a.actor, connector_id=connector_id)
    resource_id = session.get(Connector, connector_id).resource_id  # type: ignore[union-attr]
    message = translate(request, "Loaded") if run.ok else run.error or translate(request, "Failed")
    return redirect(f"/data/resources/{resource_id}#connectors", flash=message, kind="ok" if run.ok else "error")
