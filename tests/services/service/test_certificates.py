"""结果证照: issued on a 准予 decision with a random token, the PDF (text and QR read back), the status
a verifier sees, revoking, and a clear refusal without a CJK font."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from countyos.core import i18n
from countyos.core.actor import Actor
from countyos.core.errors import Conflict, NotFound, PermissionDenied
from countyos.org.models import AuditEvent
from countyos.services.lifecycle import Action
from countyos.services.models import Application, Certificate
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue, certificates
from tests import factories
from tests.services.conftest import ADMIN, guide

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 county time
VALID_FROM = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # 3 Dec 00:00 county time
VALID_UNTIL = datetime(2031, 12, 2, 15, 59, tzinfo=UTC)  # 2 Dec 2031 23:59 county time


@dataclass
class World:
    app_id: int
    people: dict[str, factories.Person]
    actors: dict[str, Actor]


_PEOPLE = {
    "window": (["services_window"], {apps.WINDOW, apps.PII}, "centre"),
    "centre": (["services_handler"], {apps.HANDLE}, "centre"),
    "market": (["services_handler"], {apps.HANDLE}, "market"),
    "supervisor": (["services_admin"], {apps.SUPERVISE, "services.catalogue.manage"}, None),
    "resident": ([], set(), None),
    "stranger": ([], set(), None),
}


def world(db, shop, *, decision: str = "granted", valid_until: datetime | None = VALID_UNTIL, **changes) -> World:
    """A 食品经营许可 application taken in at the window, through both steps, decided; the resident's
    account is its applicant."""
    people, actors = {}, {}
    for key, (roles, perms, dep) in _PEOPLE.items():
        dep_id = getattr(shop, dep) if dep else None
        p = factories.person(db, roles, department_id=dep_id)
        people[key] = p
        actors[key] = Actor(id=p.id, name=f"测试{p.username}", permissions=frozenset(perms), department_id=dep_id)
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop, **changes))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        mats = [x.id for x in catalogue.current(m).materials]
        data = ApplicationIn.model_validate(
            {
                "matter_id": m.id,
                "applicant_name": "蓝水生",
                "id_number": "33112519600101123X",
                "phone": "13905781234",
                "address": "大柘镇大田村 12 号",
                "materials": [{"material_id": x, "form": "original", "count": 1} for x in mats],
            }
        )
        app = apps.create(s, actor=actors["window"], data=data, now=T0)
        app.applicant_user_id = people["resident"].id
        s.flush()
        app = act(s, actors["window"], app, Action.ACCEPT, T0 + timedelta(hours=1))
        app = act(s, actors["centre"], app, Action.PASS, T0 + timedelta(hours=2), opinion="同意")
        result = {"decision": decision}
        if decision == "granted":
            result |= {
                "result_name": "食品经营许可证",
                "result_number": "JY13311250001234",
                "valid_from": VALID_FROM.isoformat(),
                "valid_until": valid_until.isoformat() if valid_until else None,
            }
        app = act(s, actors["market"], app, Action.PASS, T0 + timedelta(days=1), opinion="准予", result=result)
        return World(app.id, people, actors)


def act(s, actor: Actor, app: Application, action: Action, now: datetime, **body) -> Application:
    data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
    return apps.act(s, actor=actor, application_id=app.id, action=action, data=data, now=now)


def pdf_text(data: bytes) -> str:
    """The text of the PDF's first page (pypdf reads fpdf2's two-byte CJK codes with a NUL before each
    character; pdftotext reads them cleanly, so the NULs are pypdf's and dropped here)."""
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(data)).pages[0].extract_text().replace("\x00", "")


def cert_of(db, app_id: int) -> Certificate:
    with db.reading() as s:
        cert = s.scalar(select(Certificate).where(Certificate.application_id == app_id))
        assert cert is not None
        s.expunge(cert)
        return cert


