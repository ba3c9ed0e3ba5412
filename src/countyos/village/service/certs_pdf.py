"""The 承诺达标合格证 as a printable label (100 × 75 mm PDF): every element of the 2026 rules (Art. 14) —
number, 产品名称, 数量/重量 and unit, 生产者 (or the buyer who repacked) name, 产地 and 联系方式 (the entity's
business phone, decrypted here only), 开具日期, 承诺事项, 承诺依据 with the test report number, the original
certificate of a repack — and a QR code of the batch's public trace URL. The CJK font and the QR code are the
services domain's (a subset of the font is embedded)."""

from __future__ import annotations

import io

from sqlalchemy.orm import Session

from countyos.core.crypto import FieldCipher
from countyos.core.i18n import N_, gettext
from countyos.core.settings import get_settings
from countyos.services.service.certificates import FontMissing, find_font, qr_png
from countyos.village.models.certs import Batch, Certificate
from countyos.village.service import certs, products
from countyos.village.service import certs_codes as codes
from countyos.village.service.certs_trace import BASIS_LABELS

WIDTH, HEIGHT = 100.0, 75.0  # mm


def contact(cert: Certificate) -> str:
    """The issuer's business phone as issued (decrypted for the printed label only)."""
    if not cert.contact_enc:
        return ""
    try:
        return FieldCipher(get_settings().secret_key.get_secret_value()).decrypt(cert.contact_enc)
    except ValueError:
        return cert.contact_masked or ""


def elements(session: Session, cert: Certificate) -> list[tuple[str, str]]:
    """The printed elements (label message id, value), in order; the PDF and the tests read the same."""
    batch = session.get(Batch, cert.batch_id)
    assert batch is not None
    parent = session.get(Certificate, cert.parent_id) if cert.parent_id else None
    basis = gettext(BASIS_LABELS[cert.basis])
    if cert.report_no:
        basis += " · " + gettext(N_("Report No. %(no)s"), no=cert.report_no)
    rows = [
        (N_("Certificate No."), cert.number),
        (N_("Product"), cert.product_name),
        (N_("Quantity (weight)"), f"{cert.quantity:g} {products.unit_label(cert.unit)}"),
        (N_("Repacked by") if parent else N_("Producer"), cert.producer_name),
        (N_("Place of origin"), cert.origin),
        (N_("Contact details"), contact(cert)),
        (N_("Date issued"), cert.issued_on.isoformat()),
        (N_("Basis of the promise"), basis),
    ]
    if parent is not None:
        rows.append((N_("Original certificate"), parent.number))
    rows.append((N_("Batch"), batch.batch_no))
    return rows


def render(session: Session, cert: Certificate) -> bytes:
    from fpdf import FPDF

    font = find_font()
    if font is None:
        raise FontMissing(
            N_("No Chinese (CJK) font was found on the server; install fonts-noto-cjk to print certificates")
        )
    batch = session.get(Batch, cert.batch_id)
    assert batch is not None
    url = certs.trace_url(batch.trace_code)
    pdf = FPDF(orientation="P", unit="mm", format=(WIDTH, HEIGHT))
    pdf.set_title(f"{gettext(N_('Certificate of commitment to meeting standards'))} {cert.number}")
    pdf.set_creator("CountyOS")
    pdf.set_auto_page_break(False)
    pdf.set_margins(4, 4, 4)
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    pdf.add_page()
    pdf.set_line_width(0.4)
    pdf.rect(2, 2, WIDTH - 4, HEIGHT - 4)
    pdf.set_font("cjk", size=12)
    pdf.set_xy(4, 4)
    pdf.cell(WIDTH - 8, 6, gettext(N_("Certificate of commitment to meeting standards")), align="C")
    if cert.revoked_at is not None:
        pdf.set_text_color(180, 0, 0)
        pdf.set_font("cjk", size=9)
        pdf.set_xy(4, 10)
        pdf.cell(WIDTH - 8, 4, gettext(N_("Revoked: %(reason)s"), reason=cert.revoked_reason or ""), align="C")
        pdf.set_text_color(0, 0, 0)
    y = 14.5
    text_w = WIDTH - 8 - 30
    for label, value in elements(session, cert):
        pdf.set_xy(4, y)
        pdf.set_font("cjk", size=6.5)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(17, 3.6, gettext(label))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("cjk", size=7)
        pdf.set_xy(21, y)
        pdf.multi_cell(text_w - 17, 3.6, value or "—")
        y = max(y + 3.9, pdf.get_y() + 0.3)
    pdf.set_xy(4, max(y + 0.5, 54))
    pdf.set_font("cjk", size=6.5)
    pdf.multi_cell(WIDTH - 8, 3.2, gettext(N_("We promise: %(promise)s"), promise=cert.promise))
    pdf.image(io.BytesIO(qr_png(url, scale=4)), x=WIDTH - 32, y=14, w=28, h=28)
    pdf.set_font("cjk", size=5)
    pdf.set_xy(WIDTH - 33, 42.5)
    pdf.multi_cell(30, 2.4, codes.human(batch.trace_code), align="C")
    pdf.set_xy(WIDTH - 33, pdf.get_y() + 0.5)
    pdf.multi_cell(30, 2.4, gettext(N_("Scan to trace")), align="C")
    return bytes(pdf.output())
