"""Pages of the producers part of the village domain.

- ``/village/producers``: the 农业农村局's register of producers and buyers — filters by group, kind,
  township or village, certification and name; counts by kind; a map of every base; CSV/XLSX export.
- ``/village/producers/new``, ``/village/producers/{id}`` (masked personal fields, members,
  certifications, bases on a map, devices, links to records and batches), ``/village/producers/{id}/edit``.
- the bases' pages in ``producers_bases.py``; ``/village/my``: the producer's phone-first home.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core import tabular
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.geo.models import DivisionLevel
from countyos.geo.service import divisions
from countyos.org.service import audit, users
from countyos.village.models.producers import PRODUCER_KINDS, CertKind, Entity, EntityKind, IdKind, SubjectCodeType
from countyos.village.pages import producers_bases
from countyos.village.permissions import AGRI_MANAGE, AGRI_READ, BUY, PRODUCE
from countyos.village.schemas.producers import CertificationIn, EntityIn
from countyos.village.service import producers as svc
from countyos.village.service import producers_bases as bases
from countyos.village.service import producers_tasks as tasks
from countyos.village.service import products, scope
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
SECTION = N_("Agriculture")
NAV = [
    NavItem(SECTION, N_("Producers and buyers"), "/village/producers", AGRI_READ, order=600),
    NavItem(SECTION, N_("My farm"), "/village/my", PRODUCE, order=601),
    NavItem(SECTION, N_("My canteen or shop"), "/village/my", BUY, order=602),
]
Reader = Annotated[Auth, Depends(require(AGRI_READ))]
Bureau = Annotated[Auth, Depends(require(AGRI_MANAGE))]
Anyone = Annotated[Auth, Depends(authenticated)]
PAGE = 100
EXPORT_MAX = 20_000
ENTITY_FIELDS = (
    "kind", "name", "subject_code_type", "subject_code", "id_kind", "uscc", "id_number", "legal_person",
    "village_code", "address", "contact_name", "phone", "gs1_prefix", "active",
)  # fmt: skip
CERT_FIELDS = ("kind", "number", "issuer", "valid_from", "valid_to")

audit.name_codes(
    actions={
        "village.producers.entity.create": N_("Producer or buyer registered"),
        "village.producers.entity.update": N_("Producer or buyer changed"),
        "village.producers.member.add": N_("Person bound to a producer or buyer"),
        "village.producers.member.remove": N_("Person unbound from a producer or buyer"),
        "village.producers.cert.add": N_("Certification added"),
        "village.producers.cert.remove": N_("Certification removed"),
        "village.producers.base.create": N_("Base added"),
        "village.producers.base.update": N_("Base changed"),
        "village.producers.base.import": N_("Bases imported"),
        "village.producers.device.attach": N_("Device attached to a base"),
        "village.producers.device.detach": N_("Device detached from a base"),
        "village.producers.task.make": N_("Tasks made from sensing alarms"),
        "village.producers.task.done": N_("Producer's task done"),
    },
    targets={
        "village_entity": N_("Producer or buyer"),
        "village_base": N_("Base"),
        "village_task": N_("Producer's task"),
    },
)


def labels() -> dict[str, Any]:
    """Label dicts of message ids the templates show enum values through."""
    return {
        "kind_names": svc.KIND_NAMES,
        "cert_names": svc.CERT_NAMES,
        "facility_names": svc.FACILITY_NAMES,
        "subject_code_names": svc.SUBJECT_CODE_NAMES,
        "id_kind_names": svc.ID_KIND_NAMES,
        "group_names": svc.GROUP_NAMES,
        "task_state_names": svc.TASK_STATE_NAMES,
        "product_label": products.product_label,
        "producer_kinds": PRODUCER_KINDS,
        "all_products": sorted(products.catalog().products.values(), key=lambda p: p.class_code),
    }


def _villages(session: Session) -> list[tuple[str, str]]:
    """(code, "乡镇 村") of every village of the county, for the forms' select."""
    county = divisions.the_county(session)
    if county is None:
        return []
    out: list[tuple[str, str]] = []
    for t in divisions.children(session, parent_code=county.code):
        for v in divisions.children(session, parent_code=t.code):
            if v.level == DivisionLevel.VILLAGE:
                out.append((v.code, f"{t.name} {v.name}"))
    return out