def test_a_granted_decision_issues_one_certificate_with_a_random_token(db, shop) -> None:
    w = world(db, shop)
    cert = cert_of(db, w.app_id)
    assert certificates.TOKEN_RE.fullmatch(cert.token)
    assert (cert.name, cert.number, cert.holder_name, cert.issuer) == (
        "食品经营许可证",
        "JY13311250001234",
        "蓝水生",
        "测试市场监督管理局",
    )
    assert (cert.issued_at, cert.valid_from, cert.valid_until) == (T0 + timedelta(days=1), VALID_FROM, VALID_UNTIL)
    with db.reading() as s:
        number = s.get(Application, w.app_id).number
        # the deciding action's audit record and timeline row name the certificate
        decided = s.scalars(select(AuditEvent).where(AuditEvent.action == "services.application.pass")).all()
        assert [(e.target_id, e.detail.get("certificate")) for e in decided] == [
            (number, None),
            (number, "JY13311250001234"),
        ]
        assert apps.timeline(s, application_id=w.app_id)[-1].detail["certificate"] == "JY13311250001234"
        # issuing again gives the same certificate
        again = certificates.issue(s, actor=w.actors["window"], app=s.get(Application, w.app_id))
        assert again is not None and again.token == cert.token


def test_a_denied_decision_has_no_certificate(db, shop) -> None:
    w = world(db, shop, decision="denied")
    with db.reading() as s:
        assert s.scalar(select(Certificate)) is None
        with pytest.raises(NotFound):
            certificates.for_application(s, actor=w.actors["window"], application_id=w.app_id)


def test_the_pdf_prints_the_certificate_and_a_qr_code_of_the_verification_url(db, shop) -> None:
    from pypdf import PdfReader

    w = world(db, shop)
    with db.reading() as s, i18n.use_locale("zh_CN"):
        app, cert = certificates.for_application(s, actor=w.actors["resident"], application_id=w.app_id)
        data = certificates.render_pdf(s, app=app, cert=cert)
        number, token = app.number, cert.token
    assert data.startswith(b"%PDF-")
    page = PdfReader(io.BytesIO(data)).pages[0]
    text = pdf_text(data)
    for expected in (
        "演示县",
        "食品经营许可证",
        "JY13311250001234",
        "蓝水生",
        "331***********123X",
        "食品经营许可（新办）",
        number,
        "测试市场监督管理局",
        "2026年12月2日",  # the decision (Wed 2 Dec 10:00 county time)
        "2026年12月3日",  # valid from
        "2031年12月2日",  # valid until
    ):
        assert expected in text, expected
    assert "33112519600101123X" not in text and "13905781234" not in text
    url = certificates.verification_url(token)
    assert url == f"http://127.0.0.1:8000/services/verify/{token}"
    assert url in text.replace("\n", "")
    # the embedded QR image decodes to exactly the verification URL
    import zxingcpp
    from PIL import Image

    (image,) = page.images
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))
    assert [d.text for d in decoded] == [url]
    # the font is embedded as a subset (a whole CJK font is ~20 MB)
    assert len(data) < 200_000


def test_without_a_cjk_font_the_pdf_is_refused_with_a_clear_message(db, shop, monkeypatch) -> None:
    w = world(db, shop)
    monkeypatch.setattr(certificates, "find_font", lambda: None)
    with db.reading() as s, i18n.use_locale("en"):
        app, cert = certificates.for_application(s, actor=w.actors["window"], application_id=w.app_id)
        with pytest.raises(certificates.FontMissing) as exc:
            certificates.render_pdf(s, app=app, cert=cert)
    assert exc.value.status == 503
    with i18n.use_locale("zh_CN"):
        assert exc.value.message == "服务器上找不到中文（CJK）字体；请安装 fonts-noto-cjk 后再打印证照"


def test_status_valid_expired_not_yet_valid_revoked_and_unknown(db, shop) -> None:
    w = world(db, shop)
    cert = cert_of(db, w.app_id)
    assert certificates.status(cert, now=VALID_FROM + timedelta(days=1)) is certificates.VerifyStatus.VALID
    assert certificates.status(cert, now=VALID_FROM - timedelta(seconds=1)) is certificates.VerifyStatus.NOT_YET_VALID
    assert certificates.status(cert, now=VALID_UNTIL + timedelta(seconds=1)) is certificates.VerifyStatus.EXPIRED
    assert certificates.status(None) is certificates.VerifyStatus.UNKNOWN
    with db.reading() as s:
        assert certificates.by_token(s, cert.token) is not None
        assert certificates.by_token(s, cert.token[:-1] + ("A" if cert.token[-1] != "A" else "B")) is None
        assert certificates.by_token(s, "' OR 1=1 --") is None  # not even a query
        assert certificates.by_token(s, cert.token + "x") is None


