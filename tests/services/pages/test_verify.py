"""The certificate pages: the public verification page (no login, only what a verifier needs, bounded
and rate-limited), the PDF for the applicant and staff, the staff page with the revoke form."""

from __future__ import annotations

import re

from sqlalchemy import select

from countyos.services.models import Application, Certificate
from countyos.services.pages import verify
from tests.factories import csrf_from, login
from tests.services.service.test_certificates import world


def token_of(db, app_id: int) -> str:
    with db.reading() as s:
        return s.scalar(select(Certificate.token).where(Certificate.application_id == app_id))


def test_the_verification_page_shows_only_what_a_verifier_needs(client, db, shop) -> None:
    w = world(db, shop)
    token = token_of(db, w.app_id)
    page = client.get(f"/services/verify/{token}")
    assert page.status_code == 200
    assert 'id="verify-status" role="status">有效<' in page.text, re.findall(r"verify-status[^<]*<", page.text)
    assert 'id="verify-name">食品经营许可证<' in page.text
    assert 'id="verify-number">JY13311250001234<' in page.text
    assert 'id="verify-holder">蓝*生<' in page.text
    assert 'id="verify-issuer">测试市场监督管理局<' in page.text
    assert 'id="verify-from">2026-12-03<' in page.text and 'id="verify-until">2031-12-02<' in page.text
    with db.reading() as s:
        number = s.get(Application, w.app_id).number
    for private in ("蓝水生", "33112519600101", "123X", "13905781234", "大田村", number, "食品经营许可（新办）"):
        assert private not in page.text, private
    assert page.headers["cache-control"] == "no-store" and page.headers["x-robots-tag"] == "noindex"
    large = client.get(f"/services/verify/{token}", params={"large": 1})
    assert "svc-large" in large.text


def test_unknown_and_malformed_tokens_are_unknown(client, db) -> None:
    page = client.get("/services/verify/" + "A" * 32)
    assert page.status_code == 404 and 'id="verify-status" role="status">查无此证<' in page.text
    assert 'id="verify-unknown"' in page.text
    page = client.get("/services/verify/%27%20OR%201%3D1")
    assert page.status_code == 404 and "查无此证" in page.text
    assert client.get("/services/verify/" + "A" * 65).status_code == 422  # past the path's bound


def test_the_verification_page_is_rate_limited_per_address(client, db, monkeypatch) -> None:
    monkeypatch.setattr(verify, "VERIFY_PER_MINUTE", 3)
    codes = [client.get("/services/verify/" + "B" * 32).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_the_pdf_is_for_the_applicant_and_staff_who_may_read_the_application(client, db, shop) -> None:
    w = world(db, shop)
    url = f"/services/applications/{w.app_id}/certificate.pdf"
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    login(client, w.people["resident"])  # the applicant's own account
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-") and r.headers["cache-control"] == "no-store"
    assert "JY13311250001234" in r.headers["content-disposition"]
    client.cookies.clear()
    login(client, w.people["stranger"])
    assert client.get(url).status_code == 404
    assert client.get(f"/services/applications/{w.app_id}/certificate").status_code == 404
    client.cookies.clear()
    login(client, w.people["market"])  # the department that decided
    assert client.get(url).status_code == 200


def test_a_denied_application_has_no_certificate_page(client, db, shop) -> None:
    w = world(db, shop, decision="denied")
    login(client, w.people["window"])
    assert client.get(f"/services/applications/{w.app_id}/certificate.pdf").status_code == 404
    assert client.get(f"/services/applications/{w.app_id}/certificate").status_code == 404


def test_staff_revoke_with_a_reason_and_the_verification_page_says_so(client, db, shop) -> None:
    w = world(db, shop)
    token = token_of(db, w.app_id)
    page_url = f"/services/applications/{w.app_id}/certificate"
    login(client, w.people["market"])  # reads it, may not revoke it: no form
    page = client.get(page_url)
    assert page.status_code == 200 and 'id="cert-number">JY13311250001234<' in page.text
    assert 'id="cert-revoke-form"' not in page.text
    assert f"/services/verify/{token}" in page.text and 'src="data:image/svg+xml' in page.text
    client.cookies.clear()
    login(client, w.people["window"])
    page = client.get(page_url)
    assert 'id="cert-status">有效<' in page.text and 'id="cert-revoke-form"' in page.text
    # too short a reason: the form comes back with what was typed and the message beside the field
    r = client.post(page_url + "/revoke", data={"reason": "x", "csrf_token": csrf_from(page.text)})
    assert r.status_code == 422
    assert '<p class="field-error" role="alert" id="error-reason">' in r.text
    assert ">x</textarea>" in r.text
    r = client.post(
        page_url + "/revoke",
        data={"reason": "以欺骗手段取得许可", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == page_url
    page = client.get(page_url)
    assert 'id="cert-status">已撤销<' in page.text and "以欺骗手段取得许可" in page.text
    assert 'id="cert-revoke-form"' not in page.text
    client.cookies.clear()
    public = client.get(f"/services/verify/{token}")
    assert 'role="status">已撤销<' in public.text and 'id="verify-revoked"' in public.text
    assert "以欺骗手段取得许可" not in public.text  # the reason is for staff


def test_the_demo_county_has_a_granted_certificate_to_verify(client, db) -> None:
    from countyos.core.demo import DemoContext
    from countyos.org import demo as org_demo
    from countyos.services import demo

    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        demo.load(s, ctx, applications=False)  # without the year of applications
    with db.reading() as s:
        (cert,) = s.scalars(select(Certificate)).all()
        app = s.get(Application, cert.application_id)
        assert (app.state, cert.name, cert.number, cert.holder_name) == (
            "delivered",
            "食品经营许可证",
            "JY13311250000001",
            "演示县大田农家食品店",
        )
        token = cert.token
    assert any(f"/services/verify/{token}" in note for note in ctx.notes)
    page = client.get(f"/services/verify/{token}")
    assert page.status_code == 200 and 'role="status">有效<' in page.text
    assert 'id="verify-holder">演示县****食品店<' in page.text


def test_the_audit_log_names_application_and_certificate_actions_in_words(client, db, shop) -> None:
    from countyos.org.service import audit

    world(db, shop)
    with db.reading() as s:
        from countyos.org.models import AuditEvent

        codes = set(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("services.%"))))
    assert codes >= {
        "services.application.create",
        "services.application.accept",
        "services.application.pass",
    }
    assert all(c in audit.ACTION_NAMES for c in codes), sorted(c for c in codes if c not in audit.ACTION_NAMES)
