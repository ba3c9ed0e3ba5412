"""The developer portal: ``/developers`` (public: what the county's API offers, how to get a key, quotas,
the sandbox rules, the error format), ``/developers/catalogue`` (public: the approved partner services), and
for a partner's signed-in developers ``/developers/keys`` (request a key — the token shown once —, revoke
it, its use over 30 days) and ``/developers/services`` (submit, edit while submitted or rejected). A
developer sees only their own organisation's keys and services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError
from countyos.core.settings import get_settings
from countyos.programme.models.partners import PartnerKey
from countyos.programme.models.projects import Organisation
from countyos.programme.permissions import DEVELOPER
from countyos.programme.schemas.partners import MAX_ID, KeyIn, KeyRequestIn, ServiceIn
from countyos.programme.service import partners, partners_services
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, public, require
from countyos.web.forms import PostedForm, Refused
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
Developer = Annotated[Auth, Depends(require(DEVELOPER))]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SERVICE_FIELDS = ("name", "summary", "description", "url", "category", "contact")


def labels(request: Request) -> dict[str, Any]:
    """The words of codes shown on the partners pages, in the reader's language."""
    locale = getattr(request.state, "locale", "zh_CN")
    return {
        "scope_words": partners.scope_words(locale),
        "scope_codes": partners.scope_codes(),
        "public_apis": [a["code"] for a in partners.scope_table()["public_apis"]],
        "category_words": partners_services.category_words(locale),
        "category_codes": [c["code"] for c in partners_services.category_table()],
        "state_labels": {s.value: m for s, m in partners_services.STATE_LABELS.items()},
        "state_badges": {"submitted": "warn", "approved": "ok", "rejected": "bad", "suspended": "muted"},
        "action_labels": partners_services.ACTION_LABELS,
        "key_state_labels": partners.KEY_STATE_LABELS,
        "key_state": partners.key_state,
    }


@router.get("/developers", dependencies=[Depends(public)])
def portal(request: Request, session: ReadSession) -> Response:
    return templates(request).render(
        request,
        "programme/partners/portal.html",
        {
            "key_life_days": partners.KEY_LIFE.days,
            "default_quota": 1000,
            "max_quota": 100000,
            "timezone": get_settings().timezone,
            **labels(request),
        },
    )


@router.get("/developers/catalogue", dependencies=[Depends(public)])
def catalogue(request: Request, session: ReadSession) -> Response:
    return templates(request).render(
        request,
        "programme/partners/catalogue.html",
        {"entries": partners_services.catalogue(session), **labels(request)},
    )


def _no_org(request: Request) -> Response:
    return templates(request).render(request, "programme/partners/no_org.html", {}, status_code=200)


def _keys_page(
    request: Request,
    session: Session,
    org_id: int,
    *,
    form: Refused | None = None,
    issued: tuple[PartnerKey, str] | None = None,
    status: int = 200,
) -> Response:
    key_list = partners.keys(session, org_id=org_id)
    return templates(request).render(
        request,
        "programme/partners/dev_keys.html",
        {
            "org": partners.get_partner(session, org_id=org_id),
            "keys": key_list,
            "prefixes": partners.token_prefixes(session, key_list=key_list),
            "today": partners.calls_today(session, key_ids=[k.id for k in key_list]),
            "form": form or Refused.empty(),
            "issued": issued,
            **labels(request),
        },
        status_code=status,
    )


@router.get("/developers/keys")
def my_keys(request: Request, session: ReadSession, a: Developer) -> Response:
    org_id = partners.org_of_user(session, user_id=a.actor.id)
    if org_id is None:
        return _no_org(request)
    return _keys_page(request, session, org_id)


