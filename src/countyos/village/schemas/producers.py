"""Input and output models of the producers part of the village domain: one model per input, used by the
API and the page forms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from countyos.village.models.producers import CertKind, EntityKind, Facility, IdKind, SubjectCodeType, TaskState

MAX_VERTICES = 5_000
MAX_PRODUCTS = 20


def _count_positions(value: Any, depth: int = 0) -> int:
    if depth > 6:
        raise ValueError("The geometry is nested too deeply")
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) for v in value):
            return 1
        return sum(_count_positions(v, depth + 1) for v in value)
    return 0


def _strip_upper(v: Any) -> Any:
    return v.strip().upper() if isinstance(v, str) else v


class EntityIn(BaseModel):
    """A producer or a buyer (经营主体). An organisation gives its 统一社会信用代码 (``uscc``); a person
    (农户, 种养大户) their 身份证号 (``id_number``), stored encrypted. On an update an empty ``id_number``
    or ``phone`` keeps the one on file."""

    model_config = ConfigDict(extra="forbid")

    kind: EntityKind
    name: str = Field(min_length=1, max_length=120)
    subject_code_type: SubjectCodeType = SubjectCodeType.OPERATOR
    subject_code: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")
    id_kind: IdKind = IdKind.USCC
    uscc: str | None = Field(default=None, max_length=18)
    id_number: str | None = Field(default=None, max_length=18)
    legal_person: str | None = Field(default=None, max_length=60)
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    address: str | None = Field(default=None, max_length=200)
    contact_name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    gs1_prefix: str | None = Field(default=None, pattern=r"^\d{7,10}$")
    active: bool = True

    _upper = field_validator("uscc", "id_number", mode="before")(_strip_upper)


class EntityOut(BaseModel):
    id: int
    kind: EntityKind
    is_producer: bool
    name: str
    subject_code_type: SubjectCodeType
    subject_code: str | None
    id_kind: IdKind
    uscc: str | None
    id_number_masked: str | None
    legal_person: str | None
    village_code: str | None
    village_name: str | None
    address: str | None
    contact_name: str | None
    phone_masked: str | None
    gs1_prefix: str | None
    active: bool
    url: str


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1)


class MemberOut(BaseModel):
    entity_id: int
    user_id: int
    display_name: str


class CertificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CertKind
    number: str = Field(min_length=1, max_length=60)
    issuer: str = Field(min_length=1, max_length=120)
    product_codes: list[str] = Field(default_factory=list, max_length=MAX_PRODUCTS)
    valid_from: date
    valid_to: date


class CertificationOut(BaseModel):
    id: int
    entity_id: int
    kind: CertKind
    number: str
    issuer: str
    product_codes: list[str]
    valid_from: date
    valid_to: date
    expired: bool


class BaseIn(BaseModel):
    """A 基地/地块: ``geometry`` a GeoJSON Polygon or MultiPolygon in WGS-84 (lon/lat)."""

    model_config = ConfigDict(extra="forbid")

    entity_id: int = Field(ge=1)
    code: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    facility: Facility
    product_codes: list[str] = Field(default_factory=list, max_length=MAX_PRODUCTS)
    village_code: str | None = Field(default=None, pattern=r"^\d{12}$")
    geometry: dict[str, Any]

    @field_validator("geometry")
    @classmethod
    def _bounded(cls, v: dict[str, Any]) -> dict[str, Any]:
        if _count_positions(v.get("coordinates")) > MAX_VERTICES:
            raise ValueError("The geometry has too many vertices")
        return v


class BaseOut(BaseModel):
    id: int
    entity_id: int
    code: str
    name: str
    facility: Facility
    product_codes: list[str]
    village_code: str | None
    village_name: str | None
    area_m2: float
    active: bool
    url: str


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_key: str = Field(min_length=1, max_length=64)


class DeviceOut(BaseModel):
    thing_id: int
    device_key: str | None
    name: str
    device_class: str | None
    attached_at: datetime


class TaskOut(BaseModel):
    id: int
    entity_id: int
    base_id: int
    alarm_id: int | None
    title: str
    state: TaskState
    created_at: datetime
    done_at: datetime | None


class TaskDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)
