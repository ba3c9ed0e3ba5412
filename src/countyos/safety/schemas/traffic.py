"""Input and output models of the traffic (路段, 停车场, 道路事件) part of the safety domain. One input model
per form: the API and the staff pages parse the same one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from countyos.core.clock import county_zone
from countyos.core.i18n import N_
from countyos.safety.models.traffic import IncidentKind, IncidentSeverity, IncidentState, ParkingKind, RoadClass

MAX_LINE_POINTS = 500


# --- roads ---------------------------------------------------------------------------------------


class RoadImportOut(BaseModel):
    mode: Literal["replace", "append"]
    created: int
    removed: int
    crs: str
    total_km: float


class RoadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str | None
    name: str
    road_class: RoadClass
    length_m: float
    start_lon: float
    start_lat: float
    end_lon: float
    end_lat: float
    oneway: bool


# --- parking lots --------------------------------------------------------------------------------


class ParkingLotIn(BaseModel):
    """A parking lot as kept by the bureau; DEVICE_KEY + METRIC name the sensing datastream of its occupied
    spaces (both or neither)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    kind: ParkingKind = ParkingKind.PUBLIC
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    address: str = Field(default="", max_length=200)
    township: str = Field(default="", max_length=60)
    capacity: int = Field(ge=1, le=100_000)
    charging: int = Field(default=0, ge=0, le=100_000)
    fee: str = Field(default="", max_length=200)
    hours: str = Field(default="", max_length=100)
    device_key: str | None = Field(default=None, max_length=100)
    metric: str | None = Field(default=None, max_length=100)
    public: bool = True

    @model_validator(mode="after")
    def _check(self) -> ParkingLotIn:
        if self.charging > self.capacity:
            raise ValueError(N_("The charging spaces cannot be more than the spaces"))
        if bool(self.device_key) != bool(self.metric):
            raise ValueError(N_("Give both the device and its metric, or neither"))
        return self


class LiveOut(BaseModel):
    """A lot's occupancy now. ``level`` is free/tight/full, ``stale`` (数据中断) when the sensor's newest
    value is older than the stale interval, ``none`` without a sensor or any value."""

    has_sensor: bool
    occupied: int | None
    free: int | None
    rate: float | None  # percent of capacity occupied
    level: Literal["free", "tight", "full", "stale", "none"]
    clipped: bool = False  # the sensor's value was outside 0..capacity
    updated_at: datetime | None


class ParkingLotOut(BaseModel):
    id: int
    name: str
    kind: ParkingKind
    lon: float
    lat: float
    address: str
    township: str
    capacity: int
    charging: int
    fee: str
    hours: str
    public: bool
    datastream_id: int | None
    device_key: str | None
    metric: str | None
    live: LiveOut


class CurvePoint(BaseModel):
    at: datetime  # the start of the hour
    occupied: float  # the hour's mean (sum / n of the hourly rollup)


class PublicParkingOut(BaseModel):
    """A public lot for anyone: no id, no device, no internal field."""

    name: str
    kind: ParkingKind
    kind_words: str
    lon: float
    lat: float
    address: str
    capacity: int
    charging: int
    fee: str
    hours: str
    free: int | None
    rate: float | None
    level: str
    level_words: str
    updated_at: datetime | None


# --- road incidents ------------------------------------------------------------------------------


def _line_of(value: Any) -> list[list[float]] | None:
    """A line as [[lon, lat], …] or the typed words "lon,lat; lon,lat; …"."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        points = []
        for part in value.replace("\n", ";").split(";"):
            if not part.strip():
                continue
            xy = part.replace("，", ",").split(",")
            if len(xy) != 2:
                raise ValueError(N_("Write the line as lon,lat; lon,lat"))
            points.append([float(xy[0]), float(xy[1])])
        value = points
    if not isinstance(value, list):
        raise ValueError(N_("Write the line as lon,lat; lon,lat"))
    if len(value) > MAX_LINE_POINTS:
        raise ValueError(N_("The line has too many points"))
    out = []
    for p in value:
        if not isinstance(p, list | tuple) or len(p) != 2:
            raise ValueError(N_("Write the line as lon,lat; lon,lat"))
        lon, lat = float(p[0]), float(p[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(N_("A point of the line is outside the world"))
        out.append([lon, lat])
    if len(out) < 2:
        raise ValueError(N_("A line needs at least two points"))
    return out


class IncidentIn(BaseModel):
    """A road incident as the bureau writes it. Where: a road segment (with from/to words), a point,
    a line, or several of these; at least one."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    kind: IncidentKind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    severity: IncidentSeverity = IncidentSeverity.MINOR
    road_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    from_words: str = Field(default="", max_length=120)
    to_words: str = Field(default="", max_length=120)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    line: list[list[float]] | None = None
    starts_at: datetime
    ends_at: datetime | None = None
    detour: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=4000)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone (a form's datetime-local) is county time; kept as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=county_zone())
        return value.astimezone(UTC)

    @field_validator("line", mode="before")
    @classmethod
    def _line(cls, value: Any) -> list[list[float]] | None:
        return _line_of(value)

    @model_validator(mode="after")
    def _check(self) -> IncidentIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError(N_("Give both the longitude and the latitude, or neither"))
        if self.road_id is None and self.lon is None and not self.line:
            raise ValueError(N_("Say where: choose a road segment, give a point or draw a line"))
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError(N_("The end must come after the start"))
        return self


class IncidentOut(BaseModel):
    """A road incident for the bureau (with the internal note)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    token: str
    kind: IncidentKind
    title: str
    description: str
    severity: IncidentSeverity
    road_id: int | None
    from_words: str
    to_words: str
    lon: float | None
    lat: float | None
    line: list[list[float]] | None
    starts_at: datetime
    ends_at: datetime | None
    detour: str
    note: str
    state: IncidentState
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    ended_at: datetime | None


class PublicNoticeOut(BaseModel):
    """A published road incident for anyone: what, where, when, the detour; no person, no internal note,
    no id (the token names it)."""

    token: str
    kind: IncidentKind
    kind_words: str
    title: str
    description: str
    severity: IncidentSeverity
    severity_words: str
    road: str
    from_words: str
    to_words: str
    lon: float | None
    lat: float | None
    line: list[list[float]] | None
    starts_at: datetime
    ends_at: datetime | None
    in_force: bool  # False: published ahead of its start
    detour: str
    updated_at: datetime
