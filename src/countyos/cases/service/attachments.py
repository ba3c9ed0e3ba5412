"""Photos and documents: type sniffed from the bytes, size-limited, stored once by SHA-256, thumbnails.

Files live under ``settings.attachments_dir/ab/cd/<sha256>`` (and ``…<sha256>.thumb.jpg``); the same
photo uploaded twice is stored once. EXIF (with the phone's GPS track) is dropped from thumbnails.

An attachment is private: staff who may read its case see it. It is public only when the reporter sent
it with a public report (web form, Open311) or staff published it (``publish``, audited); the public
URL names it by its random ``public_token``.

Evidence: every attachment knows its ``stage`` — the report (before the work), the handler's feedback or
the inspector's check (after it) — set when an action claims it, and optionally when and where it was
taken: the camera's EXIF (read from the header, never decoded) wins over the browser's position sent
with the upload. A category may require a photo at feedback and/or check (``required_stage``).

Images are bounded before a pixel is decoded: the header gives the size, a JPEG is decoded at reduced
scale (``draft``), other formats only up to ``MAX_PIXELS``, and at most ``DECODE_SLOTS`` decode at once.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.cases.lifecycle import Action
from countyos.cases.models import AFTER_STAGES, Attachment, AttachmentStage, Category, PositionSource
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.org.service import audit

MAX_BYTES = 10_000_000
THUMB_SIZE = (320, 320)
PUBLIC_SIZE = (1600, 1600)  # the copy the public is served of a published photo
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


@dataclass(frozen=True)
class Stamp:
    """When and where a photo was taken, as the browser says (its geolocation, the time it was chosen)."""

    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    taken_at: datetime | None = None


# The stage a photo documents, by the action that attaches it; anything else documents the problem.
STAGE_OF_ACTION: dict[Action, AttachmentStage] = {
    Action.FEEDBACK: AttachmentStage.FEEDBACK,
    Action.CHECK_PASS: AttachmentStage.CHECK,
    Action.CHECK_FAIL: AttachmentStage.CHECK,
}
PHOTO_REQUIRED = N_("This category needs a photo")
TOO_MANY_PHOTOS = N_("Too many photos")
NOT_A_PHOTO = N_("Not a JPEG, PNG or WebP photo")
MAX_ACTION_PHOTOS = 6  # photos uploaded with one action (the action takes at most 9 attachments in all)


def required_stage(category: Category, action: Action | str) -> AttachmentStage | None:
    """The stage for which CATEGORY needs a photo when ACTION is taken (None: no photo needed)."""
    stage = STAGE_OF_ACTION.get(Action(action))
    if stage is AttachmentStage.FEEDBACK and category.feedback_photo_required:
        return stage
    if stage is AttachmentStage.CHECK and category.check_photo_required:
        return stage
    return None


def path_for(sha256: str, thumb: bool = False) -> Path:
    base = get_settings().attachments_dir / sha256[:2] / sha256[2:4] / sha256
    return base.with_name(sha256 + ".thumb.jpg") if thumb else base


def store(
    session: Session,
    *,
    actor: Actor | None,
    data: bytes,
    name: str | None = None,
    public: bool = False,
    stamp: Stamp | None = None,
    audited: bool = True,
) -> Attachment:
    """Keep an upload (private unless PUBLIC: the reporter's own photo of a public report); audited as a
    case attachment unless the caller writes its own record of what the file is (``audited=False``).
    STAMP is the browser's word on when and where it was taken; the photo's EXIF wins over it."""
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
    taken = stamp or Stamp()
    source = PositionSource.DEVICE if taken.lon is not None and taken.lat is not None else None
    if media_type in IMAGE_TYPES:
        width, height, has_thumb = _image(data, digest)
        exif = read_exif(data) if media_type == "image/jpeg" or media_type == "image/webp" else Stamp()
        if exif.lon is not None and exif.lat is not None:
            taken, source = Stamp(exif.lon, exif.lat, None, exif.taken_at or taken.taken_at), PositionSource.EXIF
        elif exif.taken_at is not None:
            taken = Stamp(taken.lon, taken.lat, taken.accuracy_m, exif.taken_at)
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
        taken_at=taken.taken_at,
        lon=taken.lon if source else None,
        lat=taken.lat if source else None,
        accuracy_m=taken.accuracy_m if source is PositionSource.DEVICE else None,
        position_source=source,
    )
    session.add(att)
    session.flush()
    if not audited:
        return att
    audit.record(
        session,
        actor=actor,
        action="case.attachment.upload",
        target_type="case_attachment",
        target_id=att.id,
        detail={"sha256": digest, "media_type": media_type, "size": len(data), "public": public},
    )
    return att


EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 36867, 36881
EARLIEST_PHOTO = datetime(2000, 1, 1, tzinfo=UTC)


def read_exif(data: bytes) -> Stamp:
    """When and where the camera says the photo was taken (EXIF ``DateTimeOriginal`` and GPS tags),
    read from the header without decoding a pixel. Anything missing, malformed or impossible (outside
    the globe, before 2000, more than a day ahead) is left out."""
    try:
        from PIL import Image
    except ImportError:
        return Stamp()
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            gps = exif.get_ifd(GPS_IFD)
            sub = exif.get_ifd(EXIF_IFD)
            lon = _gps_degrees(gps.get(4), gps.get(3), 180)
            lat = _gps_degrees(gps.get(2), gps.get(1), 90)
            taken_at = _exif_time(sub.get(DATETIME_ORIGINAL) or exif.get(306), sub.get(OFFSET_TIME_ORIGINAL))
    except Exception:  # a damaged EXIF block: the photo itself was already checked
        return Stamp()
    if lon is None or lat is None:
        lon = lat = None
    return Stamp(lon, lat, None, taken_at)


def _gps_degrees(value: Any, ref: Any, limit: float) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if str(ref).strip().upper() in ("S", "W"):
        degrees = -degrees
    return round(degrees, 7) if -limit <= degrees <= limit and degrees == degrees else None


def _exif_time(value: Any, offset: Any) -> datetime | None:
    """EXIF's ``YYYY:MM:DD HH:MM:SS`` in its own offset, or else the county's time zone, as UTC."""
    if not isinstance(value, str):
        return None
    try:
        local = datetime.strptime(value.strip()[:19], "%Y:%m:%d %H:%M:%S")
        if isinstance(offset, str) and len(offset.strip()) == 6:
            at = datetime.fromisoformat(local.isoformat() + offset.strip())
        else:
            at = local.replace(tzinfo=ZoneInfo(get_settings().timezone))
        at = at.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return at if EARLIEST_PHOTO <= at <= utcnow() + timedelta(days=1) else None


EVIDENCE_TYPES = ("image/jpeg", "image/png", "image/webp")


def store_photos(
    session: Session, *, actor: Actor, files: list[tuple[bytes, str | None]], stamp: Stamp | None = None
) -> list[Attachment]:
    """The photos sent with an action (JPEG, PNG or WebP, at most ``MAX_ACTION_PHOTOS``), each kept by
    ``store`` (bounded, audited); they join the case when the action claims them."""
    if len(files) > MAX_ACTION_PHOTOS:
        raise ValidationFailed(
            "At most %(n)s photos; you chose %(chosen)s",
            n=MAX_ACTION_PHOTOS,
            chosen=len(files),
            errors=[{"field": "photos", "message": TOO_MANY_PHOTOS}],
        )
    out = []
    for data, name in files:
        if len(data) <= MAX_BYTES and sniff(data) not in EVIDENCE_TYPES:
            raise ValidationFailed(
                "Only photos (JPEG, PNG, WebP) can be sent with this step",
                errors=[{"field": "photos", "message": NOT_A_PHOTO}],
            )
        out.append(store(session, actor=actor, data=data, name=name, stamp=stamp))
    return out


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


def public_file(att: Attachment) -> tuple[Path, str]:
    """The file and media type the public is served for a published attachment. A photo's original
    keeps its EXIF (the phone's GPS track, the time, the camera), which stays evidence for staff; the
    public gets a copy of at most 1600 px re-encoded without any metadata, made once on first use
    with the same bounded decode as the thumbnail. Other files are served as stored."""
    original = path_for(att.sha256)
    if not att.has_thumbnail:  # not an image this process could decode
        return original, att.media_type
    out = original.with_name(att.sha256 + ".public.jpg")
    if out.exists():
        return out, "image/jpeg"
    from PIL import Image, ImageOps

    if not _decoding.acquire(timeout=DECODE_WAIT_S):
        raise ServiceUnavailable("Too many photos are being processed; please try again in a minute")
    try:
        with Image.open(original) as im:
            im.draft("RGB", PUBLIC_SIZE)  # JPEG: decode at a reduced scale straight away
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise _too_large(width * height, MAX_PIXELS)
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            pic = ImageOps.exif_transpose(im).convert("RGB")
            pic.thumbnail(PUBLIC_SIZE)
        buf = io.BytesIO()
        pic.save(buf, "JPEG", quality=85)  # no exif= argument: nothing of the original's metadata
    finally:
        _decoding.release()
    part = out.with_name(out.name + f".{threading.get_ident()}.part")
    part.write_bytes(buf.getvalue())
    part.replace(out)  # atomic: a concurrent reader sees the whole file or none
    return out, "image/jpeg"


def get(session: Session, *, attachment_id: int) -> Attachment:
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("Attachment %(id)s does not exist", id=attachment_id)
    return att


def claim(
    session: Session,
    *,
    actor: Actor | None,
    attachment_id: int,
    case_id: int,
    stage: AttachmentStage = AttachmentStage.REPORT,
) -> Attachment:
    """Attach an upload to a case: only one not yet on another case, and only by the person who uploaded it.
    A new file of the case documents STAGE; a file already on the case keeps its stage.

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
    if att.case_id is None:
        att.stage = stage
    att.case_id = case_id
    return att


@dataclass(frozen=True)
class Evidence:
    """A case's files, before the work (the report) and after it (feedback, check), oldest first."""

    before: list[Attachment]
    after: list[Attachment]


def before_after(session: Session, *, case_id: int, public: bool = False) -> Evidence:
    """The case's files split by stage; PUBLIC: only the published ones (the citizen's page)."""
    stmt = select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
    if public:
        stmt = stmt.where(Attachment.public.is_(True))
    rows = list(session.scalars(stmt))
    return Evidence(
        before=[a for a in rows if a.stage not in AFTER_STAGES], after=[a for a in rows if a.stage in AFTER_STAGES]
    )


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
