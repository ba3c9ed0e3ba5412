"""Inputs and outputs of the water part: the public calculator, sections, lab results.

One model per input, used by the API and by the page forms. Parameters are the codes of GB 3838-2002
表1 (``do``, ``codmn``, ``nh3n``, ``tp`` … see ``data/gb3838_basic.json``); every value is a finite,
non-negative number, at most one per parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from countyos.eco.models.water import SectionLevel, WaterbodyType
from countyos.eco.service import gb3838

ClassName = Literal["I", "II", "III", "IV", "V"]
MAX_PARAMETERS = 40


def _known(code: str) -> str:
    if code not in gb3838.items():
        raise ValueError("not a basic item of GB 3838-2002")
    return code


ParameterCode = Annotated[str, Field(max_length=12), AfterValidator(_known)]
Concentration = Annotated[float, Field(ge=0, le=gb3838.MAX_VALUE, allow_inf_nan=False)]
Values = Annotated[dict[ParameterCode, Concentration], Field(min_length=1, max_length=MAX_PARAMETERS)]


class ClassifyIn(BaseModel):
    """The public calculator: values per parameter, the kind of water, optionally a target class."""

    model_config = ConfigDict(extra="forbid")

    values: Values
    waterbody: WaterbodyType = WaterbodyType.RIVER
    target: ClassName | None = None


class ParameterOut(BaseModel):
    value: float
    cls: str | None
    cls_label: str | None
    assessed: bool
    exceeds: bool
    multiple: float | None
    limit: float | None


class ExceedingOut(BaseModel):
    code: str
    cls: str | None
    multiple: float | None
    limit: float | None


class ClassifyOut(BaseModel):
    waterbody: str
    target: str | None
    cls: str | None
    cls_label: str | None
    meets: bool | None
    parameters: dict[str, ParameterOut]
    exceeding: list[ExceedingOut]


class SectionIn(BaseModel):
    """断面/点位 as kept by the 生态环境局."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_\-]+$")
    name: str = Field(min_length=1, max_length=100)
    water_name: str = Field(default="", max_length=100)
    waterbody: WaterbodyType = WaterbodyType.RIVER
    lon: float = Field(ge=73, le=136, allow_inf_nan=False)
    lat: float = Field(ge=3, le=54, allow_inf_nan=False)
    level: SectionLevel = SectionLevel.COUNTY
    target_class: ClassName = "III"
    thing_id: int | None = Field(default=None, ge=1)
    active: bool = True


class SectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    water_name: str
    waterbody: str
    lon: float
    lat: float
    division_code: str
    level: str
    target_class: str
    thing_id: int | None
    active: bool
    last_class: str | None
    last_meets: bool | None
    last_sampled_at: datetime | None


class SampleIn(BaseModel):
    """A laboratory result: when it was sampled, the values, the laboratory and its report number.
    A time without a zone is the county's local time."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sampled_at: datetime
    values: Values
    lab_name: str = Field(default="", max_length=100)
    report_no: str = Field(default="", max_length=60)

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("values"), dict):
            data = {**data, "values": {k: v for k, v in data["values"].items() if v not in ("", None)}}
        return data


class SampleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    section_id: int
    sampled_at: datetime
    source: str
    values: dict[str, float]
    classes: dict[str, Any]
    cls: str | None
    target_class: str
    meets: bool | None
    exceeding: list[dict[str, Any]]
    hours: dict[str, int] | None
    lab_name: str
    report_no: str
    entered_by_id: int | None
    alarm_id: int | None
    case_id: int | None


class ImportRowOut(BaseModel):
    row: int
    section_code: str
    sampled_at: datetime
    cls: str | None
    meets: bool | None


class ImportOut(BaseModel):
    added: int
    rows: list[ImportRowOut]
