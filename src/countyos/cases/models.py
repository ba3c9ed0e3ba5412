"""ORM models of the cases domain (一网统管 case handling).

Categories, time limits and routing are data a county edits; a case carries its location (from geo),
its state in the lifecycle (``lifecycle.py``), the clock of its current step and a timeline of events.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.commitorder import WRITING_TRANSACTION, TransactionId
from countyos.core.db import Base, StrEnumType, UTCDateTime


class CategoryKind(StrEnum):
    COMPONENT = "component"  # 管理部件 (GB/T 47678.5 表A.1): a fault of a managed component
    MATTER = "matter"  # 管理事项 (GB/T 47678.5 表C.1)
    HOTLINE = "hotline"  # 12345 诉求分类 (three levels, imported)
    LOCAL = "local"  # local extension


KIND_PREFIX = {
    CategoryKind.COMPONENT: "C",
    CategoryKind.MATTER: "M",
    CategoryKind.HOTLINE: "H",
    CategoryKind.LOCAL: "L",
}


class Priority(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.URGENT: 1, Priority.NORMAL: 2}


class Step(StrEnum):
    """The timed steps of the workflow; each has a limit per category and area class."""

    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实
    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣
    HANDLE = "handle"  # 处置 (from dispatch to feedback)
    CHECK = "check"  # 核查
    CLOSE = "close"  # 结案


class Channel(StrEnum):
    GRID = "grid"  # 网格员巡查上报
    WEB = "web"  # citizen web form
    OPEN311 = "open311"
    HOTLINE = "hotline"  # 12345
    STAFF = "staff"  # entered by the operations centre
    IOT = "iot"  # sensing alarm
    CAMERA = "camera"  # 智能发现: an event a camera's analysis box detected


class Satisfaction(StrEnum):
    """A rating stored as its meaning (GB/T 39046 A.8 order), never as a number whose direction varies."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    FAIRLY_SATISFIED = "fairly_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意


class AttachmentStage(StrEnum):
    """When a photo was taken in the case's life: before the work (the report) or after it."""

    REPORT = "report"  # 上报: the problem as found (before)
    FEEDBACK = "feedback"  # 处置反馈: the handler's result (after)
    CHECK = "check"  # 核查: the inspector's look on the ground (after)


AFTER_STAGES = frozenset({AttachmentStage.FEEDBACK, AttachmentStage.CHECK})


class PositionSource(StrEnum):
    """Where a photo's position came from."""

    EXIF = "exif"  # the camera's GPS tags in the file
    DEVICE = "device"  # the browser's geolocation when the photo was chosen


class SupervisionLevel(StrEnum):
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 督办
    LISTED = "listed"  # 挂牌督办


class DemandType(StrEnum):
    """诉求类型 of a 12345 work order or a call taken at the intake desk."""

    CONSULT = "consult"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬 (12345 imports only)


class CallbackWay(StrEnum):
    """How the caller wants to be called back (回访方式)."""

    PHONE = "phone"  # 电话
    SMS = "sms"  # 短信


class Category(Base):
    """One class of problem: a GB/T 47678.5 component or matter class, a 12345 class or a local one."""

    __tablename__ = "case_category"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_case_category_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CategoryKind] = mapped_column(StrEnumType(CategoryKind, 12))
    code: Mapped[str] = mapped_column(String(20))
    service_code: Mapped[str] = mapped_column(String(24), unique=True)  # Open311 service_code
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("case_category.id", ondelete="RESTRICT"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)  # a heading, not reportable itself
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str | None] = mapped_column(String(200))
    register_condition: Mapped[str | None] = mapped_column(Text)  # 立案条件
    close_condition: Mapped[str | None] = mapped_column(Text)  # 结案条件
    default_priority: Mapped[Priority] = mapped_column(StrEnumType(Priority, 10), default=Priority.NORMAL)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # Open311 service definition
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # listed as an Open311 service
    # Evidence: a photo is required with the handler's feedback (处置反馈) / the inspector's check (核查).
    feedback_photo_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    check_photo_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Sensitive (邻里纠纷, 治安隐患 …): the residents' public map shows such reports by their grid only,
    # without the description or photos.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="joined", join_depth=2)


class TimeLimit(Base):
    """The limit of one step for one category (or every category: NULL) in one area class (or '*')."""

    __tablename__ = "case_time_limit"
    __table_args__ = (UniqueConstraint("category_id", "area_class", "step", name="uq_case_time_limit_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_category.id", ondelete="CASCADE"), index=True)
    area_class: Mapped[str] = mapped_column(String(1), default="*")  # A 核心区 / B 一般区 / C / *
    step: Mapped[Step] = mapped_column(StrEnumType(Step, 10))
    amount: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))  # core.workcal.TimeUnit


