"""Photos and documents: type sniffed from the bytes, size-limited, stored once by SHA-256, thumbnails.

Files live under ``settings.attachments_dir/ab/cd/<sha256>`` (and ``…<sha256>.thumb.jpg``); the same
photo uploaded twice is stored once. EXIF (with the phone's GPS track) is dropped from thumbnails.

An attachment is private: staff who may read its case see it. It is public only when the reporter sent
it with a public report (web form, Open311) or staff published it (``publish``, audited); the public
URL names it by its random ``public_token``.

Images are bounded before a pixel is decoded: the header gives the size, a JPEG is decoded at reduced
scale (``draft``), other formats only up to ``MAX_PIXELS``, and at most ``DECODE_SLOTS`` decode at once.
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.models import Attachment
from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed
from countyos.core.settings import get_settings
from countyos.org.service import audit

MAX_BYTES = 10_000_000
THUMB_SIZE = (320, 320)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
# Decoding costs 3–4 bytes a pixel. PNG, WebP and GIF decode in full, so they stay below 24 megapixels
# (~100 MB at most while the thumbnail is made). A JPEG is decoded at 1/8 scale (``draft``), so the
# 108-megapixel mode of some phones stays possible: 120 MP decode as 1.9 MP.
MAX_PIXELS = 24_000_000
MAX_JPEG_PIXELS = 120_000_000
DECODE_SLOTS = 2  # images decoded at once in this process; others wait up to DECODE_WAIT_S
DECODE_WAIT_S = 20.0
_decoding = threading.BoundedSemaphore(DECODE_SLOTS)


def _limit_pillow() -> None:
    """Pillow's own bomb check (at ``open``, from the header) as a backstop for every image in this
    process: an error above 2 × MAX_IMAGE_PIXELS, i.e. above the JPEG limit."""
    try:
        from PIL import Image
    except ImportError:
        return
    Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS // 2


_limit_pillow()


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
    session: Session, *, actor: Actor | None, data: bytes, name: str | None = None, public: bool = False
) -> Attachment:
    """Keep an upload (private unless PUBLIC: the reporter's own photo of a public report); audited."""
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
    audit.record(
        session,
        actor=actor,
        action="case.attachment.upload",
        target_type="case_attachment",
        target_id=att.id,
        detail={"sha256": digest, "media_type": media_type, "size": len(data), "public": public},
    )
    return att


def _image(data: bytes, digest: str) -> tuple[int | None, int | None, bool]:
    """Check the size from the header, then make the thumbnail with a bounded decode."""
    try:
        from PIL import Image
    except ImportError:  # thumbnails need Pillow; the photo itself is kept either way
        return None, None, False
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size  # from the header: nothing decoded yet
            limit = MAX_JPEG_PIXELS if im.format == "JPEG" else MAX_PIXELS
            if width * height > limit:
                raise _TooManyPixels(width * height, limit)
            im.verify()
        if not _decoding.acquire(timeout=DECODE_WAIT_S):
            raise ServiceUnavailable("Too many photos are being processed; please try again in a minute")
        try:
            _thumbnail(data, digest)
        finally:
            _decoding.release()
        return width, height, True
    except _TooManyPixels as exc:
        raise _too_large(exc.pixels, exc.limit) from exc
    except Image.DecompressionBombError as exc:  # Pillow's backstop: larger than any limit of ours
        raise ValidationFailed(
            "The photo is too large: more than %(max)s megapixels", max=MAX_JPEG_PIXELS // 1_000_000
        ) from exc
    except ServiceUnavailable:
        raise
    except Exception as exc:  # a truncated or forged image
        raise ValidationFailed("The photo could not be read (damaged or not really an image)") from exc


def _too_large(pixels: int, limit: int) -> ValidationFailed:
    return ValidationFailed(
        "The photo is too large: %(mp)s megapixels, at most %(max)s", mp=pixels // 1_000_000, max=limit // 1_000_000
    )


def _thumbnail(data: bytes, digest: str) -> None:
    """Decode at most MAX_PIXELS (a JPEG at reduced scale) and write the 320 px thumbnail."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", THUMB_SIZE)  # JPEG: decode at 1/2–1/8 scale straight away
        width, height = im.size  # what will be decoded
        if width * height > MAX_PIXELS:  # a JPEG that could not be reduced (e.g. CMYK)
            raise _TooManyPixels(width * height, MAX_PIXELS)
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)  # the first frame of an animation only
        thumb = ImageOps.exif_transpose(im).convert("RGB")
        thumb.thumbnail(THUMB_SIZE)
    out = path_for(digest, thumb=True)
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        thumb.save(buf, "JPEG", quality=80)
        out.write_bytes(buf.getvalue())


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


def get_public(session: Session, *, token: str) -> Attachment:
    """A published attachment of a case, by its public token (404 for anything else)."""
    att = session.scalar(select(Attachment).where(Attachment.public_token == token)) if len(token) <= 43 else None
    if att is None or not att.public or att.case_id is None:
        raise NotFound("This file does not exist or is not public")
    return att


def publish(session: Session, *, actor: Actor, attachment_id: int, public: bool) -> Attachment:
    """Publish an attachment of a case (or withdraw it); audited. The caller checks the actor may."""
    att = get(session, attachment_id=attachment_id)
    if att.case_id is None:
        raise ValidationFailed("Only a file of a case can be published")
    before = att.public
    att.public = public
    session.flush()
    detail: dict[str, Any] = {"case_id": att.case_id, "public": public, "was_public": before}
    audit.record(
        session,
        actor=actor,
        action="case.attachment.publish" if public else "case.attachment.unpublish",
        target_type="case_attachment",
        target_id=att.id,
        detail=detail,
    )
    return att
