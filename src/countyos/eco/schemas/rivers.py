"""Inputs and outputs of the rivers part (河长制/林长制): one model per input, used by the API and the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from countyos.eco.models.rivers import AreaKind, ChiefLevel, ChiefRole, PatrolState

MAX_GEOJSON_VERTICES = 20_000


def _count_positions(value: Any, depth: int = 0) -> int:
    if depth > 6:
        raise ValueError("The geometry is nested too deeply")
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) for v in value):
            return 1
        return sum(_count_positions(v, depth + 1) for v in value)
    return 0


class AreaIn(BaseModel):
    """A river, section, lake, reservoir or forest area; ``geometry`` is a GeoJSON geometry in WGS-84
    (a LineString/MultiLineString for rivers and sections, a Polygon/MultiPolygon for the others)."""

    model_config = ConfigDict(extra="forbid")

    kind: AreaKind
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    parent_code: str | None = Field(default=None, max_length=40)
    geometry: dict[str, Any]
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("geometry")
    @classmethod
    def _bounded(cls, v: dict[str, Any]) -> dict[str, Any]:
        if _count_positions(v.get("coordinates")) > MAX_GEOJSON_VERTICES:
            raise ValueError("The geometry has too many vertices")
        return v


class AreaOut(BaseModel):
    id: int
    kind: AreaKind
    code: str
    name: str
    parent_id: int | None
    township_code: str | None
    township_name: str | None
    length_m: float | None
    area_m2: float | None
    note: str | None
    source: str | None
    active: bool
    url: str
    geometry: dict[str, Any] | None = None


class ChiefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1)
    area_id: int = Field(ge=1)
    level: ChiefLevel
    role: ChiefRole = ChiefRole.RIVER
    starts_on: date
    note: str | None = Field(default=None, max_length=200)


class ChiefEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ends_on: date
    reason: str | None = Field(default=None, max_length=200)


class ChiefOut(BaseModel):
    id: int
    user_id: int
    user_name: str
    area_id: int
    area_name: str
    level: ChiefLevel
    role: ChiefRole
    starts_on: date
    ends_on: date | None
    end_reason: str | None
    url: str


class PatrolStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chief_id: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=2000)


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0, le=1_000_000)
    at: datetime
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class TrackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: list[PointIn] = Field(min_length=1, max_length=500)


class TrackOut(BaseModel):
    patrol_id: int
    added: int
    points: int


class ProblemIn(BaseModel):
    """A problem found: its type (``kinds`` of chief_duties.json), where, and what was seen."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=30)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    note: str | None = Field(default=None, max_length=2000)
    key: str | None = Field(default=None, min_length=4, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")


class ProblemOut(BaseModel):
    id: int
    patrol_id: int
    area_id: int
    chief_id: int
    kind: str
    kind_label: str
    note: str | None
    lon: float
    lat: float
    found_at: datetime
    case_id: int | None
    case_number: str | None
    case_closed: bool | None = None
    attachment_id: int | None


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class PatrolOut(BaseModel):
    id: int
    chief_id: int
    area_id: int
    area_name: str
    user_id: int
    user_name: str
    state: PatrolState
    started_at: datetime
    finished_at: datetime | None
    duration_s: int | None
    length_m: float
    points: int
    flagged: bool
    flag_reason: str | None
    note: str | None
    problems: int = 0
    url: str


class RateOut(BaseModel):
    chief_id: int
    user_id: int
    user_name: str
    area_id: int
    area_name: str
    level: ChiefLevel
    role: ChiefRole
    due: int
    done: int
    rate: float | None
    missed_units: list[str]
    problems: int
    closed: int
    closure_rate: float | None
    overdue: bool
    patrols_url: str
    problems_url: str


class LevelOut(BaseModel):
    level: ChiefLevel
    chiefs: int
    due: int
    done: int
    rate: float | None
    problems: int
    closed: int
    closure_rate: float | None
    overdue: int
    patrols_url: str
    problems_url: str


class StatsOut(BaseModel):
    period: str
    start: date
    end: date
    as_of: date
    levels: list[LevelOut]
    chiefs: list[RateOut]
