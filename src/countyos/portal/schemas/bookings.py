"""Input (and output) models of bookings (预约), one per input, for the API and the page forms alike."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator

from countyos.core.i18n import N_
from countyos.portal.models import BookableKind, BookingState
from countyos.portal.service.slots import MAX_PERIODS, parse_period

NOTE_MAX = 300


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BookableIn(Strict):
    """What residents book and its rules (create or edit)."""

    kind: BookableKind
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=2000)
    matter_id: int | None = Field(default=None, ge=1, le=2_000_000_000)  # a window appointment's 事项
    # ISO weekday "1"…"7" → periods "08:30-12:00" of county time
    opening: dict[str, list[str]] = Field(default_factory=dict)
    working_days_only: bool = False
    slot_minutes: int = Field(default=30, ge=5, le=720)
    capacity: int = Field(default=1, ge=1, le=1000)
    advance_days: int = Field(default=7, ge=0, le=180)
    min_notice_minutes: int = Field(default=60, ge=0, le=20_160)
    per_person_open: int = Field(default=2, ge=1, le=50)
    cancel_minutes: int = Field(default=120, ge=0, le=20_160)
    no_show_limit: int = Field(default=3, ge=0, le=50)  # 0: no penalty
    no_show_days: int = Field(default=90, ge=1, le=365)
    ban_days: int = Field(default=30, ge=0, le=365)

    @field_validator("opening")
    @classmethod
    def _opening(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for day, periods in value.items():
            if day not in {"1", "2", "3", "4", "5", "6", "7"} or len(periods) > MAX_PERIODS:
                raise ValueError(N_("Opening hours are given per weekday 1 to 7, at most six periods a day"))
            parsed = []
            for p in periods:
                try:
                    parsed.append(parse_period(p))
                except ValueError:
                    raise ValueError(N_("Write each period as 08:30-12:00")) from None
            minutes = sorted((a.hour * 60 + a.minute, b.hour * 60 + b.minute or 1440) for a, b in parsed)
            if any(nxt[0] < cur[1] for cur, nxt in pairwise(minutes)):
                raise ValueError(N_("The periods of a day must not overlap"))
            if minutes:
                out[day] = [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in minutes]
        return dict(sorted(out.items()))


class BookIn(Strict):
    """A resident books the slot beginning at ``starts_at`` (without a zone: county time)."""

    starts_at: datetime
    note: str = Field(default="", max_length=NOTE_MAX)


class StaffCancelIn(Strict):
    reason: str = Field(min_length=2, max_length=NOTE_MAX)


class ApplicationLinkIn(Strict):
    """The 办件 the desk created from a window appointment."""

    application_id: int = Field(ge=1, le=2_000_000_000)


class ActiveIn(Strict):
    active: bool


# --- answers ------------------------------------------------------------------------------------


class BookableOut(BaseModel):
    token: str
    kind: BookableKind
    name: str
    description: str
    opening: dict[str, list[str]]
    working_days_only: bool
    slot_minutes: int
    capacity: int
    advance_days: int
    min_notice_minutes: int
    per_person_open: int
    cancel_minutes: int
    no_show_limit: int
    no_show_days: int
    ban_days: int
    active: bool
    url: str


class SlotOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    capacity: int
    left: int


class DayOut(BaseModel):
    day: str  # county date, YYYY-MM-DD
    slots: list[SlotOut]


class SlotsOut(BaseModel):
    bookable: BookableOut
    days: list[DayOut]


class BookingOut(BaseModel):
    token: str
    bookable: str  # the bookable's token
    bookable_name: str
    starts_at: datetime
    ends_at: datetime
    state: BookingState
    note: str
    cancel_until: datetime
    application_id: int | None = None


class StaffBookingOut(BookingOut):
    id: int
    resident: str
    phone: str  # masked
