"""ORM models of the residents' portal (一网通享).

A resident is an ``org_user`` with the role ``resident`` and a ``Resident`` row: how far their real
name is verified, when they signed up and, once they asked for it, when their personal data was
deleted. They sign in with a one-time code sent to their phone (``OneTimeCode``, only a keyed hash of
the code and of the phone is kept) or with a password they chose. Every consent they give or withdraw
is a ``Consent`` row. Notices and 村务公开 are ``Notice`` rows (with their attachments and, for a list
such as 惠农补贴名单, a table whose personal columns are masked when it is saved); residents subscribe to
the areas they care about (``Subscription``) and get what is published there as ``Message`` rows.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


def new_token() -> str:
    return secrets.token_urlsafe(16)


class RealNameLevel(StrEnum):
    """实名等级: what the county knows of who the account is."""

    UNVERIFIED = "unverified"  # the phone number is proven, nothing more
    VERIFIED = "verified"  # an identity document was seen at a window (窗口核验)


class Resident(Base):
    """The resident side of an account: real-name level, sign-up, deletion."""

    __tablename__ = "portal_resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), unique=True)
    level: Mapped[RealNameLevel] = mapped_column(StrEnumType(RealNameLevel, 12), default=RealNameLevel.UNVERIFIED)
    # Set when the level became "verified": who checked which kind of document where (no number kept
    # but its last four characters, enough to tell two documents apart at the window).
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    verified_document: Mapped[str | None] = mapped_column(String(20))  # services.models.IdType value
    verified_tail: Mapped[str | None] = mapped_column(String(4))
    verified_place: Mapped[str | None] = mapped_column(String(100))
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # personal data deleted on request


class CodePurpose(StrEnum):
    SIGN_IN = "sign_in"


class OneTimeCode(Base):
    """A sign-in code sent by SMS: a keyed hash of the code and of the phone, never either in clear."""

    __tablename__ = "portal_otp"
    __table_args__ = (Index("ix_portal_otp_phone_created", "phone_index", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[CodePurpose] = mapped_column(StrEnumType(CodePurpose, 12), default=CodePurpose.SIGN_IN)
    code_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentPurpose(StrEnum):
    PRIVACY = "privacy"  # 个人信息处理规则: needed for an account
    LOCATION = "location"  # using the phone's position to find what is nearest
    MESSAGES = "messages"  # messages about subscribed areas (notices, 村务公开)


class Consent(Base):
    """One consent given (and perhaps withdrawn later), with the version of the text agreed to."""

    __tablename__ = "portal_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[ConsentPurpose] = mapped_column(StrEnumType(ConsentPurpose, 12))
    version: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeKind(StrEnum):
    """What a notice is about; the last three are 村务公开 (village affairs)."""

    WATER_POWER = "water_power"  # 停水停电
    ROADWORK = "roadwork"  # 道路施工
    FLOOD = "flood"  # 防汛预警
    WEATHER = "weather"  # 气象预警
    HEALTH = "health"  # 卫生健康
    GENERAL = "general"  # 通知公告
    FINANCE = "finance"  # 村务公开: 财务公开
    DECISION = "decision"  # 村务公开: 决策事项
    SUBSIDY = "subsidy"  # 村务公开: 惠农补贴名单


VILLAGE_AFFAIRS = frozenset({NoticeKind.FINANCE, NoticeKind.DECISION, NoticeKind.SUBSIDY})


class NoticeState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Notice(Base):
    """A county, township or village notice, or a 村务公开 entry, for the area of ``division_code``."""

    __tablename__ = "portal_notice"
    __table_args__ = (Index("ix_portal_notice_state_published", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)  # the public URL
    kind: Mapped[NoticeKind] = mapped_column(StrEnumType(NoticeKind, 12), index=True)
    state: Mapped[NoticeState] = mapped_column(StrEnumType(NoticeState, 10), default=NoticeState.DRAFT)
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # county (6), township (9), village (12)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # A list published with the notice (惠农补贴名单 …): {"columns": [{"name", "label", "mask"}], "rows": [[…]]};
    # personal columns are masked when the table is saved, the unmasked values are never stored here.
    table: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # e.g. when the water is cut
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[NoticeAttachment]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeAttachment.id"
    )


class NoticeAttachment(Base):
    """A file published with a notice (a PDF of the accounts, a photo of the board)."""

    __tablename__ = "portal_notice_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("portal_notice.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(200))  # path under the data directory
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notice: Mapped[Notice] = relationship(back_populates="attachments")


class Subscription(Base):
    """A resident follows an area (their village, their township, the county) for its notices."""

    __tablename__ = "portal_subscription"
    __table_args__ = (UniqueConstraint("user_id", "division_code", name="uq_portal_subscription_user_division"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageKind(StrEnum):
    NOTICE = "notice"  # a notice published in a subscribed area
    CASE = "case"  # a case the resident reported or follows changed
    APPLICATION = "application"
    BOOKING = "booking"
    ACCOUNT = "account"  # sign-up, real-name verification, data export or deletion


class Message(Base):
    """A message in a resident's 消息 list; ``dedupe_key`` makes each one at most once."""

    __tablename__ = "portal_message"
    __table_args__ = (Index("ix_portal_message_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(StrEnumType(MessageKind, 12))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))  # a path inside CountyOS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# -- public service directory (便民服务设施) -------------------------------------------------------------


class FacilityKind(StrEnum):
    SCHOOL = "school"  # 学校、幼儿园
    HOSPITAL = "hospital"  # 医院
    CLINIC = "clinic"  # 卫生院、村卫生室、诊所
    PHARMACY = "pharmacy"  # 药店
    SERVICE_CENTRE = "service_centre"  # 便民服务中心
    AGENT_POINT = "agent_point"  # 村代办点
    TOILET = "toilet"  # 公共厕所
    PARKING = "parking"  # 停车场
    BUS_STOP = "bus_stop"  # 公交站
    CHARGING = "charging"  # 充电桩
    SHELTER = "shelter"  # 避灾安置点
    SPORTS = "sports"  # 体育场馆、健身点
    LIBRARY = "library"  # 图书馆、农家书屋
    CULTURE_HALL = "culture_hall"  # 文化礼堂
    OTHER = "other"


class Facility(Base):
    """A public facility a resident can go to, kept current by the department that runs it."""

    __tablename__ = "portal_facility"
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_portal_facility_source_key"),
        Index("ix_portal_facility_kind_active", "kind", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)  # the public URL
    kind: Mapped[FacilityKind] = mapped_column(StrEnumType(FacilityKind, 16))
    name: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    lon: Mapped[float] = mapped_column()  # WGS-84
    lat: Mapped[float] = mapped_column()
    phone: Mapped[str] = mapped_column(String(40), default="")  # a public number of the facility
    hours: Mapped[str] = mapped_column(String(300), default="")  # e.g. 周一至周五 8:30-12:00 13:30-17:30
    services: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"), index=True)
    # A live figure from a sensor (free parking spaces, people in a hall): the Datastream's latest value.
    datastream_id: Mapped[int | None] = mapped_column(Integer)
    live_label: Mapped[str] = mapped_column(String(60), default="")  # what the figure is (e.g. 空余车位)
    # Where the row came from: "manual", "file", or "resource:<data resource uid>"; the key of the row there.
    source: Mapped[str] = mapped_column(String(80), default="manual")
    source_key: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))


