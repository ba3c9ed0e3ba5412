"""ORM models of the ioc domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class UsageDaily(Base):
    """Use of the platform per day, module, role and kind (view / api / action)."""

    __tablename__ = "ioc_usage_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    module: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class UsageUserDaily(Base):
    """Who used the platform: one row per day, module, person and role they acted in (however many requests).
    The "active users" measure; kept 400 days (``ioc.jobs.flush_usage`` prunes older days)."""

    __tablename__ = "ioc_usage_user_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    module: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class ReportKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Report(Base):
    """An operations report (PDF and Excel) of one day, week or month; one per kind and period."""

    __tablename__ = "ioc_report"
    __table_args__ = (UniqueConstraint("kind", "since", name="uq_ioc_report_kind_since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReportKind] = mapped_column(StrEnumType(ReportKind, 10))
    since: Mapped[date] = mapped_column(Date)  # first local day
    until: Mapped[date] = mapped_column(Date)  # last local day (inclusive)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(60))  # a person, or "schedule"
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # key indicators, for the list
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
