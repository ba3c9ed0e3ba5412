"""ORM models of the services domain: the matter catalogue (事项, GB/T 39046-2020 表4).

A matter is identified by its 实施编码 (``code``) and points at its current version. Every edit writes
a new ``MatterVersion`` holding all the guide fields, with its ordered steps (环节) and materials
(申请材料); older versions stay, so an application keeps the version it was made under.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    RatingChannel,
    Satisfaction,
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


# ── 电子监察 (GB/T 39046-2020 表11): rules as data, warnings and their record ────────────────────────


class RuleKind(StrEnum):
    """What a supervision rule watches (its parameters: ``service/supervision_rules.PARAMETERS``)."""

    TIME_USED = "time_used"  # 承诺时限 used ≥ threshold %
    OVERDUE = "overdue"  # past the 承诺办结时间
    IDLE = "idle"  # accepted, the current step untouched for ``days`` working days
    CORRECTIONS = "corrections"  # 补正 more than ``threshold`` times
    REJECTION_RATE = "rejection_rate"  # 不予受理 rate of a department above threshold % over ``days`` days
    LAPSE = "lapse"  # 补正 not made within ``days`` working days → 视为撤回 (an action, not a warning)


class WarningLevel(StrEnum):
    YELLOW = "yellow"  # 黄色预警
    RED = "red"  # 红色预警


class WarningState(StrEnum):
    """表11 督办 record state: 未处理 → 已反馈 / 已督办 → 已解除."""

    OPEN = "open"  # 未处理
    ANSWERED = "answered"  # 已反馈 (the responsible department answered)
    SUPERVISED = "supervised"  # 已督办 (a supervisor pressed the department)
    CLEARED = "cleared"  # 已解除 (the condition ended)


class SupervisionRule(Base):
    """监察规则: one rule of the 电子监察, editable by supervisors (``code`` is the 监察规则编号)."""

    __tablename__ = "services_supervision_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 监察规则编号
    kind: Mapped[RuleKind] = mapped_column(StrEnumType(RuleKind, 20))
    threshold: Mapped[float | None] = mapped_column(Float)  # percent or count, by kind
    days: Mapped[int | None] = mapped_column(Integer)  # working days or a window of days, by kind
    min_count: Mapped[int | None] = mapped_column(Integer)  # rates: the least number of decisions counted
    level: Mapped[WarningLevel] = mapped_column(StrEnumType(WarningLevel, 8), default=WarningLevel.YELLOW)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))


class SupervisionWarning(Base):
    """预警/督办 record (表11): one per (rule family, subject); raised, upgraded, answered, supervised, cleared.

    The subject is an application (``application_id``) or, for a department's rate, the department
    (``subject`` ``d:<id>``); ``subject`` + ``family`` is the unique key that makes a second sweep add nothing.
    """

    __tablename__ = "services_supervision_warning"
    __table_args__ = (
        UniqueConstraint("family", "subject", name="uq_services_supervision_warning_subject"),
        Index("ix_services_supervision_warning_state", "state", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 监察编号
    family: Mapped[str] = mapped_column(String(20))  # the rule kinds that upgrade each other
    subject: Mapped[str] = mapped_column(String(24))  # a:<application id> | d:<department id>
    rule_id: Mapped[int] = mapped_column(ForeignKey("services_supervision_rule.id"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("services_application.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"))  # 责任部门
    level: Mapped[WarningLevel] = mapped_column(StrEnumType(WarningLevel, 8))
    state: Mapped[WarningState] = mapped_column(StrEnumType(WarningState, 12), default=WarningState.OPEN)
    reason: Mapped[str] = mapped_column(String(500))  # 监察结果描述 (a message id with its values in ``reason_values``)
    reason_values: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # 状态产生时间
    level_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the level last changed
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    supervision: Mapped[str | None] = mapped_column(Text)  # 督办内容 (the last one)
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 督办发出时间
    supervised_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SupervisionEvent(Base):
    """The record of a warning: raised, upgraded, answered, supervised, cleared, raised again."""

    __tablename__ = "services_supervision_event"
    __table_args__ = (Index("ix_services_supervision_event_warning", "warning_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("services_supervision_warning.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(16))  # service.supervision.WarningAction
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)


# ── 好差评 (GB/T 39046-2020 表9; GB/T 39734-2020, GB/T 39735-2020) ───────────────────────────────────


class RatingTag(StrEnum):
    """评价内容: what the rater liked or what went wrong (a county's tag list, GB/T 39735 评价内容)."""

    CLEAR_GUIDE = "clear_guide"  # 办事指南清晰
    ONE_VISIT = "one_visit"  # 一次办好
    FRIENDLY = "friendly"  # 服务热情
    FAST = "fast"  # 办理快
    UNCLEAR_GUIDE = "unclear_guide"  # 指南不清楚
    REPEATED_MATERIALS = "repeated_materials"  # 重复提交材料
    MANY_VISITS = "many_visits"  # 多次跑动
    LONG_WAIT = "long_wait"  # 等候时间长
    SLOW = "slow"  # 办理超时
    ATTITUDE = "attitude"  # 态度不好
    UNFAIR_RESULT = "unfair_result"  # 对结果不认可


class RectificationState(StrEnum):
    """差评整改 (table: ``service/rectification.py``)."""

    VERIFYING = "verifying"  # 待核实
    RECTIFYING = "rectifying"  # 整改中
    REVISITING = "revisiting"  # 待回访
    CLOSED = "closed"  # 已办结


class RectificationAction(StrEnum):
    VERIFY = "verify"  # 核实属实
    DISMISS = "dismiss"  # 核实不属实 (解释说明)
    RECTIFY = "rectify"  # 整改完成
    REVISIT = "revisit"  # 回访, 办结
    REOPEN = "reopen"  # 回访不满意: 重新整改


class RectificationRole(StrEnum):
    DEPARTMENT = "department"  # staff of the rated department
    SUPERVISOR = "supervisor"  # services.application.supervise


class Rating(Base):
    """One 好差评 of one 办件 through one 评价渠道 (unique per channel), its level stored as its meaning."""

    __tablename__ = "services_rating"
    __table_args__ = (
        UniqueConstraint("application_id", "channel", name="uq_services_rating_channel"),
        Index("ix_services_rating_department_at", "department_id", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("services_application.id", ondelete="CASCADE"), index=True)
    channel: Mapped[RatingChannel] = mapped_column(StrEnumType(RatingChannel, 16))  # 评价渠道
    level: Mapped[Satisfaction] = mapped_column(StrEnumType(Satisfaction, 20), index=True)  # 满意度 (A.8 meaning)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # 评价内容 (``service.ratings.RatingTag`` values)
    comment: Mapped[str | None] = mapped_column(Text)  # 文字评价
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    rater_name: Mapped[str | None] = mapped_column(String(100))  # 评价人 (None when anonymous)
    rater_user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"), index=True)  # the applicant online
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))  # the clerk at a window 评价器
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"))  # the department rated
    window: Mapped[str | None] = mapped_column(String(50))  # the window rated (窗口号)
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)  # where it was handled (乡镇)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # 评价时间
    follow_up: Mapped[str | None] = mapped_column(Text)  # 追评 (评价次数 2)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rectification(Base):
    """差评整改: the 核实 → 整改 → 回访 → 办结 record a 差评 opens, assigned to the rated department."""

    __tablename__ = "services_rectification"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("services_rating.id", ondelete="CASCADE"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True)  # service.rectification.State
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    step_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # of the current step
    substantiated: Mapped[bool | None] = mapped_column(Boolean)  # 核实: 属实 / 不属实
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # 整改 rounds (a failed 回访 adds one)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


class RectificationEvent(Base):
    """One step of a rectification: who, as which role, when, the note, and whether it was late."""

    __tablename__ = "services_rectification_event"
    __table_args__ = (Index("ix_services_rectification_event_rec", "rectification_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("services_rectification.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(12))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the finished step's due time
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class RectificationLimit(Base):
    """差评整改 time limits as data: working days allowed for each step (defaults when no row)."""

    __tablename__ = "services_rectification_limit"

    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    working_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))


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
