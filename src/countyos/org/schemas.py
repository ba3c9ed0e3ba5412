"""Pydantic shapes of the org API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from countyos.org.models import DepartmentKind


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kind: DepartmentKind
    uscc: str | None = Field(None, max_length=18, description="统一社会信用代码 (GB 32100)")
    parent_id: int | None = None
    division_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,2}$")
    phone: str | None = Field(None, max_length=40)


class DepartmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: DepartmentKind | None = None
    uscc: str | None = Field(None, max_length=18)
    parent_id: int | None = None
    division_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,2}$")
    phone: str | None = Field(None, max_length=40)
    is_active: bool | None = None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: DepartmentKind
    uscc: str | None
    parent_id: int | None
    division_code: str | None
    phone: str | None
    is_active: bool
    created_at: datetime


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=40)
    display_name: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)
    department_id: int | None = None
    phone: str | None = Field(None, max_length=20)
    locale: str = Field("zh_CN", pattern=r"^(zh_CN|en)$")
    is_machine: bool = False


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(None, min_length=1, max_length=60)
    department_id: int | None = None
    phone: str | None = Field(None, max_length=20)
    is_active: bool | None = None


class PersonNameOut(BaseModel):
    """A colleague as a picker shows them."""

    id: int
    display_name: str


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    department_id: int | None
    department_name: str | None
    phone_masked: str
    roles: list[str]
    is_active: bool
    is_machine: bool
    locked: bool
    mfa_enabled: bool
    last_login_at: datetime | None
    created_at: datetime


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str]


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=200)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name: str = Field(min_length=1, max_length=60)
    name_en: str | None = Field(None, max_length=60)
    description: str | None = Field(None, max_length=300)
    permissions: list[str] = []


class RolePermissionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permissions: list[str]


class RoleOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str | None
    description: str | None
    is_builtin: bool
    permissions: list[str]


class PermissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    domain: str
    description: str


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    user_id: int
    scopes: list[str] = Field(min_length=1)
    expires_at: datetime | None = None


class TokenFormIn(BaseModel):
    """The token form of the administration page: scopes as typed (space or comma separated) and the
    validity in days (0: no expiry)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    user_id: int
    scopes: str = Field(min_length=1, max_length=2000)
    days: int = Field(365, ge=0, le=3650)

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.replace(",", " ").split() if s]


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    user_id: int
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token value; shown only once")


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    result: str
    ip: str | None
    detail: dict[str, Any]


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    bad_seq: int | None
    reason: str | None


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]
    locale: str
