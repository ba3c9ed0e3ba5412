"""Input shapes of the GEP accounts (one model per input: the API and the page forms parse the same)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from countyos.core.i18n import N_
from countyos.eco.models.gep import InputSource

MIN_YEAR, MAX_YEAR = 1990, 2100


class GepInputIn(BaseModel):
    """One figure of a year's accounts with where it came from."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    code: str = Field(min_length=1, max_length=40)
    class_code: str = Field("", max_length=20)
    value: float = Field(gt=-1e15, lt=1e15, allow_inf_nan=False)
    source: InputSource = InputSource.STATISTIC
    source_ref: str = Field(min_length=1, max_length=300, description="统计年鉴 2025 表 3-2, a file, a record")
    division_code: str | None = Field(None, pattern=r"^(\d{6}|\d{9}|\d{12})$")
    note: str | None = Field(None, max_length=300)

    @field_validator("code")
    @classmethod
    def _known_code(cls, v: str) -> str:
        from countyos.eco.service.gep_inputs import CATALOGUE  # the catalogue of input codes

        if v not in CATALOGUE:
            raise ValueError(N_("Unknown input code"))
        return v

    @field_validator("class_code")
    @classmethod
    def _class_fits(cls, v: str, info: ValidationInfo) -> str:
        from countyos.eco.service.gep_inputs import check

        code = info.data.get("code")
        problems = [p for p in check(code, v) if p["field"] == "class_code"] if code else []
        if problems:
            raise ValueError(problems[0]["message"])
        return v


class GepRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    parameter_version: str | None = Field(None, pattern=r"^v\d{1,4}$")
