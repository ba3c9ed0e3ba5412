"""Input and output models of the tourism part of the village domain (one input model per form and API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from countyos.village.models.tourism import ALevel, Crowding, EventKind, HeritageLevel, StayKind

Name = Field(min_length=1, max_length=100)


class SpotIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Name
    a_level: ALevel = ALevel.NONE
    outline: dict[str, Any] | None = None  # GeoJSON Polygon/MultiPolygon or a Feature of one
    lon: float | None = Field(default=None, ge=70, le=140)
    lat: float | None = Field(default=None, ge=0, le=60)
    capacity_instant: int = Field(ge=1, le=1_000_000)
    capacity_daily: int = Field(ge=1, le=10_000_000)
    opens: str = Field(default="08:00", max_length=5)
    closes: str = Field(default="17:30", max_length=5)
    manager_id: int | None = Field(default=None, ge=1)
    description: str = Field(default="", max_length=4000)


class SpotPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    a_level: ALevel | None = None
    outline: dict[str, Any] | None = None
    lon: float | None = Field(default=None, ge=70, le=140)
    lat: float | None = Field(default=None, ge=0, le=60)
    capacity_instant: int | None = Field(default=None, ge=1, le=1_000_000)
    capacity_daily: int | None = Field(default=None, ge=1, le=10_000_000)
    opens: str | None = Field(default=None, max_length=5)
    closes: str | None = Field(default=None, max_length=5)
    manager_id: int | None = Field(default=None, ge=1)
    description: str | None = Field(default=None, max_length=4000)
    active: bool | None = None

    @model_validator(mode="after")
    def _no_null_required(self) -> SpotPatch:
        for key in ("name", "a_level", "capacity_instant", "capacity_daily", "opens", "closes", "active"):
            if key in self.model_fields_set and getattr(self, key) is None:
                raise ValueError(f"{key} cannot be empty")
        return self


class CounterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_datastream_id: int = Field(ge=1)
    exit_datastream_id: int = Field(ge=1)


class CounterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entry_datastream_id: int
    exit_datastream_id: int


class SpotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    a_level: ALevel
    outline: dict[str, Any] | None
    lon: float | None
    lat: float | None
    capacity_instant: int
    capacity_daily: int
    opens: str
    closes: str
    manager_id: int | None
    description: str
    crowding: Crowding
    active: bool


class LiveOut(BaseModel):
    spot_id: int
    name: str
    day: date
    in_park: int
    clipped: bool
    entries_today: int
    exits_today: int
    peak: int
    peak_at: datetime | None
    capacity_instant: int
    percent: float
    crowding: Crowding
    updated_at: datetime | None
    curve: list[tuple[datetime, int]] = []


class DailyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    entries: int
    exits: int
    peak: int
    peak_at: datetime | None
    clipped: bool
    revenue: float | None


class RevenueIn(BaseModel):
    """A spot's reported ticket and other revenue of a day (元)."""

    model_config = ConfigDict(extra="forbid")

    day: date
    revenue: float = Field(ge=0, le=1e9)


class PublicCrowdingOut(BaseModel):
    """One spot on the public crowding page: no person, no record of who manages it."""

    name: str
    a_level: ALevel
    in_park: int
    capacity_instant: int
    percent: float
    level: Crowding
    level_words: str
    colour: str
    visitors_today: int
    updated_at: datetime | None
    clipped: bool


class HomestayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Name
    kind: StayKind = StayKind.HOMESTAY
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    village_name: str = Field(min_length=1, max_length=100)
    address: str = Field(default="", max_length=200)
    rooms: int = Field(ge=1, le=500)
    beds: int = Field(ge=1, le=2000)
    keeper_id: int | None = Field(default=None, ge=1)
    license_no: str | None = Field(default=None, max_length=40)
    grade: str | None = Field(default=None, max_length=20)
    lon: float | None = Field(default=None, ge=70, le=140)
    lat: float | None = Field(default=None, ge=0, le=60)


class HomestayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: StayKind
    village_code: str | None
    village_name: str
    address: str
    rooms: int
    beds: int
    keeper_id: int | None
    license_no: str | None
    grade: str | None
    active: bool


class StayReportIn(BaseModel):
    """The keeper's daily occupancy report (a second report of the same day replaces the first)."""

    model_config = ConfigDict(extra="forbid")

    day: date
    rooms_occupied: int = Field(ge=0, le=500)
    guests: int = Field(ge=0, le=5000)
    revenue: float | None = Field(default=None, ge=0, le=1e8)


class StayReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    homestay_id: int
    day: date
    rooms_occupied: int
    guests: int
    revenue: float | None
    reported_at: datetime


class OccupancyOut(BaseModel):
    village: str
    month: str  # YYYY-MM
    houses: int
    room_nights: int
    rooms_occupied: int
    rate: float | None  # percent
    guests: int
    revenue: float


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=120)
    kind: EventKind = EventKind.OTHER
    starts_at: datetime
    ends_at: datetime
    place: str = Field(default="", max_length=200)
    spot_id: int | None = Field(default=None, ge=1)
    description: str = Field(default="", max_length=4000)
    public: bool = False

    @model_validator(mode="after")
    def _order(self) -> EventIn:
        if self.ends_at < self.starts_at:
            raise ValueError("The event must end after it starts")
        return self


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    kind: EventKind
    starts_at: datetime
    ends_at: datetime
    place: str
    spot_id: int | None
    description: str
    public: bool


class HeritageItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    level: HeritageLevel
    category: str = Field(min_length=1, max_length=30)
    description: str = Field(default="", max_length=4000)
    listed_year: int | None = Field(default=None, ge=2000, le=2100)


class HeritageItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    level: HeritageLevel
    category: str
    description: str
    listed_year: int | None


class InheritorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=60)
    level: HeritageLevel


class InheritorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    name: str
    level: HeritageLevel


class TraditionalVillageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Name
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    town: str = Field(default="", max_length=60)
    batch: int = Field(ge=1, le=20)
    listed_year: int = Field(ge=2012, le=2100)
    description: str = Field(default="", max_length=4000)


class TraditionalVillageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    village_code: str | None
    town: str
    batch: int
    listed_year: int
    description: str


class HolidayRowOut(BaseModel):
    day: date
    spot: str
    visitors: int
    peak: int
    peak_at: datetime | None
    revenue: float | None


class HolidayReportOut(BaseModel):
    code: str
    name: str
    start: date
    end: date
    rows: list[HolidayRowOut]
    visitors: int
    spot_revenue: float
    homestay_revenue: float
    homestay_guests: int
