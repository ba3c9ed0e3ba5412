"""Result certificates (结果证照): the PDF, the staff page and the public verification page.

- ``/services/verify/{token}`` — public, no login, phone first: valid / expired / revoked / not yet
  valid / unknown, with only what a verifier needs (result name, number, the holder's name partly
  masked, issuer, validity). The token has a fixed shape (anything else is unknown without a query)
  and each address may ask ``VERIFY_PER_MINUTE`` times a minute.
- ``/services/applications/{id}/certificate.pdf`` — the printable certificate with its QR code, for
  whoever may read the application (the applicant, the staff who may read it).
- ``/services/applications/{id}/certificate`` — the certificate's record, its status, the links, and
  for window clerks and supervisors the revoke form (撤销, with a reason).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from countyos.core.errors import CountyError, RateLimited
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.services.schemas import MAX_ID, RevokeIn
from countyos.services.service import applications, certificates
from countyos.web import forms
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, client_ip, public
from countyos.web.nav import NavItem
from countyos.web.ratelimit import SlidingWindowLimiter
from countyos.web.templating import redirect, templates, translate

router = APIRouter(include_in_schema=False)
NAV: list[NavItem] = []
VERIFY_PER_MINUTE = 60
Anyone = Annotated[Auth | None, Depends(public)]
Person = Annotated[Auth, Depends(authenticated)]
AppId = Annotated[int, Path(ge=1, le=MAX_ID)]
Token = Annotated[str, Path(min_length=1, max_length=64)]
REVOKE_FIELDS = ("reason",)

audit.name_codes(
    actions={
        "services.certificate.issue": N_("Certificate issued"),
        "services.certificate.revoke": N_("Certificate revoked"),
        "services.exchange.export": N_("Government service records exported"),
    },
    targets={"services_exchange": N_("Government service records")},
)


def _limit(request: Request) -> None:
    limiter: SlidingWindowLimiter | None = getattr(request.app.state, "services_verify_limiter", None)
    if limiter is None:
        limiter = request.app.state.services_verify_limiter = SlidingWindowLimiter(VERIFY_PER_MINUTE)
    retry = limiter.hit(client_ip(request) or "unknown")
    if retry is not None:
        raise RateLimited(retry_after=retry)


@router.get("/services/verify/{certificate_token}")
def verify_page(
    request: Request, certificate_token: Token, session: ReadSession, _: Anyone, large: Annotated[bool, Query()] = False
) -> Response:
    """What a verifier needs to know about a certificate, from the QR code's URL."""
    _limit(request)
    cert = certificates.by_token(session, certificate_token)
    state = certificates.status(cert)
    return templates(request).render(
        request,
        "services/verify/verify.html",
        {
            "cert": cert,
            "state": str(state),
            "state_label": certificates.STATUS_LABELS[state],
            "holder": certificates.mask_name(cert.holder_name) if cert is not None else "",
            "large": large,
        },
        status_code=200 if cert is not None else 404,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"},
    )


@router.get("/services/applications/{application_id}/certificate.pdf")
def certificate_pdf(request: Request, application_id: AppId, session: ReadSession, a: Person) -> Response:
    """The printable certificate (A4) with the QR code of its verification page."""
    app, cert = certificates.for_application(session, actor=a.actor, application_id=application_id)
    data = certificates.render_pdf(session, app=app, cert=cert)
    name = quote(f"{cert.name}-{cert.number}.pdf")
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}", "Cache-Control": "no-store"},
    )


def _page(
    request: Request,
    session: Session,
    a: Auth,
    application_id: int,
    *,
    revoke_form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    app, cert = certificates.for_application(session, actor=a.actor, application_id=application_id)
    state = certificates.status(cert)
    url = certificates.verification_url(cert.token)
    import segno

    return templates(request).render(
        request,
        "services/verify/certificate.html",
        {
            "app": app,
            "cert": cert,
            "matter_name": applications.version_of(session, app).name,
            "state": str(state),
            "state_label": certificates.STATUS_LABELS[state],
            "url": url,
            "qr_svg": segno.make(url, error="m").svg_data_uri(scale=4, border=2),
            "may_revoke": cert.revoked_at is None and any(a.actor.can(p) for p in certificates.REVOKERS),
            "form": revoke_form or {"values": defaultdict(str), "errors": {}, "error": None},
        },
        status_code=status,
    )


@router.get("/services/applications/{application_id}/certificate")
def certificate_page(request: Request, application_id: AppId, session: ReadSession, a: Person) -> Response:
    return _page(request, session, a, application_id)


@router.post("/services/applications/{application_id}/certificate/revoke")
def certificate_revoke(
    request: Request, application_id: AppId, session: WriteSession, a: Person, form: forms.PostedForm
) -> Response:
    """撤销 with a reason; on an error the form comes back with what was typed and the message beside it."""
    values = forms.typed(form, REVOKE_FIELDS)
    try:
        body = forms.parse(RevokeIn, values)
        certificates.revoke(session, actor=a.actor, application_id=application_id, reason=body.reason)
    except (CountyError, PydanticValidationError) as exc:
        if isinstance(exc, CountyError) and exc.status in (403, 404):
            raise
        session.rollback()
        errors = forms.field_errors(request, exc)
        refused = {
            "values": defaultdict(str, values),
            "errors": errors,
            "error": errors.pop("", None) or translate(request, N_("Please correct the marked fields")),
        }
        status = exc.status if isinstance(exc, CountyError) else 422
        return _page(request, session, a, application_id, revoke_form=refused, status=status)
    return redirect(
        f"/services/applications/{application_id}/certificate", translate(request, N_("The certificate is revoked"))
    )