@router.post("/developers/keys")
def request_key(request: Request, session: WriteSession, a: Developer, form: PostedForm) -> Response:
    org_id = partners.developer_org(session, actor=a.actor)
    values: dict[str, Any] = forms.typed(form, ("name",))
    values["scopes"] = [s for s in form.getlist("scopes") if isinstance(s, str)][:20]
    try:
        body = forms.parse(KeyRequestIn, values)
        key, plain = partners.issue_key(
            session, actor=a.actor, org_id=org_id, data=KeyIn(name=body.name, scopes=body.scopes)
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _keys_page(request, session, org_id, form=refused, status=refused.status)
    return _keys_page(request, session, org_id, issued=(key, plain))


def render_key(
    request: Request, session: Session, *, key: PartnerKey, org: Organisation, back: str, can_revoke: bool
) -> Response:
    days = partners.usage(session, key_id=key.id)
    return templates(request).render(
        request,
        "programme/partners/key.html",
        {
            "key": key,
            "org": org,
            "days": list(reversed(days)),
            "total_calls": sum(d.calls for d in days),
            "total_refused": sum(d.refused for d in days),
            "prefix": partners.token_prefixes(session, key_list=[key]).get(key.id, ""),
            "back": back,
            "can_revoke": can_revoke,
            **labels(request),
        },
    )


@router.get("/developers/keys/{key_id}")
def my_key(request: Request, key_id: Id, session: ReadSession, a: Developer) -> Response:
    org_id = partners.developer_org(session, actor=a.actor)
    key = partners.get_key(session, key_id=key_id, org_id=org_id)
    org = partners.get_partner(session, org_id=org_id)
    return render_key(request, session, key=key, org=org, back="/developers/keys", can_revoke=True)


@router.post("/developers/keys/{key_id}/revoke")
def revoke_my_key(request: Request, key_id: Id, session: WriteSession, a: Developer, form: PostedForm) -> Response:
    org_id = partners.developer_org(session, actor=a.actor)
    partners.revoke_key(session, actor=a.actor, key_id=key_id, org_id=org_id)
    return redirect("/developers/keys", flash=translate(request, "The key is revoked"))


def _services_page(
    request: Request,
    session: Session,
    org_id: int,
    *,
    editing: int | None = None,
    form: Refused | None = None,
    status: int = 200,
) -> Response:
    shown = partners_services.services(session, org_id=org_id)
    if form is None and editing is not None:
        svc = partners_services.get(session, service_id=editing, org_id=org_id)
        form = Refused({**{f: getattr(svc, f) for f in SERVICE_FIELDS}, "uses": list(svc.uses)}, {}, None, 200)
    return templates(request).render(
        request,
        "programme/partners/dev_services.html",
        {
            "org": partners.get_partner(session, org_id=org_id),
            "services": shown,
            "editing": editing,
            "editable": {s.id for s in shown if partners_services.allowed_actions(s.state, ("edit",))},
            "form": form or Refused({"uses": []}, {}, None, 200),
            **labels(request),
        },
        status_code=status,
    )


@router.get("/developers/services")
def my_services(request: Request, session: ReadSession, a: Developer) -> Response:
    org_id = partners.org_of_user(session, user_id=a.actor.id)
    if org_id is None:
        return _no_org(request)
    return _services_page(request, session, org_id)


@router.get("/developers/services/{service_id}/edit")
def edit_form(request: Request, service_id: Id, session: ReadSession, a: Developer) -> Response:
    org_id = partners.developer_org(session, actor=a.actor)
    return _services_page(request, session, org_id, editing=service_id)


def _posted(form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    values: dict[str, Any] = forms.typed(form, SERVICE_FIELDS)
    values["uses"] = [s for s in form.getlist("uses") if isinstance(s, str)][:20]
    return values, dict(values)


@router.post("/developers/services")
def submit(request: Request, session: WriteSession, a: Developer, form: PostedForm) -> Response:
    org_id = partners.developer_org(session, actor=a.actor)
    values, data = _posted(form)
    try:
        partners_services.submit(session, actor=a.actor, org_id=org_id, data=forms.parse(ServiceIn, data))
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _services_page(request, session, org_id, form=refused, status=refused.status)
    return redirect("/developers/services", flash=translate(request, "Submitted for review"))


@router.post("/developers/services/{service_id}/edit")
def edit(request: Request, service_id: Id, session: WriteSession, a: Developer, form: PostedForm) -> Response:
    org_id = partners.developer_org(session, actor=a.actor)
    values, data = _posted(form)
    try:
        partners_services.edit(
            session, actor=a.actor, service_id=service_id, org_id=org_id, data=forms.parse(ServiceIn, data)
        )
    except (CountyError, PydanticValidationError) as exc:
        session.rollback()
        refused = Refused.of(request, exc, values)
        return _services_page(request, session, org_id, editing=service_id, form=refused, status=refused.status)
    return redirect("/developers/services", flash=translate(request, "Submitted for review"))
