"""Input and output models of the public service directory (便民服务设施), one per input, used by the
API and the page forms alike (to be merged into ``schemas.py``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from countyos.core.i18n import N_
from countyos.portal.models import FacilityKind

COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"  # a data resource's column (信息项 英文名称)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FacilityIn(Strict):
    """A facility as its department keeps it (add or edit): the position is WGS-84/CGCS2000 and must
    lie inside the county."""

    kind: FacilityKind
    name: str = Field(min_length=2, max_length=200)
    address: str = Field(default="", max_length=300)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+\-() ,;转/]*$")
    hours: str = Field(default="", max_length=300)
    services: str = Field(default="", max_length=4000)
    datastream_id: int | None = Field(default=None, ge=1, le=2**31 - 1)  # a sensor's live figure
    live_label: str = Field(default="", max_length=60)

    @model_validator(mode="after")
    def _label_with_stream(self) -> FacilityIn:
        if self.datastream_id is not None and not self.live_label:
            raise ValueError(N_("Say what the live figure is (e.g. free parking spaces)"))
        return self


class FacilitySyncIn(Strict):
    """Which published resource of the department to read, which of its columns say what, and the kind
    of every row. The position comes from a longitude and a latitude column or from a geometry column
    (a point); the key column names a row from one load to the next (its row number when left out)."""

    resource_id: int = Field(ge=1, le=2**31 - 1)
    kind: FacilityKind
    name_column: str = Field(pattern=COLUMN_PATTERN)
    key_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    address_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    phone_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    hours_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    services_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    lon_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    lat_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)
    geometry_column: str | None = Field(default=None, pattern=COLUMN_PATTERN)

    @model_validator(mode="after")
    def _a_position(self) -> FacilitySyncIn:
        if self.geometry_column is None and (self.lon_column is None or self.lat_column is None):
            raise ValueError(N_("Choose a geometry column, or a longitude and a latitude column"))
        return self


class LiveOut(BaseModel):
    label: str
    value: float | None
    unit: str | None
    at: datetime | None
    current: bool  # False: older than a few hours ("no current figure")


class FacilityOut(BaseModel):
    """A facility as the public reads it."""

    token: str
    kind: FacilityKind
    kind_label: str
    name: str
    address: str
    division_code: str | None
    lon: float
    lat: float
    phone: str
    hours: str
    services: str
    department: str | None
    updated_at: datetime
    url: str
    distance_m: float | None = None  # from the position given, when one was
    live: LiveOut | None = None


class FacilityManagedOut(BaseModel):
    """A facility as its department sees it after a write."""

    id: int
    token: str
    kind: FacilityKind
    name: str
    active: bool
    division_code: str | None
    source: str
    source_key: str | None
    updated_at: datetime


class ImportRowOut(BaseModel):
    row: int
    name: str
    result: str  # added | updated | closed


class ImportReportOut(BaseModel):
    added: int
    updated: int
    closed: int = 0
    rows: list[ImportRowOut] = Field(default_factory=list)
