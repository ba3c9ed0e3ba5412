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
    Audience,
    BodyNature,
    HandlingForm,
    Level,
    MatterType,
    Scope,
    TimeLimitUnit,
)
from countyos.services.codes import SpecialProcedure as SpecialProcedureKind


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


# ── Applications (办件, GB/T 39046-2020 表5–表8) ──────────────────────────────────────────────────────


class IdType(StrEnum):
    """申请者证件类型 (GA/T 2000.156 codes at the edges: ``ID_TYPE_CODES``)."""

    RESIDENT_ID = "resident_id"  # 111 居民身份证
    PASSPORT = "passport"  # 414 普通护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 516 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 511 台湾居民来往大陆通行证
    FOREIGN_RESIDENT = "foreign_resident"  # 553 外国人永久居留身份证
    USCC = "uscc"  # 统一社会信用代码 (法人及其他组织)
    OTHER = "other"  # 999 其他


ID_TYPE_CODES: dict[IdType, str] = {
    IdType.RESIDENT_ID: "111",
    IdType.PASSPORT: "414",
    IdType.HK_MACAO_PERMIT: "516",
    IdType.TAIWAN_PERMIT: "511",
    IdType.FOREIGN_RESIDENT: "553",
    IdType.USCC: "001",
    IdType.OTHER: "999",
}


class ConsentWay(StrEnum):
    """How the applicant agreed that an agent (代办员) submits on their behalf."""

    SIGNED_FORM = "signed_form"  # 签字授权委托书
    PHONE = "phone"  # 电话确认
    IN_PERSON = "in_person"  # 当面确认


class MaterialForm(StrEnum):
    """表5 收取方式."""

    ORIGINAL = "original"  # 原件
    COPY = "copy"  # 复印件
    ELECTRONIC = "electronic"  # 电子材料


class Application(Base):
    """办件: one application for one matter, made under one version of its guide."""

    __tablename__ = "services_application"
    __table_args__ = (Index("ix_services_application_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)  # 办件编号 (an..50)
    matter_id: Mapped[int] = mapped_column(ForeignKey("services_matter.id"), index=True)
    matter_version_id: Mapped[int] = mapped_column(ForeignKey("services_matter_version.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"), index=True)  # 责任部门

    applicant_name: Mapped[str] = mapped_column(String(200))  # 申请者名称
    applicant_kind: Mapped[Audience] = mapped_column(StrEnumType(Audience, 16))  # A.4
    id_type: Mapped[IdType] = mapped_column(StrEnumType(IdType, 20))  # 申请者证件类型
    id_number_enc: Mapped[str] = mapped_column(String(200))  # 证件号码, SM4-GCM
    id_number_index: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash for exact lookup
    phone_enc: Mapped[str | None] = mapped_column(String(200))  # 联系人手机号码, SM4-GCM
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(300))  # 通讯地址
    source: Mapped[HandlingForm] = mapped_column(StrEnumType(HandlingForm, 16))  # 申报来源 (A.5)
    applicant_user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"), index=True)  # online account

    submitted_role: Mapped[str] = mapped_column(String(16))  # lifecycle.Role: applicant, agent or window
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"), index=True)
    submitted_by_department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"))
    consent_by: Mapped[str | None] = mapped_column(String(100))  # who agreed (the applicant or their representative)
    consent_way: Mapped[ConsentWay | None] = mapped_column(StrEnumType(ConsentWay, 16))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_note: Mapped[str | None] = mapped_column(String(500))

    state: Mapped[str] = mapped_column(String(24), index=True)  # lifecycle.State
    step: Mapped[int | None] = mapped_column(Integer)  # index of the current matter step in STEP_STATES
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    corrections: Mapped[int] = mapped_column(Integer, default=0)  # 补正 notices so far

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 申请时间
    receipt_number: Mapped[str | None] = mapped_column(String(50), unique=True)  # 受理文书编号
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # acceptance or the last 补正
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # 承诺办结时间
    rejection_reason: Mapped[str | None] = mapped_column(Text)  # 不予受理理由
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(12))  # lifecycle.Decision
    decision_note: Mapped[str | None] = mapped_column(Text)  # 办件结果描述
    result_name: Mapped[str | None] = mapped_column(String(200))  # 结果证照名称
    result_number: Mapped[str | None] = mapped_column(String(100))  # 结果证照编号
    result_valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery_method: Mapped[str | None] = mapped_column(String(12))  # lifecycle.DeliveryMethod
    tracking_number: Mapped[str | None] = mapped_column(String(50))  # 快递单号
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # decided, rejected or withdrawn

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    materials: Mapped[list[ApplicationMaterial]] = relationship(
        order_by="ApplicationMaterial.position", cascade="all, delete-orphan", lazy="selectin"
    )


