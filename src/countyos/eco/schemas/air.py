"""Input and output models of the air part (HJ 633-2012 AQI), one per input, used by the API and the
page forms alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from countyos.core.i18n import N_
from countyos.eco.models.air import StationKind
from countyos.eco.service.aqi import DAILY, HOURLY, MAX_CONCENTRATION

Pollutant = Literal["so2", "no2", "co", "o3", "pm10", "pm25"]
IndexKey = Literal["so2", "no2", "co", "o3", "pm10", "pm25", "o3_1h", "o3_8h"]
Concentration = Annotated[float, Field(ge=0, le=MAX_CONCENTRATION, allow_inf_nan=False)]
MAX_ID = 2**31 - 1
MAX_COMPUTE_DAYS = 31


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AqiIn(Strict):
    """The public calculator: hourly (real-time) or daily concentrations in µg/m³ (CO in mg/m³).
    Hourly keys: so2, no2, co, o3 (1-hour), pm10, pm25 (the hour's value on the 24-hour table), and
    so2_24h for SO2 above 800. Daily keys: so2, no2, co, pm10, pm25 (24-hour), o3_1h (the day's 1-hour
    maximum), o3_8h (the day's maximum 8-hour average)."""

    averaging: Literal["hour", "day"]
    concentrations: Annotated[dict[IndexKey, Concentration], Field(min_length=1, max_length=7)]
    so2_24h: Concentration | None = None

    @model_validator(mode="after")
    def _keys_of_the_averaging(self) -> AqiIn:
        allowed = HOURLY if self.averaging == "hour" else DAILY
        if any(k not in allowed for k in self.concentrations):
            raise ValueError(N_("These pollutants do not belong to this averaging time"))
        if self.so2_24h is not None and self.averaging != "hour":
            raise ValueError(N_("The SO2 24-hour average is only for hourly values"))
        return self


class AqiOut(BaseModel):
    averaging: str
    concentrations: dict[str, float]
    iaqi: dict[str, int]
    aqi: int | None
    primary: list[str]
    exceeding: list[str]
    level: int | None
    level_name: str | None
    category: str | None
    colour: str | None
    capped: list[str]
    substituted: dict[str, str]


class StationIn(Strict):
    """An air station as the 生态环境局 keeps it: the device it reads, and which datastream measures each
    pollutant (left out: found by the datastreams' metric names)."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=2, max_length=200)
    thing_id: int = Field(ge=1, le=MAX_ID)
    kind: StationKind = StationKind.COUNTY
    division_code: str | None = Field(default=None, pattern=r"^\d{6}(\d{3}){0,2}$")
    place: str = Field(default="", max_length=200)
    streams: dict[Pollutant, Annotated[int, Field(ge=1, le=MAX_ID)]] | None = None
    active: bool = True


class HourlyOut(BaseModel):
    start: datetime
    concentrations: dict[str, float | None]
    o3_8h: float | None
    minutes: dict[str, float]
    iaqi: dict[str, int]
    aqi: int | None
    level: int | None
    category: str | None
    colour: str | None
    primary: list[str]
    exceeding: list[str]
    valid: bool
    flags: dict[str, object]


class DailyOut(BaseModel):
    start: datetime
    day: str  # the local date
    concentrations: dict[str, float | None]
    hours: dict[str, int]
    iaqi: dict[str, int]
    aqi: int | None
    level: int | None
    category: str | None
    colour: str | None
    primary: list[str]
    exceeding: list[str]
    valid: bool
    flags: dict[str, object]


class StationOut(BaseModel):
    id: int
    code: str
    name: str
    thing_id: int
    kind: StationKind
    kind_label: str
    division_code: str | None
    place: str
    streams: dict[str, int]
    active: bool
    lon: float | None
    lat: float | None
    url: str
    latest: HourlyOut | None = None


class ComputeIn(Strict):
    """Recompute a station's hours (and the local days they complete) in [start, end)."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _bounded(self) -> ComputeIn:
        if self.end <= self.start:
            raise ValueError(N_("The end must come after the start"))
        if self.end - self.start > timedelta(days=MAX_COMPUTE_DAYS):
            raise ValueError(N_("At most 31 days at a time"))
        return self


class ComputeOut(BaseModel):
    hours: int
    days: int
    exceedances: int