class RoutingRule(Base):
    """Category × area → responsible department (+ co-handling departments); the most specific row wins."""

    __tablename__ = "case_routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_category.id", ondelete="CASCADE"), index=True)
    township_code: Mapped[str | None] = mapped_column(String(9), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"))
    co_department_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Case(Base):
    __tablename__ = "case_case"
    __table_args__ = (
        Index("ix_case_case_open_deadline", "is_open", "step_deadline"),
        Index("ix_case_case_category_reported", "category_id", "reported_at"),
        # the operations view (ioc, migration 0007): state measures within a township or a category,
        # flow measures within a township, urgent open cases, and the flow measures of a period
        # counted from the index alone (every column their conditions read)
        Index("ix_case_case_township_open", "township_code", "is_open", "step_deadline"),
        Index("ix_case_case_category_open", "category_id", "is_open", "step_deadline"),
        Index("ix_case_case_township_reported", "township_code", "reported_at"),
        Index("ix_case_case_open_priority", "is_open", "priority"),
        # open cases whose clock runs, by deadline: overdue counts, open/overdue per grid, and the
        # most urgent first (the lists and the map pick their ids from the index alone)
        Index(
            "ix_case_case_open_running", "is_open", "paused_at", "step_deadline", "priority", "grid_code", "lon", "lat"
        ),
        # open cases of a category in a box: the duplicate search of every new report
        Index("ix_case_case_category_box", "category_id", "is_open", "lat", "lon", "reported_at", "merged_into_id"),
        Index(
            "ix_case_case_reported_flow",
            "reported_at",
            "merged_into_id",
            "registered_at",
            "voided_at",
            "closed_at",
            "closed_in_time",
            "rework_count",
            "satisfaction",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10), index=True)
    external_id: Mapped[str | None] = mapped_column(String(60), index=True)  # 12345 工单编号, alarm id…
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("case_category.id", ondelete="RESTRICT"), index=True)
    priority: Mapped[Priority] = mapped_column(StrEnumType(Priority, 10), default=Priority.NORMAL)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(256))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    county_code: Mapped[str | None] = mapped_column(String(6))
    township_code: Mapped[str | None] = mapped_column(String(9), index=True)
    township_name: Mapped[str | None] = mapped_column(String(60))
    village_code: Mapped[str | None] = mapped_column(String(12))
    village_name: Mapped[str | None] = mapped_column(String(60))
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    area_class: Mapped[str] = mapped_column(String(1), default="B")

    state: Mapped[str] = mapped_column(String(24), index=True)
    resume_state: Mapped[str | None] = mapped_column(String(24))  # where a refused request returns to
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    self_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool | None] = mapped_column(Boolean)
    public_report: Mapped[bool] = mapped_column(Boolean, default=False)  # reported by the public (漏报率)

    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"), index=True)
    co_department_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    co_tags: Mapped[str | None] = mapped_column(String(200))  # ",3,7," for a portable LIKE filter
    suggested_department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"), index=True)  # inspector on a task
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id"))  # suspected duplicate

    # The clock of the current step (see timers.py): deadline = start + limit + extension + paused.
    step: Mapped[str | None] = mapped_column(String(10))
    step_seq: Mapped[int] = mapped_column(Integer, default=0)
    step_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_unit: Mapped[str | None] = mapped_column(String(16))
    step_limit_s: Mapped[int] = mapped_column(Integer, default=0)
    step_extension_s: Mapped[int] = mapped_column(Integer, default=0)
    step_paused_s: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 yellow sent, 2 red sent

    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    register_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatch_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_in_time: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_in_time: Mapped[bool | None] = mapped_column(Boolean)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[Satisfaction | None] = mapped_column(StrEnumType(Satisfaction, 20))
    satisfaction_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")
    work_order: Mapped[WorkOrder | None] = relationship(lazy="select", uselist=False, viewonly=True)

    # Optimistic locking: every UPDATE says WHERE version = <the version read>; ``transitions.apply``
    # raises the version by exactly one per action (the generator is ours, not SQLAlchemy's).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