def _townships(session: Session) -> list[tuple[str, str]]:
    county = divisions.the_county(session)
    if county is None:
        return []
    return [(t.code, t.name) for t in divisions.children(session, parent_code=county.code)]


def _filter(kind: str, group: str, village: str, cert: str, q: str) -> svc.EntityFilter:
    return svc.EntityFilter(
        kind=EntityKind(kind) if kind in {k.value for k in EntityKind} else None,
        group=group if group in ("producer", "buyer") else None,
        village_code=village if village.isdigit() and len(village) in (9, 12) else None,
        cert=CertKind(cert) if cert in {c.value for c in CertKind} else None,
        q=q.strip()[:60],
    )


# --- the register --------------------------------------------------------------------------------


@router.get("/village/producers")
def register(
    request: Request,
    session: ReadSession,
    a: Reader,
    kind: str = "",
    group: str = "",
    village: str = "",
    cert: str = "",
    q: str = "",
    offset: int = 0,
) -> Response:
    f = _filter(kind, group, village, cert, q)
    offset = max(0, min(offset, 1_000_000))
    rows, total = svc.list_entities(session, actor=a.actor, f=f, limit=PAGE, offset=offset)
    counts = svc.counts_by_kind(session, actor=a.actor, f=f)
    filters = {"kind": kind, "group": group, "village": village, "cert": cert, "q": q}
    qs = urlencode({k: v for k, v in filters.items() if v})
    certs: dict[int, list[str]] = {}
    for c in svc.certifications(session, entity_ids=[e.id for e in rows]):
        if not svc.is_expired(c):
            certs.setdefault(c.entity_id, []).append(c.kind.value)
    bases_source = "/api/v1/village/bases?limit=5000" + (f"&village={f.village_code}" if f.village_code else "")
    return templates(request).render(
        request,
        "village/producers/register.html",
        {
            **labels(),
            "rows": rows,
            "total": total,
            "counts": counts,
            "filters": filters,
            "qs": qs,
            "offset": offset,
            "limit": PAGE,
            "certs": certs,
            "townships": _townships(session),
            "bases_source": bases_source,
        },
    )


def _export_rows(session: Session, rows: list[Entity], request: Request) -> list[list[Any]]:
    certs: dict[int, list[str]] = {}
    for c in svc.certifications(session, entity_ids=[e.id for e in rows]):
        if not svc.is_expired(c):
            certs.setdefault(c.entity_id, []).append(translate(request, svc.CERT_NAMES[c.kind]))
    return [
        [
            e.id, e.name, translate(request, svc.KIND_NAMES[e.kind]), e.uscc or e.id_number_masked or "",
            e.village_name or "", e.address or "", e.contact_name or "", e.phone_masked or "",
            "、".join(certs.get(e.id, [])),
        ]
        for e in rows
    ]  # fmt: skip


@router.get("/village/producers/export")
def export(
    request: Request,
    session: ReadSession,
    a: Reader,
    format: str = "csv",
    kind: str = "",
    group: str = "",
    village: str = "",
    cert: str = "",
    q: str = "",
) -> Response:
    """The register as filtered, CSV or XLSX (every cell neutralised against formulas; numbers masked)."""
    rows, _ = svc.list_entities(session, actor=a.actor, f=_filter(kind, group, village, cert, q), limit=EXPORT_MAX)
    headers = [
        translate(request, h)
        for h in (N_("Id"), N_("Name"), N_("Kind"), N_("Credit code or ID number"), N_("Village"), N_("Address"),
                  N_("Contact"), N_("Phone"), N_("Certifications"))
    ]  # fmt: skip
    data = _export_rows(session, rows, request)
    if format == "xlsx":
        body = tabular.to_xlsx(headers, data, sheet="producers")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name = "producers.xlsx"
    else:
        body, media, name = tabular.to_csv(headers, data), "text/csv; charset=utf-8", "producers.csv"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- one entity ----------------------------------------------------------------------------------


