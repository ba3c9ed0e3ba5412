"""What the pages show of evidence photos: the names of stages and position sources, and the photo URLs
for staff and for the reporter's own page."""

from __future__ import annotations

from typing import Any

from countyos.cases.models import AttachmentStage, PositionSource
from countyos.cases.service.duplicates import distance_m
from countyos.core.i18n import N_

STAGE_LABELS: dict[str, str] = {
    AttachmentStage.REPORT: N_("Photo of the report"),
    AttachmentStage.FEEDBACK: N_("Photo of the handler's feedback"),
    AttachmentStage.CHECK: N_("Photo of the inspector's check"),
}
SOURCE_LABELS: dict[str, str] = {
    PositionSource.EXIF: N_("position from the camera"),
    PositionSource.DEVICE: N_("position from the phone"),
}


def staff_photo_url(p: Any, thumb: bool) -> str:
    return f"/api/v1/case-attachments/{p.id}" + ("?thumb=true" if thumb else "")


def context(photo_url: Any = staff_photo_url) -> dict[str, Any]:
    """What ``cases/_evidence.html`` and ``cases/_photo.html`` need besides the photos."""
    return {"stage_labels": STAGE_LABELS, "source_labels": SOURCE_LABELS, "photo_url": photo_url, "dist": distance_m}