def test_a_certificate_without_an_end_is_long_term(db, shop) -> None:
    w = world(db, shop, valid_until=None)
    cert = cert_of(db, w.app_id)
    assert cert.valid_until is None
    assert certificates.status(cert, now=datetime(2090, 1, 1, tzinfo=UTC)) is certificates.VerifyStatus.VALID
    with db.reading() as s, i18n.use_locale("zh_CN"):
        app, cert = certificates.for_application(s, actor=w.actors["window"], application_id=w.app_id)
        text = pdf_text(certificates.render_pdf(s, app=app, cert=cert))
    assert "长期" in text


def test_revoking_needs_a_window_clerk_or_a_supervisor_and_happens_once(db, shop) -> None:
    w = world(db, shop)
    at = T0 + timedelta(days=30)
    with db.unit_of_work() as s:
        with pytest.raises(NotFound):  # cannot even read it
            certificates.revoke(s, actor=w.actors["stranger"], application_id=w.app_id, reason="冒用")
        with pytest.raises(PermissionDenied):  # reads it (the applicant), may not revoke it
            certificates.revoke(s, actor=w.actors["resident"], application_id=w.app_id, reason="冒用")
        cert = certificates.revoke(
            s, actor=w.actors["supervisor"], application_id=w.app_id, reason="以欺骗手段取得", now=at
        )
        assert (cert.revoked_at, cert.revoked_by_id, cert.revoked_reason) == (
            at,
            w.people["supervisor"].id,
            "以欺骗手段取得",
        )
        assert certificates.status(cert, now=at + timedelta(seconds=1)) is certificates.VerifyStatus.REVOKED
        with pytest.raises(Conflict):
            certificates.revoke(s, actor=w.actors["window"], application_id=w.app_id, reason="再次")
        revoked = s.scalars(select(AuditEvent).where(AuditEvent.action == "services.certificate.revoke")).all()
        assert [e.detail["reason"] for e in revoked] == ["以欺骗手段取得"]


@pytest.mark.parametrize(
    ("name", "masked"),
    [("蓝水生", "蓝*生"), ("王五", "王*"), ("欧阳娜娜", "欧**娜"), ("演示县大田食品有限公司", "演示县*****限公司")],
)
def test_names_are_partly_masked_for_verifiers(name: str, masked: str) -> None:
    assert certificates.mask_name(name) == masked


def granted_application(db, *, matter_id: int, centre: int, market: int, text: str) -> tuple[int, str]:
    """A granted application of a published two-step matter (the conftest guide's shape) whose applicant,
    opinions, result name and number are TEXT; returns its id and its certificate's token (for the
    cross-cutting page tests)."""
    window = Actor(id=None, name=text, permissions=frozenset({apps.WINDOW, apps.PII}))
    first = Actor(id=None, name=text, permissions=frozenset({apps.HANDLE}), department_id=centre)
    second = Actor(id=None, name=text, permissions=frozenset({apps.HANDLE}), department_id=market)
    with db.unit_of_work() as s:
        version = catalogue.current(catalogue.get(s, matter_id=matter_id))
        data = ApplicationIn.model_validate(
            {
                "matter_id": matter_id,
                "applicant_name": text,
                "id_number": "33112519600101123X",
                "address": text,
                "materials": [{"material_id": m.id, "form": "original", "count": 1} for m in version.materials],
            }
        )
        app = apps.create(s, actor=window, data=data, now=T0)
        app = act(s, window, app, Action.ACCEPT, T0 + timedelta(hours=1), note=text)
        app = act(s, first, app, Action.PASS, T0 + timedelta(hours=2), opinion=text)
        result = {"decision": "granted", "result_name": text, "result_number": text[:100]}
        app = act(s, second, app, Action.PASS, T0 + timedelta(hours=3), opinion=text, result=result)
        token = s.scalar(select(Certificate.token).where(Certificate.application_id == app.id))
        assert token is not None
        return app.id, token
