"""Input models of the resources (物资仓库, 救援队伍, 避难场所, 专家) of the plans part (API and page forms)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from countyos.safety.models.resources import TeamKind

Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Phone = Annotated[str, Field(max_length=20, pattern=r"^[0-9+\- ]*$")]


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    lon: Lon
    lat: Lat
    address: str = Field(default="", max_length=300)
    keeper_department_id: int | None = None
    contact: str = Field(default="", max_length=100)
    phone: Phone = ""


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    material: str = Field(min_length=1, max_length=40)  # a code of data/resources_materials.json
    quantity: float = Field(ge=0, le=1e9)
    expires_on: date | None = None
    note: str = Field(default="", max_length=300)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(default="", max_length=100)
    phone: Phone = ""


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: TeamKind
    lon: Lon
    lat: Lat
    leader: str = Field(default="", max_length=100)
    phone: Phone = ""
    members_count: int = Field(default=0, ge=0, le=100000)
    equipment: str = Field(default="", max_length=5000)
    members: list[MemberIn] = Field(default_factory=list, max_length=500)


class ShelterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    lon: Lon
    lat: Lat
    address: str = Field(default="", max_length=300)
    capacity: int = Field(ge=0, le=1_000_000)
    area_m2: float | None = Field(default=None, ge=0, le=1e8)
    facilities: str = Field(default="", max_length=2000)
    township: str = Field(default="", max_length=100)


class ExpertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    field: str = Field(min_length=1, max_length=100)
    unit: str = Field(default="", max_length=200)
    phone: Phone = ""
    lon: Lon | None = None
    lat: Lat | None = None


class NearestOut(BaseModel):
    kind: str
    id: int
    name: str
    lon: float
    lat: float
    distance_m: float
    by: str
    detail: dict[str, Any]
