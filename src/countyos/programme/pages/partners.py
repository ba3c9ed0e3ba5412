"""Pages of the partners part for the programme office: the partner registry ``/programme/partners``
(organisations with members, keys and services), a partner's page (members, sandbox keys issued and
revoked, the plain token shown once), a key's use over 30 days, and the review of partner services.
The developer portal is in ``pages.partners_dev``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.programme.models.partners import ServiceState
from countyos.programme.pages import partners_dev
from countyos.programme.permissions import DEVELOPER, PARTNERS, READ
from countyos.programme.schemas.partners import MAX_ID, KeyIn, MemberIn, ReviewIn
from countyos.programme.service import partners, partners_services
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, require, require_any
from countyos.web.forms import PostedForm, Refused
from countyos.web.nav import NavItem
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
router.include_router(partners_dev.router)
PROGRAMME = N_("Programme")
DEVELOPERS = N_("Developers")
NAV = [
    NavItem(PROGRAMME, N_("Partner registry"), "/programme/partners", READ, order=760),
    NavItem(PROGRAMME, N_("Partner registry"), "/programme/partners", PARTNERS, order=760),
    NavItem(PROGRAMME, N_("Partner services to review"), "/programme/partners/services", PARTNERS, order=761),
    NavItem(DEVELOPERS, N_("Developer portal"), "/developers", DEVELOPER, order=770),
    NavItem(DEVELOPERS, N_("My sandbox keys"), "/developers/keys", DEVELOPER, order=771),
    NavItem(DEVELOPERS, N_("My partner services"), "/developers/services", DEVELOPER, order=772),
    NavItem(DEVELOPERS, N_("Partner service catalogue"), "/developers/catalogue", DEVELOPER, order=773),
]
Viewer = Annotated[Auth, Depends(require_any(READ, PARTNERS))]
Keeper = Annotated[Auth, Depends(require(PARTNERS))]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

audit.name_codes(
    actions={
        "programme.partners.member.add": N_("Partner developer added"),
        "programme.partners.member.remove": N_("Partner developer removed"),
        "programme.partners.key.issue": N_("Sandbox key issued"),
        "programme.partners.key.revoke": N_("Sandbox key revoked"),
        "programme.partners.service.submit": N_("Partner service submitted"),
        "programme.partners.service.edit": N_("Partner service edited"),
        "programme.partners.service.approve": N_("Partner service approved"),
        "programme.partners.service.reject": N_("Partner service rejected"),
        "programme.partners.service.suspend": N_("Partner service suspended"),
    },
    targets={
        "programme_partner_member": N_("Partner developer"),
        "programme_partner_key": N_("Sandbox key"),
        "programme_partner_service": N_("Partner service"),
    },
)


labels = partners_dev.labels


@router.get("/programme/partners")
def registry(request: Request, session: ReadSession, a: Viewer) -> Response:
    orgs = partners.partner_orgs(session)
    counts = partners_services.counts_by_state(session)
    rows = []
    for o in orgs:
        key_list = [k for k in partners.keys(session, org_id=o.id) if partners.key_state(k) == "active"]
        today = partners.calls_today(session, key_ids=[k.id for k in key_list])
        rows.append(
            {
                "org": o,
                "members": partners.members(session, org_id=o.id),
                "live_keys": key_list,
                "today": today,
                "services": counts.get(o.id, {}),
            }
        )
    return templates(request).render(
        request,
        "programme/partners/registry.html",
        {"rows": rows, "states": list(ServiceState), "can_keep": a.actor.can(PARTNERS), **labels(request)},
    )


def _org_page(
    request: Request,
    session: Session,
    a: Auth,
    org_id: int,
    *,
    member_form: Refused | None = None,
    key_form: Refused | None = None,
    issued: tuple[Any, str] | None = None,
    status: int = 200,
) -> Response:
    org = partners.get_partner(session, org_id=org_id)
    key_list = partners.keys(session, org_id=org.id)
    return templates(request).render(
        request,
        "programme/partners/org.html",
        {
            "org": org,
            "members": partners.members(session, org_id=org.id),
            "candidates": partners.candidates(session) if a.actor.can(PARTNERS) else [],
            "keys": key_list,
            "prefixes": partners.token_prefixes(session, key_list=key_list),
            "today": partners.calls_today(session, key_ids=[k.id for k in key_list]),
            "services": partners_services.services(session, org_id=org.id),
            "member_form": member_form or Refused.empty(),
            "key_form": key_form or Refused({"daily_quota": "1000"}, {}, None, 200),
            "issued": issued,
            "can_keep": a.actor.can(PARTNERS),
            **labels(request),
        },
        status_code=status,
    )


@router.get("/programme/partners/services")
def review_list(request: Request, session: ReadSession, a: Viewer, state: ServiceState | None = None) -> Response:
    return _review_page(request, session, a, state=state)


def _review_page(
    request: Request,
    session: Session,
    a: Auth,
    *,
    state: ServiceState | None,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    shown = partners_services.services(session, state=state)
    names = {o.id: o.name for o in partners.partner_orgs(session)}
    return templates(request).render(
        request,
        "programme/partners/services.html",
        {
            "services": shown,
            "names": names,
            "state": state.value if state else "",
            "states": list(ServiceState),
            "allowed": {
                s.id: partners_services.allowed_actions(s.state, partners_services.STAFF_ACTIONS) for s in shown
            },
            "form": form or Refused.empty(),
            "can_keep": a.actor.can(PARTNERS),
            **labels(request),
        },
        status_code=status,
    )


@router.post("/programme/partners/services/{service_id}/review")
def review(request: Request, service_id: Id, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, ("action", "note"))
    try:
        partners_services.review(session, actor=a.actor, service_id=service_id, data=forms.parse(ReviewIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which=str(service_id))
        return _review_page(request, session, a, state=None, form=refused, status=refused.status)
    return redirect("/programme/partners/services", flash=translate(request, "Saved"))


@router.get("/programme/partners/keys/{key_id}")
def key_page(request: Request, key_id: Id, session: ReadSession, a: Viewer) -> Response:
    key = partners.get_key(session, key_id=key_id)
    org = partners.get_partner(session, org_id=key.org_id)
    return partners_dev.render_key(request, session, key=key, org=org, back=f"/programme/partners/{org.id}",
                                   can_revoke=False)  # fmt: skip


@router.post("/programme/partners/keys/{key_id}/revoke")
def revoke(request: Request, key_id: Id, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    key = partners.revoke_key(session, actor=a.actor, key_id=key_id)
    return redirect(f"/programme/partners/{key.org_id}", flash=translate(request, "The key is revoked"))


@router.get("/programme/partners/{org_id}")
def org_page(request: Request, org_id: Id, session: ReadSession, a: Viewer) -> Response:
    return _org_page(request, session, a, org_id)


@router.post("/programme/partners/{org_id}/members")
def add_member(request: Request, org_id: Id, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values = forms.typed(form, ("user_id",))
    try:
        partners.add_member(session, actor=a.actor, org_id=org_id, data=forms.parse(MemberIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="member")
        return _org_page(request, session, a, org_id, member_form=refused, status=refused.status)
    return redirect(f"/programme/partners/{org_id}", flash=translate(request, "Saved"))


@router.post("/programme/partners/{org_id}/members/{user_id}/remove")
def remove_member(
    request: Request, org_id: Id, user_id: Id, session: WriteSession, a: Keeper, form: PostedForm
) -> Response:
    partners.remove_member(session, actor=a.actor, org_id=org_id, user_id=user_id)
    return redirect(f"/programme/partners/{org_id}", flash=translate(request, "Saved"))


@router.post("/programme/partners/{org_id}/keys")
def issue_key(request: Request, org_id: Id, session: WriteSession, a: Keeper, form: PostedForm) -> Response:
    values: dict[str, Any] = forms.typed(form, ("name", "daily_quota"))
    values["scopes"] = [s for s in form.getlist("scopes") if isinstance(s, str)][:20]
    try:
        key, plain = partners.issue_key(session, actor=a.actor, org_id=org_id, data=forms.parse(KeyIn, values))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values, which="key")
        return _org_page(request, session, a, org_id, key_form=refused, status=refused.status)
    return _org_page(request, session, a, org_id, issued=(key, plain))
