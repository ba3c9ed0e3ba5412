"""ORM models of the services domain: the matter catalogue (事项, GB/T 39046-2020 表4).

A matter is identified by its 实施编码 (``code``) and points at its current version. Every edit writes
a new ``MatterVersion`` holding all the guide fields, with its ordered steps (环节) and materials
(申请材料); older versions stay, so an application keeps the version it was made under.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime
from countyos.services.codes import (
    ApplicationKind,
    BodyNature,
    Level,
    MatterType,
    Scope,
    TimeLimitUnit,
)


class MatterStatus(StrEnum):
    DRAFT = "draft"  # 草稿: not shown to the public
    PUBLISHED = "published"  # 已发布: in the public catalogue, open for applications
    WITHDRAWN = "withdrawn"  # 已撤销: no new applications; applications in progress keep their version


class Matter(Base):
    """事项 (one line of the 实施清单)."""

    __tablename__ = "services_matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # 实施编码
    basic_code: Mapped[str | None] = mapped_column(String(32), index=True)  # 基本编码
    status: Mapped[MatterStatus] = mapped_column(StrEnumType(MatterStatus, 12), default=MatterStatus.DRAFT, index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("services_matter_version.id", use_alter=True, name="fk_services_matter_current_version")
    )
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    current: Mapped[MatterVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="joined"
    )


class MatterVersion(Base):
    """One version of a matter's guide: every field of 表4 a county keeps."""

    __tablename__ = "services_matter_version"
    __table_args__ = (UniqueConstraint("matter_id", "number", name="uq_services_matter_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("services_matter.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per matter
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))  # who saved it (a person)
    created_by: Mapped[str | None] = mapped_column(String(100))  # the actor's name (a non-person: demo, cli)

    name: Mapped[str] = mapped_column(String(200), index=True)  # 事项名称
    matter_type: Mapped[MatterType] = mapped_column(StrEnumType(MatterType, 24))  # 事项类型 (A.1)
    level: Mapped[Level] = mapped_column(StrEnumType(Level, 12))  # 行使层级 (A.2)
    body_name: Mapped[str] = mapped_column(String(200))  # 实施主体
    body_uscc: Mapped[str | None] = mapped_column(String(18))  # 实施主体编码 (统一社会信用代码)
    body_nature: Mapped[BodyNature] = mapped_column(StrEnumType(BodyNature, 12))  # 实施主体性质 (A.3)
    legal_basis: Mapped[str | None] = mapped_column(Text)  # 设定依据
    legal_limit: Mapped[int | None] = mapped_column(Integer)  # 法定办结时限
    legal_limit_unit: Mapped[TimeLimitUnit] = mapped_column(StrEnumType(TimeLimitUnit, 16))
    legal_limit_note: Mapped[str | None] = mapped_column(Text)  # 法定办结时限说明
    promised_limit: Mapped[int] = mapped_column(Integer)  # 承诺办结时限 (0 for 即办件)
    promised_limit_unit: Mapped[TimeLimitUnit] = mapped_column(StrEnumType(TimeLimitUnit, 16))
    promised_limit_note: Mapped[str | None] = mapped_column(Text)  # 承诺办结时限说明
    accept_conditions: Mapped[str | None] = mapped_column(Text)  # 受理条件
    application_kind: Mapped[ApplicationKind] = mapped_column(StrEnumType(ApplicationKind, 12))  # 办件类型 (A.6)
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)  # 服务对象 (A.4 values)
    handling_forms: Mapped[list[str]] = mapped_column(JSON, default=list)  # 办理形式 (A.5 values)
    scope: Mapped[Scope] = mapped_column(StrEnumType(Scope, 16), default=Scope.NONE)  # 通办范围
    visits: Mapped[int] = mapped_column(Integer, default=1)  # 到办事现场次数
    place: Mapped[str | None] = mapped_column(Text)  # 办理地点
    hours: Mapped[str | None] = mapped_column(Text)  # 办理时间
    consult_phone: Mapped[str | None] = mapped_column(String(40))  # 咨询电话
    supervise_phone: Mapped[str | None] = mapped_column(String(40))  # 监督电话
    charged: Mapped[bool] = mapped_column(Boolean, default=False)  # 是否收费
    fee_basis: Mapped[str | None] = mapped_column(Text)  # 收费依据
    result_name: Mapped[str | None] = mapped_column(String(200))  # 结果名称
    theme: Mapped[str | None] = mapped_column(String(100), index=True)  # 服务主题
    faq: Mapped[str | None] = mapped_column(Text)  # 常见问题
    online: Mapped[bool] = mapped_column(Boolean, default=False)  # 是否网办
    special_procedure: Mapped[str | None] = mapped_column(Text)  # 特别程序
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"), index=True)  # 责任部门

    steps: Mapped[list[MatterStep]] = relationship(
        order_by="MatterStep.position", cascade="all, delete-orphan", lazy="selectin"
    )
    materials: Mapped[list[MatterMaterial]] = relationship(
        order_by="MatterMaterial.position", cascade="all, delete-orphan", lazy="selectin"
    )


class MatterStep(Base):
    """环节: one step of the 办理流程, done by one department."""

    __tablename__ = "services_matter_step"
    __table_args__ = (Index("ix_services_matter_step_version", "version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("services_matter_version.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"))
    time_share: Mapped[int | None] = mapped_column(Integer)  # percent of the promised limit (optional)


class MatterMaterial(Base):
    """申请材料: one document the applicant brings."""

    __tablename__ = "services_matter_material"
    __table_args__ = (Index("ix_services_matter_material_version", "version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("services_matter_version.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))  # 材料名称
    issuer: Mapped[str | None] = mapped_column(String(200))  # 出具机构
    required: Mapped[bool] = mapped_column(Boolean, default=True)  # 是否必备材料
    originals: Mapped[int] = mapped_column(Integer, default=1)  # 原件份数
    copies: Mapped[int] = mapped_column(Integer, default=0)  # 复印件份数
    note: Mapped[str | None] = mapped_column(Text)  # 材料说明
    sample_url: Mapped[str | None] = mapped_column(String(500))  # 样表 (a link to the sample file)
