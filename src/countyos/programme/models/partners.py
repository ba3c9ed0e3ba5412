"""Tables of the partners part: the ecosystem partners' developers, sandbox keys, their use and the partner
services listed to the county.

- ``programme_partner_member``: a developer's account (role ``partner_developer``) belongs to one partner
  organisation (``programme_org`` of kind partner); one organisation per account.
- ``programme_partner_key``: a sandbox key — an API token (``org_api_token``) of the partner's machine
  account, with read-only scopes, a daily quota and 90 days of life.
- ``programme_partner_key_usage``: calls and refusals of a key per local day (flushed from memory every minute).
- ``programme_partner_service``: a service a partner offers to the county, reviewed by the programme
  office (``service.partners_services``: submitted → approved | rejected → submitted …, approved ⇄ suspended).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class PartnerMember(Base):
    __tablename__ = "programme_partner_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("programme_org.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("org_user.id", ondelete="CASCADE"), unique=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PartnerKey(Base):
    __tablename__ = "programme_partner_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("programme_org.id", ondelete="CASCADE"), index=True)
    api_token_id: Mapped[int] = mapped_column(ForeignKey("org_api_token.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    daily_quota: Mapped[int] = mapped_column(Integer, default=1000)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PartnerKeyUsage(Base):
    __tablename__ = "programme_partner_key_usage"
    __table_args__ = (UniqueConstraint("key_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("programme_partner_key.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # the county's local day
    calls: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)


class ServiceState(StrEnum):
    SUBMITTED = "submitted"  # 待审核
    APPROVED = "approved"  # 已上架
    REJECTED = "rejected"  # 未通过
    SUSPENDED = "suspended"  # 已暂停


class PartnerService(Base):
    __tablename__ = "programme_partner_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("programme_org.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(40))  # a code of data/partners_categories.json
    uses: Mapped[list[str]] = mapped_column(JSON, default=list)  # codes of data/partners_scopes.json
    contact: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[ServiceState] = mapped_column(
        StrEnumType(ServiceState, 12), default=ServiceState.SUBMITTED, index=True
    )
    review_note: Mapped[str] = mapped_column(String(500), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