class WorkOrder(Base):
    """The 12345 work-order facts of a case (1:1): 工单号, 来电时间, 诉求类型, 回访要求.

    Written by the intake desk (a call or an accepted web message) and by the 12345 import."""

    __tablename__ = "case_work_order"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), primary_key=True)
    order_no: Mapped[str | None] = mapped_column(String(50), index=True)  # 工单号
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 来电时间
    demand_type: Mapped[DemandType] = mapped_column(StrEnumType(DemandType, 12), default=DemandType.COMPLAINT)
    callback_needed: Mapped[bool] = mapped_column(Boolean, default=False)  # 回访要求
    callback_way: Mapped[CallbackWay | None] = mapped_column(StrEnumType(CallbackWay, 8))
    callback_time: Mapped[str | None] = mapped_column(String(60))  # preferred time, as the caller said it
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))  # the clerk
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockPhrase(Base):
    """常用语: a sentence the intake desk inserts into a description; for one category or all (NULL)."""

    __tablename__ = "case_stock_phrase"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_category.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reporter(Base):
    """A person to keep informed about a case; merged duplicates bring their reporters along."""

    __tablename__ = "case_reporter"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    original_case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id"))
    name: Mapped[str | None] = mapped_column(String(60))
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    email_enc: Mapped[str | None] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(String(100))
    public_token: Mapped[str] = mapped_column(String(64), unique=True)  # the reporter's page /r/{token}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseEvent(Base):
    """One timeline entry: who did what, when, why, with which attachments, caused by what."""

    __tablename__ = "case_event"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_event_case_seq"),
        Index("ix_case_event_xact_id", "xact", "id").ddl_if(dialect="postgresql"),  # the live feed's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # hidden on the reporter's page
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # cause: alarm, request, duplicate…
    department_id: Mapped[int | None] = mapped_column(Integer)
    deadline_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the writing transaction (PostgreSQL), for reading the timeline in commit order: core.commitorder
    xact: Mapped[int | None] = mapped_column(TransactionId, server_default=WRITING_TRANSACTION)


def attachment_token() -> str:
    """The random part of a published attachment's URL (never the sequential id)."""
    return secrets.token_urlsafe(24)


class Attachment(Base):
    """A photo or document stored once by content hash under ``settings.attachments_dir``.

    Private unless ``public``: the reporter's own photo of a public report, or one staff published
    (an audited action). The public URL names it by ``public_token``, a random string.
    """

    __tablename__ = "case_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    has_thumbnail: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    public_token: Mapped[str] = mapped_column(String(43), unique=True, default=attachment_token)
    uploaded_by: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Evidence: the stage of the case it documents (report = before; feedback, check = after), when it
    # was taken and where (the camera's EXIF GPS, or the browser's position when it was chosen).
    stage: Mapped[AttachmentStage] = mapped_column(
        StrEnumType(AttachmentStage, 10), default=AttachmentStage.REPORT, server_default=AttachmentStage.REPORT.value
    )
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_source: Mapped[PositionSource | None] = mapped_column(StrEnumType(PositionSource, 8))

    @property
    def is_after(self) -> bool:
        return self.stage in AFTER_STAGES

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


class DispatchRecord(Base):
    """Each dispatch: the suggested department and the one chosen, so overrides are reportable."""

    __tablename__ = "case_dispatch"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(60))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    suggested_department_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(Integer, index=True)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    reason: Mapped[str | None] = mapped_column(String(500))


class Supervision(Base):
    """督办: 催办 / 督办 / 挂牌督办 of an open case, addressed to its department."""

    __tablename__ = "case_supervision"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    level: Mapped[SupervisionLevel] = mapped_column(StrEnumType(SupervisionLevel, 10))
    note: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(Integer)
    by_id: Mapped[int | None] = mapped_column(Integer)
    by_name: Mapped[str | None] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """A message to a person about a case; ``dedupe_key`` makes the sweeper idempotent across workers."""

    __tablename__ = "case_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # yellow, red, assigned, supervision, status…
    channel: Mapped[str] = mapped_column(String(12))  # inapp, webhook, sms, wecom, dingtalk
    user_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))  # encrypted for SMS
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))


class EvaluationScheme(Base):
    """Weights and grade thresholds of a composite score (综合评价), as data."""

    __tablename__ = "case_eval_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(12), unique=True)  # department, township, grid, person
    weights: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    grades: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)  # [["A", 90], ["B", 75], …]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseSetting(Base):
    """A switch or value of the case workflow that the case administrator changes on a page (data, not
    code): ``auto_check`` sends handled cases for checking to the grid's inspector."""

    __tablename__ = "case_setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
