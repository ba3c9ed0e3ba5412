"""结果证照: the certificate of a granted application, its PDF and its public verification.

A certificate is issued when an application is concluded 准予 (``issue``, called by the exchange hook
of ``applications``): its name, number, holder, issuer and validity are kept as issued, with a random
``token`` (``secrets.token_urlsafe``: 32 characters, ~192 bits) that is the only key of the public
verification page ``/services/verify/{token}`` — never the application's id or number. The PDF
(``render_pdf``) prints the county, the issuing body, the result name and number, the holder (name,
ID number masked), the matter, the decision date, the validity and a QR code of the verification URL
(``settings.public_url`` + path, so a printed certificate keeps working behind any proxy). The font is
a CJK font found on the system at run time (Noto Sans CJK, Source Han Sans, WenQuanYi …), embedded as
a subset of the characters used; without one the PDF is refused with a message saying so.

``status`` answers what a verifier needs: valid, expired, revoked (by ``revoke``: window or
supervisor, with a reason, audited) — and the page says unknown for a token that matches nothing.
"""

from __future__ import annotations

import io
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import to_local, utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable
from countyos.core.i18n import N_, gettext
from countyos.core.settings import get_settings
from countyos.org.service import audit
from countyos.services.lifecycle import Decision
from countyos.services.models import Application, Certificate
from countyos.services.service import applications

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")  # what ``new_token`` makes; anything else is unknown at once
REVOKERS = (applications.WINDOW, applications.SUPERVISE)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# File names of CJK fonts that cover simplified Chinese, best first (a .ttc's SC face is picked by name).
FONT_NAMES = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansSC-Regular.ttf",
    "SourceHanSansSC-Regular.otf",
    "SourceHanSans-Regular.ttc",
    "NotoSerifCJK-Regular.ttc",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
)


class VerifyStatus(StrEnum):
    VALID = "valid"  # 有效
    EXPIRED = "expired"  # 已过期
    REVOKED = "revoked"  # 已撤销 / 已注销
    NOT_YET_VALID = "not_yet_valid"  # 尚未生效
    UNKNOWN = "unknown"  # 查无此证


STATUS_LABELS = {
    VerifyStatus.VALID: N_("Valid"),
    VerifyStatus.EXPIRED: N_("Expired"),
    VerifyStatus.REVOKED: N_("Revoked by the issuing authority"),
    VerifyStatus.NOT_YET_VALID: N_("Not yet valid"),
    VerifyStatus.UNKNOWN: N_("No such certificate"),
}


class FontMissing(ServiceUnavailable):
    code = "certificate_font_missing"
    title = N_("No Chinese font is installed on the server")


# ── issuing and reading ──────────────────────────────────────────────────────────────────────────────


def new_token() -> str:
    return secrets.token_urlsafe(24)


def of_granted(
    app: Application, *, issuer: str, default_name: str | None = None, now: datetime | None = None
) -> Certificate:
    """The certificate row of a granted application (not yet added): its number, holder, issuer, validity
    and a new verification token."""
    return Certificate(
        application_id=app.id,
        token=new_token(),
        name=(app.result_name or default_name or app.number)[:200],
        number=(app.result_number or app.number)[:100],
        holder_name=app.applicant_name,
        issuer=issuer,
        issued_at=app.decided_at or now or utcnow(),
        valid_from=app.result_valid_from or app.decided_at or now or utcnow(),
        valid_until=app.result_valid_until,
    )


def issue(
    session: Session, *, actor: Actor, app: Application, now: datetime | None = None, audited: bool = True
) -> Certificate | None:
    """The certificate of a granted application (made once; None when the decision is not 准予).
    ``audited=False``: the caller's own audit record names it (the deciding action's)."""
    if app.decision != Decision.GRANTED:
        return None
    existing = session.scalar(select(Certificate).where(Certificate.application_id == app.id))
    if existing is not None:
        return existing
    version = applications.version_of(session, app)
    cert = of_granted(app, issuer=version.body_name, default_name=version.result_name or version.name, now=now)
    session.add(cert)
    session.flush()
    if audited:
        audit.record(
            session,
            actor=actor,
            action="services.certificate.issue",
            target_type="services_application",
            target_id=app.number,
            detail={"certificate": cert.number, "name": cert.name},
        )
    return cert


def for_application(session: Session, *, actor: Actor, application_id: int) -> tuple[Application, Certificate]:
    """The application and its certificate, for whoever may read the application (the applicant, staff)."""
    app = applications.get(session, actor=actor, application_id=application_id)
    cert = session.scalar(select(Certificate).where(Certificate.application_id == app.id))
    if cert is None:
        raise NotFound(N_("This application has no certificate: it was not granted"))
    return app, cert


def by_token(session: Session, token: str) -> Certificate | None:
    if not TOKEN_RE.fullmatch(token):
        return None
    return session.scalar(select(Certificate).where(Certificate.token == token))


def status(cert: Certificate | None, *, now: datetime | None = None) -> VerifyStatus:
    if cert is None:
        return VerifyStatus.UNKNOWN
    now = now or utcnow()
    if cert.revoked_at is not None:
        return VerifyStatus.REVOKED
    if cert.valid_until is not None and cert.valid_until < now:
        return VerifyStatus.EXPIRED
    if cert.valid_from > now:
        return VerifyStatus.NOT_YET_VALID
    return VerifyStatus.VALID


