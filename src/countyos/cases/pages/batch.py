"""Batch actions from the console and the inbox: the same action on the selected cases, each case
checked, audited and refused on its own; the list comes back with what happened to each."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from countyos.cases import flows, lifecycle
from countyos.cases.lifecycle import Action, State
from countyos.cases.pages import console
from countyos.cases.pages.nostore import form_data, page_router
from countyos.cases.schemas import BATCH_ACTIONS, MAX_BATCH, BatchIn
from countyos.cases.service import cases
from countyos.core import i18n
from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.web.deps import Auth, WriteSession, require
from countyos.web.templating import translate

router = page_router()

# Offered in the list's batch bar (merging needs a target and is done on the case page).
OFFERED = [a for a in Action if a in BATCH_ACTIONS and a is not Action.MERGE]


def offered_actions(actor: Actor) -> list[tuple[str, str]]:
    """The batch actions the person's roles may take in some state, in the table's order, labelled."""
    roles = lifecycle.roles_of(actor.permissions)
    possible = {a for s in State for a in lifecycle.allowed(s, roles)}
    return [(str(a), lifecycle.ACTION_LABELS[a]) for a in OFFERED if a in possible]


def batch_from_form(form: FormData) -> BatchIn:
    """The API's model from the list's form: ``case_ids`` are the ticked rows as ``id:version``."""
    ids: list[str] = []
    versions: list[str] = []
    for raw in form.getlist("case_ids")[: MAX_BATCH + 1]:
        if isinstance(raw, str) and raw.strip():
            cid, _, ver = raw.strip().partition(":")
            ids.append(cid)
            versions.append(ver)
    data: dict[str, Any] = {"case_ids": ids}
    if ids and all(versions):
        data["versions"] = versions
    for name in ("action", "department_id", "comment", "level"):
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            data[name] = value if name == "comment" else value.strip()
    return BatchIn.model_validate(data)


@router.post("/cases/batch")
def batch(
    request: Request,
    session: WriteSession,
    a: Annotated[Auth, Depends(require("case.read"))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Apply one action to the ticked cases; the same list is shown again with each case's result."""
    queue = str(form.get("queue") or "all")
    q = str(form.get("q") or "")[:60] or None
    typed = {
        k: str(v)
        for k, v in form.multi_items()
        if isinstance(v, str) and k in ("action", "department_id", "comment", "level")
    }
    errors: dict[str, str] = {}
    outcome = None
    try:
        body = batch_from_form(form)
    except PydanticValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "case_ids"
            if e["type"] == "value_error" or name in ("versions",):
                name = "case_ids" if "case" in str(e.get("msg", "")) or name == "versions" else "action"
            if name == "case_ids" and e["type"] in ("too_short", "missing"):
                msg = N_("Tick at least one case")
            elif name == "case_ids" and e["type"] == "too_long":
                msg = N_("At most 100 cases at a time")
            else:
                msg = console.FIELD_MESSAGES.get(e["type"], N_("Not valid"))
            errors.setdefault(name, translate(request, msg))
    else:
        with i18n.use_locale(getattr(request.state, "locale", i18n.DEFAULT_LOCALE)):
            outcome = flows.batch(session, actor=a.actor, body=body)
    if queue == "inbox":
        f = cases.CaseFilter(open=True, department_id=a.actor.department_id if a.actor.department_id else None)
        title = "Department inbox"
    else:
        spec: dict[str, Any] = dict(next((x[2] for x in console.QUEUES if x[0] == queue), console.QUEUES[0][2]))
        f = cases.CaseFilter(q=q, **spec)
        title = "Dispatcher console"
    return console._list_page(
        request,
        session,
        a,
        title=title,
        queue=queue,
        f=f,
        limit=50,
        offset=0,
        extra={"batch": outcome, "batch_errors": errors, "batch_typed": typed},
        status_code=422 if errors else 200,
    )
