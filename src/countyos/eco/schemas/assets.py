"""Input and output models of the assets part: land-use layers and ESV accounts, one per input, used by
the API and the page forms alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from countyos.core.i18n import N_
from countyos.eco.models.assets import FileKind, PriceMethod

MAX_FILE_BYTES = 64 * 1024 * 1024  # an uploaded land-use file
MAX_MAPPING_CHARS = 200_000
MAX_CLASSES = 20
MAX_HA = 1e9
MIN_YEAR, MAX_YEAR = 1980, 2100
BUILTIN_MAPPINGS = ("default", "gbt21010", "clcd", "esa_worldcover", "globeland30")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LayerIn(Strict):
    """A land-use layer to import (the file comes beside it): its name, year and source, the mapping
    of its classes (a built-in one, or JSON), and whether unmapped classes may be left out."""

    name: str = Field(min_length=2, max_length=200)
    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    source: str = Field(default="", max_length=500)
    builtin: str = Field(default="default", max_length=40)
    mapping: str = Field(default="", max_length=MAX_MAPPING_CHARS)  # JSON {source: class} or {"field", "classes"}
    from_layer: int | None = Field(default=None, ge=1, le=2**31 - 1)  # reuse the mapping kept with that layer
    exclude_unmapped: bool = False
    note: str = Field(default="", max_length=2000)

    @field_validator("builtin")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in BUILTIN_MAPPINGS:
            raise ValueError(N_("Not valid"))
        return v


class LayerOut(BaseModel):
    id: int
    name: str
    year: int
    version: int
    source: str
    file_name: str
    file_kind: FileKind
    crs: str
    class_field: str | None
    mapping: dict[str, Any]
    unmapped: dict[str, float]
    features: int
    pixels: int
    total_ha: float
    projection: str
    created_by: str | None
    created_at: datetime
    url: str


class AreaRow(BaseModel):
    division_code: str
    division_name: str
    areas_ha: dict[str, float]
    total_ha: float


class AreasOut(BaseModel):
    layer_id: int
    division: str
    areas_ha: dict[str, float]
    total_ha: float
    children: list[AreaRow]


class EsvComputeIn(Strict):
    """The public calculator: hectares by accounting class, the year and price method."""

    areas: dict[str, float] = Field(max_length=MAX_CLASSES)
    year: int | None = Field(default=None, ge=2010, le=MAX_YEAR)
    method: PriceMethod | None = None

    @field_validator("areas")
    @classmethod
    def _bounded(cls, v: dict[str, float]) -> dict[str, float]:
        for k, a in v.items():
            if len(k) > 20 or not (0 <= a <= MAX_HA):
                raise ValueError(N_("Each area is between 0 and 1e9 hectares"))
        return v

    @model_validator(mode="after")
    def _some(self) -> EsvComputeIn:
        if not self.areas:
            raise ValueError(N_("Give at least one class's area"))
        return self


class EsvRunIn(Strict):
    """An ESV account of a stored layer to compute and keep."""

    layer_id: int = Field(ge=1, le=2**31 - 1)
    year: int | None = Field(default=None, ge=2010, le=MAX_YEAR)
    method: PriceMethod = PriceMethod.CPI


class EsvOut(BaseModel):
    layer_id: int | None = None
    division: str | None = None
    unit_value: dict[str, Any]
    areas_ha: dict[str, float]
    esv_by_class: dict[str, float]
    esv_by_service: dict[str, float]
    esv_by_class_service: dict[str, dict[str, float]]
    total_yuan: float
    total_yi_yuan: float
    stored: bool = False
