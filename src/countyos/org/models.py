"""ORM models of the org domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class DepartmentKind(StrEnum):
    OPS_CENTRE = "ops_centre"  # 城运中心
    DEPARTMENT = "department"  # 专业部门
    TOWNSHIP = "township"  # 乡镇街道
    VILLAGE = "village"  # 村社区
    OPERATOR = "operator"  # 运营公司


class Department(Base):
    __tablename__ = "org_department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    kind: Mapped[DepartmentKind] = mapped_column(StrEnumType(DepartmentKind, 20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"))
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id])


role_permission = Table(
    "org_role_permission",
    Base.metadata,
    Column("role_id", ForeignKey("org_role.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_code", ForeignKey("org_permission.code", ondelete="CASCADE"), primary_key=True),
)

user_role = Table(
    "org_user_role",
    Base.metadata,
    Column("user_id", ForeignKey("org_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("org_role.id", ondelete="CASCADE"), primary_key=True),
)


class Permission(Base):
    __tablename__ = "org_permission"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    domain: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))


class Role(Base):
    __tablename__ = "org_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(String(300))
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    permissions: Mapped[list[Permission]] = relationship(secondary=role_permission, lazy="selectin")

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


class User(Base):
    __tablename__ = "org_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"), index=True)
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    # Wrong second-factor codes, counted apart from wrong passwords: a right password does not reset it.
    failed_mfa: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_machine: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    totp_secret_enc: Mapped[str | None] = mapped_column(String(200))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")
    roles: Mapped[list[Role]] = relationship(secondary=user_role, lazy="selectin")

    @property
    def role_codes(self) -> set[str]:
        return {r.code for r in self.roles}

    @property
    def permission_codes(self) -> set[str]:
        return {p.code for r in self.roles for p in r.permissions}


class SessionStage(StrEnum):
    """What a logged-in session may do: only the next step until it is fully signed in."""

    CHANGE_PASSWORD = "change_password"
    MFA_VERIFY = "mfa_verify"
    MFA_ENROL = "mfa_enrol"
    FULL = "full"


class UserSession(Base):
    __tablename__ = "org_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    stage: Mapped[SessionStage] = mapped_column(StrEnumType(SessionStage, 20))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    """A named, scoped, revocable bearer token acting as one (usually machine) user."""

    __tablename__ = "org_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class AuditResult(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditEvent(Base):
    """One row of the tamper-evident audit log (hash chain keyed with SM3-HMAC)."""

    __tablename__ = "org_audit_event"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str | None] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[AuditResult] = mapped_column(StrEnumType(AuditResult, 10))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain head: last sequence number and hash, and the pruning marker (the last removed row).
    Locking it serialises appends. ``mac`` seals all four with a key of their own, so that neither end
    of the chain can be cut and the head or the marker moved to a surviving row."""

    __tablename__ = "org_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    pruned_before_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_anchor_hash: Mapped[str | None] = mapped_column(Text)
    mac: Mapped[str | None] = mapped_column(String(64))
