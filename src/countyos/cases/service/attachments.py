"""Photos and documents: type sniffed from the bytes, size-limited, stored once by SHA-256, thumbnails.

Files live under ``settings.attachments_dir/ab/cd/<sha256>`` (and ``…<sha256>.thumb.jpg``); the same
photo uploaded twice is stored once. EXIF (with the phone's GPS track) is dropped from thumbnails.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from sqlalchemy.orm import Session

from countyos.cases.models import Attachment
from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from countyos.core.settings import get_settings

MAX_BYTES = 10_000_000
THUMB_SIZE = (320, 320)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
# Decoding for the thumbnail costs 3 bytes a pixel. A JPEG is decoded at reduced scale (``draft``), so
# the 108/200-megapixel modes of some phones stay possible; other formats decode in full.
MAX_PIXELS = 50_000_000
MAX_JPEG_PIXELS = 200_000_000


class _TooManyPixels(Exception):
    def __init__(self, pixels: int, limit: int) -> None:
        super().__init__(pixels, limit)
        self.pixels, self.limit = pixels, limit


def sniff(data: bytes) -> str | None:
    """The media type from the file's first bytes (never from its name or the client's claim)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def path_for(sha256: str, thumb: bool = False) -> Path:
    base = get_settings().attachments_dir / sha256[:2] / sha256[2:4] / sha256
    return base.with_name(sha256 + ".thumb.jpg") if thumb else base


def store(
    session: Session, *, actor: Actor | None, data: bytes, name: str | None = None, public: bool = True
) -> Attachment:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge("A file may be at most %(mb)s MB", mb=MAX_BYTES // 1_000_000)
    if not data:
        raise ValidationFailed("The file is empty")
    media_type = sniff(data)
    if media_type is None:
        raise ValidationFailed("Only photos (JPEG, PNG, WebP, GIF) and PDF files can be attached")
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    width = height = None
    has_thumb = False
    if media_type in IMAGE_TYPES:
        width, height, has_thumb = _image(data, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    att = Attachment(
        sha256=digest,
        media_type=media_type,
        size=len(data),
        width=width,
        height=height,
        name=(name or "")[:200] or None,
        has_thumbnail=has_thumb,
        public=public,
        uploaded_by=actor.name if actor else None,
    )
    session.add(att)
    session.flush()
    return att


def _image(data: bytes, digest: str) -> tuple[int | None, int | None, bool]:
    try:
        from PIL import Image, ImageOps
    except ImportError:  # thumbnails need Pillow; the photo itself is kept either way
        return None, None, False
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size  # from the header: nothing decoded yet
            limit = MAX_JPEG_PIXELS if im.format == "JPEG" else MAX_PIXELS
            if width * height > limit:
                raise _TooManyPixels(width * height, limit)
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", THUMB_SIZE)  # JPEG: decode at 1/2–1/8 scale straight away
            thumb = ImageOps.exif_transpose(im).convert("RGB")
            thumb.thumbnail(THUMB_SIZE)
            out = path_for(digest, thumb=True)
            if not out.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
                buf = io.BytesIO()
                thumb.save(buf, "JPEG", quality=80)
                out.write_bytes(buf.getvalue())
            return width, height, True
    except _TooManyPixels as exc:
        raise ValidationFailed(
            "The photo is too large: %(mp)s megapixels, at most %(max)s",
            mp=exc.pixels // 1_000_000,
            max=exc.limit // 1_000_000,
        ) from exc
    except Exception as exc:  # a truncated or forged image
        raise ValidationFailed("The photo could not be read (damaged or not really an image)") from exc


def get(session: Session, *, attachment_id: int) -> Attachment:
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("Attachment %(id)s does not exist", id=attachment_id)
    return att


def claim(session: Session, *, actor: Actor | None, attachment_id: int, case_id: int) -> Attachment:
    """Attach an upload to a case: only one not yet on another case, and only by the person who uploaded it.

    An upload not yet attached is visible to its uploader alone; without this check anybody who guessed
    its id could carry somebody else's photo into a case of their own.
    """
    att = session.get(Attachment, attachment_id)
    uploader = actor.name if actor else None
    if (
        att is None
        or (att.case_id is not None and att.case_id != case_id)
        or (att.case_id is None and att.uploaded_by != uploader)
    ):
        raise ValidationFailed("Attachment %(id)s does not exist or belongs to another case", id=attachment_id)
    att.case_id = case_id
    return att
