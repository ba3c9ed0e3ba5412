"""Pages of the traffic (路段, 停车场, 道路事件) part of the safety domain (``safety.traffic.read`` to see,
``safety.traffic.manage`` to change):

- ``/safety/traffic``: the county map (roads by class, lots coloured by occupancy, incidents in force) and
  today's summary.
- ``/safety/traffic/roads`` (search, class, paging, the import form), ``/safety/traffic/roads/{id}``.
- parking lots in ``traffic_parking.py``, road incidents in ``traffic_incidents.py``, the public
  ``/portal/roads`` in ``traffic_public.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.responses import Response

from countyos.core.clock import utcnow
from countyos.core.errors import CountyError
from countyos.core.i18n import N_, use_locale
from countyos.org.service import audit
from countyos.safety.models.traffic import IncidentState, RoadClass
from countyos.safety.pages import traffic_incidents, traffic_parking, traffic_public
from countyos.safety.pages.traffic_common import TRAFFIC, Keeper, Reader, county_map, render
from countyos.safety.permissions import TRAFFIC_MANAGE, TRAFFIC_READ
from countyos.safety.service import traffic
from countyos.safety.service import traffic_incidents as incidents_svc
from countyos.safety.service import traffic_parking as parking_svc
from countyos.web.deps import Auth, ReadSession, WriteSession
from countyos.web.forms import Refused, read_upload
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = [
    NavItem(TRAFFIC, N_("Traffic overview"), "/safety/traffic", TRAFFIC_READ, order=720),
    NavItem(TRAFFIC, N_("Road segments"), "/safety/traffic/roads", TRAFFIC_READ, order=721),
    NavItem(TRAFFIC, N_("Parking lots"), "/safety/traffic/parking", TRAFFIC_READ, order=722),
    NavItem(TRAFFIC, N_("Road incidents"), "/safety/traffic/incidents", TRAFFIC_READ, order=723),
]
PAGE = 50
FIELD_WORDS = {
    "geometry": N_("line"),
    "code": N_("route code"),
    "name": N_("name"),
    "class": N_("road class"),
    "file": N_("file"),
}


@router.get("/safety/traffic")
def overview(request: Request, session: ReadSession, a: Reader) -> Response:
    now = utcnow()
    lots = parking_svc.list_lots(session)
    live = parking_svc.live(session, lots, now=now)
    in_force = incidents_svc.in_force(session, now=now)
    by_class = traffic.summary(session)
    sensed = [live[x.id] for x in lots if live[x.id].free is not None]
    return render(
        request,
        "safety/traffic/overview.html",
        {
            "lots": lots,
            "live": live,
            "in_force": in_force,
            "drafts": len(incidents_svc.list_incidents(session, state=IncidentState.DRAFT)),
            "by_class": by_class,
            "km": round(sum(v[1] for v in by_class.values()), 1),
            "segments": sum(v[0] for v in by_class.values()),
            "free": sum(x.free or 0 for x in sensed),
            "capacity_sensed": sum(x.capacity for x in lots if live[x.id].free is not None),
            "stale": sum(1 for x in lots if live[x.id].level == "stale"),
            "roads_words": incidents_svc.road_words(session, in_force),
            "map": county_map(session, roads=traffic.all_roads(session), lots=lots, live=live, incidents=in_force),
        },
    )


def _roads_page(
    request: Request,
    session: ReadSession,
    a: Auth,
    *,
    q: str | None,
    road_class: RoadClass | None,
    offset: int,
    form: Refused | None = None,
    result: dict[str, object] | None = None,
) -> Response:
    rows, total = traffic.list_roads(session, q=q, road_class=road_class, offset=offset, limit=PAGE)
    base = urlencode({k: v for k, v in (("q", q or ""), ("road_class", road_class.value if road_class else "")) if v})
    return render(
        request,
        "safety/traffic/roads.html",
        {
            "rows": rows,
            "total": total,
            "limit": PAGE,
            "offset": offset,
            "base_query": base,
            "q": q or "",
            "road_class": road_class.value if road_class else "",
            "classes": list(RoadClass),
            "by_class": traffic.summary(session),
            "map": county_map(session, roads=traffic.all_roads(session)),
            "can_manage": a.actor.can(TRAFFIC_MANAGE),
            "form": form or Refused.empty(),
            "result": result,
        },
        status=form.status if form else 200,
    )


@router.get("/safety/traffic/roads")
def roads(
    request: Request,
    session: ReadSession,
    a: Reader,
    q: Annotated[str | None, Query(max_length=60)] = None,
    road_class: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    chosen = RoadClass(road_class) if road_class in set(RoadClass) else None
    return _roads_page(request, session, a, q=q, road_class=chosen, offset=offset)


@router.post("/safety/traffic/roads/import")
def import_roads(
    request: Request,
    session: WriteSession,
    a: Keeper,
    file: Annotated[UploadFile, File()],
    mode: Annotated[Literal["replace", "append"], Form()] = "append",
) -> Response:
    try:
        data = read_upload(file, traffic.MAX_FILE_BYTES)
        with use_locale(getattr(request.state, "locale", "zh_CN")):
            out = traffic.import_roads(session, actor=a.actor, data=data, mode=mode)
    except CountyError as exc:
        session.rollback()
        refused = Refused.of(request, exc, {"mode": mode})
        rows = [
            translate(request, "Row %(row)s, %(field)s: %(message)s")
            % {
                "row": e.get("row", "—"),
                "field": translate(request, FIELD_WORDS.get(str(e.get("field", "")), "file")),
                "message": _row_message(request, e),
            }
            for e in getattr(exc, "errors", [])
            if "row" in e
        ]
        return _roads_page(
            request, session, a, q=None, road_class=None, offset=0, form=refused, result={"rows": rows[:50]}
        )
    return redirect(
        "/safety/traffic/roads",
        flash=translate(request, "%(n)s road segments imported") % {"n": out.created},
    )


def _row_message(request: Request, e: dict[str, object]) -> str:
    message = translate(request, str(e.get("message", "")))
    params = e.get("params")
    return message % params if isinstance(params, dict) else message


@router.get("/safety/traffic/roads/{road_id:int}")
def road(request: Request, road_id: int, session: ReadSession, a: Reader) -> Response:
    seg = traffic.get_road(session, road_id)
    return render(
        request,
        "safety/traffic/road.html",
        {"r": seg, "map": county_map(session, roads=[seg]), "coords": list(seg.geom.coords)[:200]},
    )


for part in (traffic_parking, traffic_incidents, traffic_public):
    router.include_router(part.router)

# The audit log names every write of the traffic part.
audit.name_codes(
    actions={
        "safety.traffic.roads_import": N_("Road segments imported"),
        "safety.traffic.lot_create": N_("Parking lot added"),
        "safety.traffic.lot_update": N_("Parking lot changed"),
        "safety.traffic.lot_delete": N_("Parking lot removed"),
        "safety.traffic.incident_create": N_("Road incident written"),
        "safety.traffic.incident_update": N_("Road incident changed"),
        "safety.traffic.incident_publish": N_("Road incident published"),
        "safety.traffic.incident_end": N_("Road incident ended"),
        "safety.traffic.incident_discard": N_("Road incident draft discarded"),
    },
    targets={
        "safety_road": N_("Road segment"),
        "safety_parking_lot": N_("Parking lot"),
        "safety_road_incident": N_("Road incident"),
    },
)