class ApplicationMaterial(Base):
    """One 申请材料 of the matter version's list, as received (表5 是否收取, 收取方式, 收取数量, 收取时间)."""

    __tablename__ = "services_application_material"
    __table_args__ = (UniqueConstraint("application_id", "material_id", name="uq_services_application_material"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("services_application.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(ForeignKey("services_matter_material.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    received: Mapped[bool] = mapped_column(Boolean, default=False)
    form: Mapped[MaterialForm | None] = mapped_column(StrEnumType(MaterialForm, 12))
    count: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 附件实体: a scan or the electronic material, kept by the attachment store (private, never on a case)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("case_attachment.id"))


class ApplicationStep(Base):
    """表7 环节: one visit of a matter step (a step returned to and handled again gets a new row)."""

    __tablename__ = "services_application_step"
    __table_args__ = (
        Index("ix_services_application_step_app", "application_id", "id"),
        Index("ix_services_application_step_inbox", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("services_application.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"))
    status: Mapped[str] = mapped_column(String(8))  # lifecycle.StepStatus 待办/已办
    action: Mapped[str | None] = mapped_column(String(16))  # 业务动作: lifecycle.Action pass/return/step_other
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    opinion: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApplicationSpecial(Base):
    """特别程序 (A.7): the clock is stopped from start to end."""

    __tablename__ = "services_application_special"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("services_application.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SpecialProcedureKind] = mapped_column(StrEnumType(SpecialProcedureKind, 12))
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(Text)


class ApplicationEvent(Base):
    """Timeline (表6 办理过程): every applied action, who, when, from and to."""

    __tablename__ = "services_application_event"
    __table_args__ = (Index("ix_services_application_event_app", "application_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("services_application.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    step: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class NumberCounter(Base):
    """One counter per numbering scope (``numbering.Rule.scope``): the last sequence handed out."""

    __tablename__ = "services_number_counter"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# ── Exchange: result certificates and state-change webhooks ───────────────────────────────────────────


class Certificate(Base):
    """结果证照 of a granted application, as issued: what the PDF prints and the public verification page
    answers. ``token`` is the random part of the verification URL (never the application's id)."""

    __tablename__ = "services_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("services_application.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)  # secrets.token_urlsafe(24): 32 characters
    name: Mapped[str] = mapped_column(String(200))  # 结果证照名称
    number: Mapped[str] = mapped_column(String(100))  # 结果证照编号
    holder_name: Mapped[str] = mapped_column(String(200))  # the applicant, as on the certificate
    issuer: Mapped[str] = mapped_column(String(200))  # 发证/盖章单位
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the decision
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: long-term (长期)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))


class WebhookDelivery(Base):
    """One state-change event of an application for one configured URL (an outbox row): written in the
    transaction that changed the application, sent after it committed, retried with backoff."""

    __tablename__ = "services_webhook_delivery"
    __table_args__ = (Index("ix_services_webhook_delivery_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)  # the same for every URL of one event
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("services_application.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, exactly as signed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    error: Mapped[str | None] = mapped_column(String(300))