def _form(request: Request, session: Session, *, form: Refused, entity: Entity | None, status: int = 200) -> Response:
    return templates(request).render(
        request,
        "village/producers/form.html",
        {
            **labels(),
            "form": form,
            "entity": entity,
            "kinds": list(EntityKind),
            "subject_code_types": list(SubjectCodeType),
            "id_kinds": list(IdKind),
            "villages": _villages(session),
        },
        status_code=status,
    )


def _values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = forms.typed(form, ENTITY_FIELDS)
    return values


def _parse_entity(values: dict[str, Any]) -> EntityIn:
    data = {**values, "active": values.get("active") == "1"}
    if data.get("id_kind") == IdKind.RESIDENT.value:
        data["uscc"] = ""
    return forms.parse(EntityIn, data)


@router.get("/village/producers/new")
def new_page(request: Request, session: ReadSession, a: Bureau) -> Response:
    return _form(request, session, form=Refused({"active": "1", "kind": "family_farm"}, {}, None, 200), entity=None)


@router.post("/village/producers/new")
def create(request: Request, session: WriteSession, a: Bureau, form: PostedForm) -> Response:
    values = _values(form)
    try:
        e = svc.create_entity(session, actor=a.actor, body=_parse_entity(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "id_number": "", "phone": ""})
        return _form(request, session, form=refused, entity=None, status=refused.status)
    return redirect(f"/village/producers/{e.id}", flash=translate(request, "Saved"))


@router.get("/village/producers/{entity_id}")
def entity_page(request: Request, entity_id: int, session: ReadSession, a: Anyone) -> Response:
    return _entity(request, session, a, entity_id)


def _entity(
    request: Request, session: Session, a: Auth, entity_id: int, *, cert_form: Refused | None = None, status: int = 200
) -> Response:
    e = svc.get_entity(session, actor=a.actor, entity_id=entity_id)
    base_rows = bases.list_bases(session, actor=a.actor, entity_id=e.id)
    devices = bases.devices_of(session, base_ids=[b.id for b in base_rows])
    can_write = a.actor.can(AGRI_MANAGE) or e.id in scope.entity_ids_of(session, a.actor)
    candidates: list[tuple[int, str]] = []
    if a.actor.can(AGRI_MANAGE):
        seen: set[int] = set()
        for perm in (PRODUCE, BUY):
            for p in users.names_of_holders(session, permission=perm):
                if p.id not in seen:
                    seen.add(p.id)
                    candidates.append((p.id, p.display_name))
    return templates(request).render(
        request,
        "village/producers/entity.html",
        {
            **labels(),
            "e": e,
            "is_producer": e.kind in PRODUCER_KINDS,
            "members": svc.members(session, entity_id=e.id),
            "certs": svc.certifications(session, entity_ids=[e.id]),
            "today": svc.today_local(),
            "bases": base_rows,
            "devices": devices,
            "base_names": {b.id: b.name for b in base_rows},
            "bases_source": f"/api/v1/village/bases?entity_id={e.id}",
            "can_write": can_write,
            "bureau": a.actor.can(AGRI_MANAGE),
            "candidates": candidates,
            "cert_form": cert_form or Refused.empty(),
            "cert_kinds": list(CertKind),
        },
        status_code=status,
    )


@router.get("/village/producers/{entity_id}/edit")
def edit_page(request: Request, entity_id: int, session: ReadSession, a: Anyone) -> Response:
    e = scope.entity_for(session, a.actor, entity_id, write=True)
    return _form(request, session, form=Refused(svc.as_input(e), {}, None, 200), entity=e)


