"""Input models of the camera-detected events (视频智能发现) part of the safety domain.

One model per input, used by the API and by the page forms: a camera of the register (``CameraIn``),
an event type's settings (``EventTypeIn``), and an event posted by an analysis box (``CameraEventIn``).
The GB/T 28181 code is checked by the service (it needs the county's division); the event's time, its
snapshot's size and content are checked there too, so that each refusal names its field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from countyos.cases.models import Priority

TYPE_CODE = r"^[a-z][a-z0-9_]{1,39}$"
MAX_SNAPSHOT_BASE64 = 2_800_000  # characters: a bit more than 2 MB decoded, checked exactly after decoding

Pixels = Annotated[int, Field(ge=0, le=100_000)]


class CameraIn(BaseModel):
    """A camera of the register."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=100)
    lon: float = Field(ge=73, le=136, allow_inf_nan=False)
    lat: float = Field(ge=3, le=54, allow_inf_nan=False)
    direction: int = Field(default=0, ge=0, le=359)
    height_m: float | None = Field(default=None, ge=0, le=300, allow_inf_nan=False)
    place: str = Field(default="", max_length=200)
    department_id: int | None = Field(default=None, ge=1)
    active: bool = True
    notes: str = Field(default="", max_length=2000)


class EventTypeIn(BaseModel):
    """An event type's settings: how such an event becomes a case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_zh: str = Field(min_length=1, max_length=60)
    name_en: str = Field(default="", max_length=60)
    threshold: float = Field(default=0.6, ge=0, le=1, allow_inf_nan=False)
    dedupe_seconds: int = Field(default=1800, ge=0, le=7 * 86400)
    dedupe_radius_m: int = Field(default=0, ge=0, le=2000)
    category_code: str | None = Field(default=None, max_length=24, pattern=r"^[A-Z][0-9A-Za-z._-]{1,23}$")
    priority: Priority | None = None
    enabled: bool = True


class CameraEventIn(BaseModel):
    """An event detected by a camera's analysis box."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera: str = Field(min_length=1, max_length=20)
    type: str = Field(min_length=2, max_length=40, pattern=TYPE_CODE)
    time: datetime
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    snapshot: str | None = Field(default=None, max_length=MAX_SNAPSHOT_BASE64)
    box: list[Pixels] | None = Field(default=None, min_length=4, max_length=4)
    external_id: str | None = Field(default=None, min_length=1, max_length=80)