def revoke(
    session: Session, *, actor: Actor, application_id: int, reason: str, now: datetime | None = None
) -> Certificate:
    """撤销: the verification page answers "revoked" from now on. Window clerks and supervisors."""
    app, cert = for_application(session, actor=actor, application_id=application_id)
    if not any(actor.can(p) for p in REVOKERS):
        raise PermissionDenied(N_("Only a window clerk or a supervisor may revoke a certificate"))
    if cert.revoked_at is not None:
        raise Conflict(N_("The certificate is already revoked"))
    cert.revoked_at, cert.revoked_by_id, cert.revoked_reason = now or utcnow(), actor.id, reason.strip()[:500]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="services.certificate.revoke",
        target_type="services_application",
        target_id=app.number,
        detail={"certificate": cert.number, "reason": cert.revoked_reason},
    )
    return cert


def verification_url(token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/services/verify/{token}"


def mask_name(name: str) -> str:
    """张*英 / 王* / 演示县***有限公司: enough to recognise, not enough to learn a stranger's name."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if len(name) <= 4:
        return name[0] + "*" * (len(name) - 2) + name[-1]
    keep = max(2, len(name) // 3)
    return name[:keep] + "*" * (len(name) - 2 * keep) + name[-keep:]


# ── the PDF ──────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int  # the face of a collection (.ttc)


def _sc_face(path: Path) -> int:
    """The simplified-Chinese face of a font collection (Noto/Source Han put JP first)."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    try:
        with TTCollection(str(path), lazy=True) as collection:
            names = [str(f["name"].getDebugName(1) or "") for f in collection.fonts]
    except Exception:
        return 0
    for i, name in enumerate(names):
        if name.endswith((" SC", " CN")) or "GB" in name or "Micro Hei" in name or "Zen Hei" in name:
            return i
    return 0


@lru_cache(maxsize=1)
def find_font() -> FontFile | None:
    """A CJK font on this system: a known file name under the font directories, else fontconfig's choice."""
    for name in FONT_NAMES:
        for d in FONT_DIRS:
            if d.is_dir():
                hit = next(iter(d.rglob(name)), None)
                if hit is not None:
                    return FontFile(hit, _sc_face(hit))
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}|%{index}", "sans-serif:lang=zh-cn"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        path, _, index = out.partition("|")
        if path and Path(path).is_file() and Path(path).suffix.lower() in (".ttf", ".otf", ".ttc"):
            return FontFile(Path(path), int(index) if index.isdigit() else 0)
    return None


def _date(value: datetime | None) -> str:
    if value is None:
        return gettext(N_("Long-term"))
    d = to_local(value, get_settings().timezone)
    # zh_CN: 2026年3月5日; en: 2026-03-05
    return gettext(N_("%(y)s-%(mm)s-%(dd)s"), y=d.year, m=d.month, d=d.day, mm=f"{d.month:02d}", dd=f"{d.day:02d}")


def qr_png(url: str, *, scale: int = 6) -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def render_pdf(session: Session, *, app: Application, cert: Certificate) -> bytes:
    """The certificate as a one-page A4 PDF in the current locale (labels) with a subset CJK font."""
    from fpdf import FPDF

    font = find_font()
    if font is None:
        raise FontMissing(
            N_("No Chinese (CJK) font was found on the server; install fonts-noto-cjk to print certificates")
        )
    version = applications.version_of(session, app)
    url = verification_url(cert.token)
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"{cert.name} {cert.number}")
    pdf.set_creator("CountyOS")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    pdf.add_page()
    pdf.set_draw_color(150, 20, 20)
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, 186, 273)
    pdf.set_line_width(0.3)
    pdf.rect(15, 15, 180, 267)

    pdf.set_font("cjk", size=13)
    pdf.set_xy(20, 26)
    pdf.cell(170, 8, get_settings().county_name, align="C")
    pdf.set_font("cjk", size=28)
    pdf.set_text_color(150, 20, 20)
    pdf.set_xy(20, 40)
    pdf.multi_cell(170, 14, cert.name, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=12)
    pdf.set_x(20)
    pdf.cell(170, 8, f"{gettext(N_('Certificate number'))}: {cert.number}", align="C")

    rows = [
        (N_("Holder"), cert.holder_name),
        (N_("ID number"), applications.mask_id(applications.id_number(app))),
        (N_("Matter"), version.name),
        (N_("Application number"), app.number),
        (N_("Issuing authority"), cert.issuer),
        (N_("Date of decision"), _date(cert.issued_at)),
        (N_("Valid from"), _date(cert.valid_from)),
        (N_("Valid until"), _date(cert.valid_until)),
    ]
    y = 84.0
    for label, value in rows:
        pdf.set_xy(30, y)
        pdf.set_font("cjk", size=12)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(42, 9, gettext(label))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("cjk", size=13)
        pdf.set_xy(72, y)
        pdf.multi_cell(110, 9, value)
        y = max(y + 11, pdf.get_y() + 2)

    pdf.image(io.BytesIO(qr_png(url)), x=30, y=205, w=45, h=45)
    pdf.set_font("cjk", size=11)
    pdf.set_xy(82, 212)
    pdf.multi_cell(100, 7, gettext(N_("Scan the code to check that this certificate is genuine and still valid.")))
    pdf.set_font("cjk", size=8)
    pdf.set_xy(82, pdf.get_y() + 2)
    pdf.multi_cell(100, 5, url)
    pdf.set_font("cjk", size=14)
    pdf.set_xy(100, 258)
    pdf.cell(80, 8, cert.issuer, align="R")
    pdf.set_xy(100, 266)
    pdf.set_font("cjk", size=12)
    pdf.cell(80, 8, _date(cert.issued_at), align="R")
    return bytes(pdf.output())