@router.post("/village/producers/{entity_id}/edit")
def edit(request: Request, entity_id: int, session: WriteSession, a: Anyone, form: PostedForm) -> Response:
    e = scope.entity_for(session, a.actor, entity_id, write=True)
    values = _values(form)
    try:
        svc.update_entity(session, actor=a.actor, entity_id=e.id, body=_parse_entity(values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "id_number": "", "phone": ""})
        e = scope.entity_for(session, a.actor, entity_id, write=True)
        return _form(request, session, form=refused, entity=e, status=refused.status)
    return redirect(f"/village/producers/{entity_id}", flash=translate(request, "Saved"))


@router.post("/village/producers/{entity_id}/members")
def add_member(request: Request, entity_id: int, session: WriteSession, a: Bureau, form: PostedForm) -> Response:
    raw = forms.typed(form, ("user_id",))["user_id"]
    try:
        svc.add_member(session, actor=a.actor, entity_id=entity_id, user_id=int(raw) if raw.isdigit() else 0)
    except CountyError as exc:
        session.rollback()
        return redirect(f"/village/producers/{entity_id}", flash=exc.message, kind="error")
    return redirect(f"/village/producers/{entity_id}", flash=translate(request, "Saved"))


@router.post("/village/producers/{entity_id}/members/{user_id}/remove")
def remove_member(request: Request, entity_id: int, user_id: int, session: WriteSession, a: Bureau) -> Response:
    svc.remove_member(session, actor=a.actor, entity_id=entity_id, user_id=user_id)
    return redirect(f"/village/producers/{entity_id}", flash=translate(request, "Saved"))


@router.post("/village/producers/{entity_id}/certifications")
def add_cert(request: Request, entity_id: int, session: WriteSession, a: Anyone, form: PostedForm) -> Response:
    values: dict[str, Any] = forms.typed(form, CERT_FIELDS)
    codes = [c for c in form.getlist("product_codes") if isinstance(c, str)][:50]
    try:
        body = forms.parse(CertificationIn, {**values, "product_codes": codes})
        svc.add_certification(session, actor=a.actor, entity_id=entity_id, body=body)
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, {**values, "product_codes": codes})
        return _entity(request, session, a, entity_id, cert_form=refused, status=refused.status)
    return redirect(f"/village/producers/{entity_id}", flash=translate(request, "Saved"))


@router.post("/village/producers/{entity_id}/certifications/{cert_id}/remove")
def remove_cert(request: Request, entity_id: int, cert_id: int, session: WriteSession, a: Anyone) -> Response:
    svc.remove_certification(session, actor=a.actor, entity_id=entity_id, cert_id=cert_id)
    return redirect(f"/village/producers/{entity_id}", flash=translate(request, "Saved"))


# --- the producer's home -------------------------------------------------------------------------


@router.get("/village/my")
def my_page(request: Request, session: ReadSession, a: Anyone) -> Response:
    mine = svc.my_entities(session, actor=a.actor)
    base_rows = [b for e in mine for b in bases.list_bases(session, actor=a.actor, entity_id=e.id)]
    open_tasks = tasks.list_tasks(session, actor=a.actor, limit=50)
    return templates(request).render(
        request,
        "village/producers/my.html",
        {
            **labels(),
            "entities": mine,
            "producer": any(e.kind in PRODUCER_KINDS for e in mine),
            "bases": base_rows,
            "tasks": open_tasks,
            "base_names": {b.id: b.name for b in base_rows},
        },
    )


@router.post("/village/tasks/{task_id}/done")
def task_done(request: Request, task_id: int, session: WriteSession, a: Anyone, form: PostedForm) -> Response:
    note = forms.typed(form, ("note", "next"))
    tasks.done(session, actor=a.actor, task_id=task_id, note=note["note"][:500] or None)
    back = (
        note["next"]
        if note["next"] in ("/village/my",) or note["next"].startswith("/village/bases/")
        else "/village/my"
    )
    return redirect(back, flash=translate(request, "Task done"))


router.include_router(producers_bases.router)
