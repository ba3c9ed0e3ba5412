"""Inputs and outputs of the partners part (API and pages share the inputs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from countyos.core.i18n import N_
from countyos.programme.models.partners import ServiceState

MAX_ID = 2**31 - 1


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=MAX_ID)


class KeyRequestIn(BaseModel):
    """A developer's request for a sandbox key: a name and the scopes (the quota is the default)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    scopes: list[str] = Field(min_length=1, max_length=20)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(N_("Please name the key after the application that will use it"))
        return v.strip()


class KeyIn(KeyRequestIn):
    """A key issued by the programme office: with its daily quota."""

    daily_quota: int = Field(default=1000, ge=1, le=100000)


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    name: str
    scopes: list[str]
    daily_quota: int
    sandbox: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyIssuedOut(KeyOut):
    token: str  # shown once


class DayUseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    calls: int
    refused: int


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    summary: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=4000)
    url: str = Field(min_length=8, max_length=500)
    category: str = Field(min_length=1, max_length=40)
    uses: list[str] = Field(default_factory=list, max_length=20)
    contact: str = Field(default="", max_length=120)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip()
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in v):
            raise ValueError(N_("Give an address starting with http:// or https://"))
        return v

    @field_validator("name", "summary")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(N_("Please fill this in"))
        return v.strip()


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "reject", "suspend"]
    note: str = Field(default="", max_length=500)


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    name: str
    summary: str
    description: str
    url: str
    category: str
    uses: list[str]
    contact: str
    state: ServiceState
    review_note: str
    reviewed_at: datetime | None
    submitted_at: datetime


class CatalogueEntryOut(BaseModel):
    name: str
    partner: str
    summary: str
    url: str
    category: str


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: int
    user_id: int
    username: str
    display_name: str
    added_at: datetime


class PartnerOut(BaseModel):
    id: int
    name: str
    members: list[MemberOut]
    keys: list[KeyOut]
    calls_today: dict[int, int]
    services: dict[str, int]