# -- bookings (预约) --------------------------------------------------------------------------------


class BookableKind(StrEnum):
    VENUE = "venue"  # 场馆
    CULTURE_HALL = "culture_hall"  # 文化礼堂
    MEETING_ROOM = "meeting_room"  # 会议室
    WINDOW = "window"  # 窗口预约 (a government service at a window)


class Bookable(Base):
    """Something residents book by time slot, with its rules as data."""

    __tablename__ = "portal_bookable"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    kind: Mapped[BookableKind] = mapped_column(StrEnumType(BookableKind, 16))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("portal_facility.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="RESTRICT"), index=True)
    matter_id: Mapped[int | None] = mapped_column(Integer)  # a window appointment's 事项 (services_matter.id)
    # Opening times per weekday (ISO 1–7): {"1": ["08:30-12:00", "13:30-17:30"], …}; slots of slot_minutes.
    opening: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    working_days_only: Mapped[bool] = mapped_column(default=False)  # closed on holidays (core.workcal)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    capacity: Mapped[int] = mapped_column(Integer, default=1)  # bookings per slot
    advance_days: Mapped[int] = mapped_column(Integer, default=7)  # how far ahead one may book
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)  # how soon before the slot
    per_person_open: Mapped[int] = mapped_column(Integer, default=2)  # open bookings one person may hold
    cancel_minutes: Mapped[int] = mapped_column(Integer, default=120)  # cancel at least this long before
    no_show_limit: Mapped[int] = mapped_column(Integer, default=3)  # no-shows within no_show_days …
    no_show_days: Mapped[int] = mapped_column(Integer, default=90)
    ban_days: Mapped[int] = mapped_column(Integer, default=30)  # … bar booking for this many days
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookingState(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"


class Booking(Base):
    __tablename__ = "portal_booking"
    __table_args__ = (Index("ix_portal_booking_slot", "bookable_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    bookable_id: Mapped[int] = mapped_column(ForeignKey("portal_bookable.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[BookingState] = mapped_column(StrEnumType(BookingState, 12), default=BookingState.BOOKED, index=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    application_id: Mapped[int | None] = mapped_column(Integer)  # the 办件 a window appointment became


# -- following a case on the public map ("me too") ---------------------------------------------------


class CaseFollow(Base):
    """A resident follows a public case: counted as "me too" and told when it closes."""

    __tablename__ = "portal_case_follow"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_portal_case_follow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    told_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
