"""Files published with a notice: PDF, JPEG or PNG, bounded in size and count, private until published.

The bytes are kept like the cases' attachments (``cases.service.attachments``: type sniffed from the
bytes, stored once by SHA-256 under the data directory). A photo is checked from its header before a
pixel is decoded and kept as a copy re-encoded without its metadata (a phone's EXIF carries where it
was taken); the original is not kept. The public reads a file only by its token and only while its
notice is published (``service.notices.public_attachment``).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from countyos.cases.service import attachments as case_files
from countyos.core.errors import PayloadTooLarge, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.settings import get_settings
from countyos.portal.models import Notice, NoticeAttachment

MAX_BYTES = case_files.MAX_BYTES
MAX_FILES = 10  # per notice
TYPES = ("application/pdf", "image/jpeg", "image/png")
FIELD = "files"
_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def _refuse(message: str, **params: object) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": FIELD, "message": gettext(message, **params)}], **params)


def _without_metadata(data: bytes, media_type: str) -> bytes:
    """The photo re-encoded with nothing of the original's metadata; its size read from the header
    first and bounded like the cases' photos."""
    try:
        from PIL import Image, ImageOps
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise _refuse(N_("Photos cannot be attached on this server")) from None
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width * height > case_files.MAX_PIXELS:
                raise _refuse(
                    N_("The photo is too large: at most %(mp)s megapixels"), mp=case_files.MAX_PIXELS // 1_000_000
                )
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            pic = ImageOps.exif_transpose(im)
            buf = io.BytesIO()
            if media_type == "image/png":
                pic.save(buf, "PNG")
            else:
                pic.convert("RGB").save(buf, "JPEG", quality=88)
    except ValidationFailed:
        raise
    except Exception as exc:  # a truncated or forged image
        raise _refuse(N_("The photo could not be read (damaged or not really an image)")) from exc
    return buf.getvalue()


def path_of(att: NoticeAttachment) -> Path:
    return get_settings().data_dir / att.stored_as


def add(notice: Notice, *, data: bytes, filename: str) -> NoticeAttachment:
    """Keep one uploaded file for NOTICE (the caller audits); refused past the size or count limit,
    or when it is not a PDF, JPEG or PNG by its bytes."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(N_("A file may be at most %(mb)s MB"), mb=MAX_BYTES // 1_000_000)
    if not data:
        raise _refuse(N_("The file is empty"))
    if len(notice.attachments) >= MAX_FILES:
        raise _refuse(N_("A notice may have at most %(n)s files"), n=MAX_FILES)
    media_type = case_files.sniff(data)
    if media_type not in TYPES:
        raise _refuse(N_("Only PDF, JPEG and PNG files can be attached"))
    if media_type != "application/pdf":
        data = _without_metadata(data, media_type)
    digest = hashlib.sha256(data).hexdigest()
    target = case_files.path_for(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        part.write_bytes(data)
        part.replace(target)
    name = Path(filename or "").name.strip()[:150] or "file"
    if not name.lower().endswith(_EXTENSIONS[media_type]):
        name = name.rsplit(".", 1)[0][:150] + _EXTENSIONS[media_type]
    att = NoticeAttachment(
        filename=name,
        content_type=media_type,
        size=len(data),
        sha256=digest,
        stored_as=str(target.relative_to(get_settings().data_dir)),
    )
    notice.attachments.append(att)
    return att
