"""Road incident pages: ``/safety/traffic/incidents`` (by state), ``…/new``, ``…/{id}`` (with publish, end
and discard), ``…/{id}/edit``. Writing and publishing need ``safety.traffic.manage``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.clock import to_local, utcnow
from countyos.core.errors import CountyError
from countyos.core.settings import get_settings
from countyos.org.service import users
from countyos.safety.models.traffic import IncidentKind, IncidentSeverity, IncidentState, RoadIncident
from countyos.safety.pages.traffic_common import Keeper, Reader, county_map, render
from countyos.safety.permissions import TRAFFIC_MANAGE
from countyos.safety.schemas.traffic import IncidentIn
from countyos.safety.service import traffic
from countyos.safety.service import traffic_incidents as svc
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
FIELDS = ("kind", "title", "description", "severity", "road_id", "from_words", "to_words", "lon", "lat", "line",
          "starts_at", "ends_at", "detour", "note")  # fmt: skip


def _local(value: Any) -> str:
    return to_local(value, get_settings().timezone).strftime("%Y-%m-%dT%H:%M") if value else ""


@router.get("/safety/traffic/incidents")
def incidents(
    request: Request, session: ReadSession, a: Reader, state: Annotated[str, Query(max_length=12)] = ""
) -> Response:
    chosen = IncidentState(state) if state in set(IncidentState) else None
    rows = svc.list_incidents(session, state=chosen)
    return render(
        request,
        "safety/traffic/incidents.html",
        {
            "rows": rows,
            "state": state,
            "states": list(IncidentState),
            "roads": svc.road_words(session, rows),
            "can_manage": a.actor.can(TRAFFIC_MANAGE),
        },
    )


def _page(request: Request, session: Session, a: Auth, incident_id: int, error: str | None = None) -> Response:
    row = svc.get_incident(session, incident_id)
    author = users.colleagues(session, user_ids=[row.created_by]).get(row.created_by or 0)
    return render(
        request,
        "safety/traffic/incident.html",
        {
            "r": row,
            "road": svc.road_words(session, [row]).get(row.id, ""),
            "author": author.display_name if author else "—",
            "allowed": svc.allowed(row.state) if a.actor.can(TRAFFIC_MANAGE) else [],
            "now": utcnow(),
            "error": error,
            "map": county_map(session, incidents=[row]),
        },
        status=409 if error else 200,
    )


@router.get("/safety/traffic/incidents/{incident_id:int}")
def incident(request: Request, incident_id: int, session: ReadSession, a: Reader) -> Response:
    return _page(request, session, a, incident_id)


def _act(request: Request, session: Session, a: Auth, incident_id: int, action: str) -> Response:
    try:
        if action == "publish":
            svc.publish(session, actor=a.actor, incident_id=incident_id)
        elif action == "end":
            svc.end(session, actor=a.actor, incident_id=incident_id)
        else:
            svc.discard(session, actor=a.actor, incident_id=incident_id)
            return redirect("/safety/traffic/incidents", flash=translate(request, "The draft was discarded"))
    except CountyError as exc:
        session.rollback()
        return _page(request, session, a, incident_id, error=translate(request, exc.message))
    words = "The notice is published" if action == "publish" else "The incident is ended"
    return redirect(f"/safety/traffic/incidents/{incident_id}", flash=translate(request, words))


@router.post("/safety/traffic/incidents/{incident_id:int}/publish")
def publish(request: Request, incident_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _act(request, session, a, incident_id, "publish")


@router.post("/safety/traffic/incidents/{incident_id:int}/end")
def end(request: Request, incident_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _act(request, session, a, incident_id, "end")


@router.post("/safety/traffic/incidents/{incident_id:int}/discard")
def discard(request: Request, incident_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _act(request, session, a, incident_id, "discard")


def _values(r: RoadIncident) -> dict[str, str]:
    return {
        "kind": r.kind.value,
        "title": r.title,
        "description": r.description,
        "severity": r.severity.value,
        "road_id": str(r.road_id or ""),
        "from_words": r.from_words,
        "to_words": r.to_words,
        "lon": f"{r.lon:.6f}" if r.lon is not None else "",
        "lat": f"{r.lat:.6f}" if r.lat is not None else "",
        "line": "; ".join(f"{x:.6f},{y:.6f}" for x, y in (r.line or [])),
        "starts_at": _local(r.starts_at),
        "ends_at": _local(r.ends_at),
        "detour": r.detour,
        "note": r.note,
    }


def _form(request: Request, session: Session, r: RoadIncident | None, form: Refused | None = None) -> Response:
    blank = Refused(
        _values(r) if r else {"kind": "construction", "severity": "minor", "starts_at": _local(utcnow())}, {}, None, 200
    )
    return render(
        request,
        "safety/traffic/incident_form.html",
        {
            "r": r,
            "form": form or blank,
            "kinds": list(IncidentKind),
            "severities": list(IncidentSeverity),
            "roads": traffic.road_choices(session),
        },
        status=form.status if form else 200,
    )


@router.get("/safety/traffic/incidents/new")
def new_incident(request: Request, session: ReadSession, a: Keeper) -> Response:
    return _form(request, session, None)


@router.get("/safety/traffic/incidents/{incident_id:int}/edit")
def edit_incident(request: Request, incident_id: int, session: ReadSession, a: Keeper) -> Response:
    return _form(request, session, svc.get_incident(session, incident_id))


def _save(request: Request, session: Session, a: Auth, form: Any, incident_id: int | None) -> Response:
    values = forms.typed(form, FIELDS)
    try:
        body = forms.parse(IncidentIn, dict(values))
        if incident_id is None:
            row = svc.create_incident(session, actor=a.actor, data=body)
        else:
            row = svc.update_incident(session, actor=a.actor, incident_id=incident_id, data=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        current = svc.get_incident(session, incident_id) if incident_id is not None else None
        return _form(request, session, current, Refused.of(request, exc, values))
    return redirect(f"/safety/traffic/incidents/{row.id}", flash=translate(request, "Saved"))


@router.post("/safety/traffic/incidents/new")
def create_incident(request: Request, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    return _save(request, session, a, form, None)


@router.post("/safety/traffic/incidents/{incident_id:int}/edit")
def update_incident(request: Request, incident_id: int, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    svc.get_incident(session, incident_id)
    return _save(request, session, a, form, incident_id)
