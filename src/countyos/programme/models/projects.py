"""Tables of the projects part: the organisations the programme works with, its projects, their spend,
contracts and payment schedules.

- ``programme_org``: an organisation — the county's local operating company, a vendor, an ecosystem partner,
  a financier — with its 统一社会信用代码 and contact (the phone is personal: masked on pages).
- ``programme_project``: a construction or operation project: phase, scope (modules, device classes, data
  resources), budget, funding and operating model (``data/funding_models.json``), lead department.
- ``programme_spend``: actual spend of a project (one row per payment made or cost booked).
- ``programme_contract``: a contract of a project with a party: period, amount, assessment period (month
  or quarter), the payment formula as data (``service.payments``).
- ``programme_instalment``: the contract's payment schedule (due date, amount).

Money is kept in fen (分, integer) and shown in yuan.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class OrgKind(StrEnum):
    OPERATOR = "operator"  # 本地运营公司
    VENDOR = "vendor"  # 建设/供应商
    PARTNER = "partner"  # 生态合作伙伴
    FINANCIER = "financier"  # 金融机构/投资方
    STATE_CAPITAL = "state_capital"  # 国资平台


class Organisation(Base):
    __tablename__ = "programme_org"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(StrEnumType(OrgKind, 16))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")  # personal: masked on pages
    address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # the department its staff's accounts belong to (the operating company's people see its contracts)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectKind(StrEnum):
    CONSTRUCTION = "construction"  # 建设项目
    OPERATION = "operation"  # 运营项目


class ProjectState(StrEnum):
    PLANNED = "planned"  # 谋划
    BUILDING = "building"  # 建设中
    OPERATING = "operating"  # 运营中
    CLOSED = "closed"  # 已结束


class Project(Base):
    __tablename__ = "programme_project"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProjectKind] = mapped_column(StrEnumType(ProjectKind, 16))
    state: Mapped[ProjectState] = mapped_column(StrEnumType(ProjectState, 16), default=ProjectState.PLANNED)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("programme_phase.id", ondelete="SET NULL"))
    modules: Mapped[list[str]] = mapped_column(JSON, default=list)  # module codes (service.modules)
    device_classes: Mapped[list[str]] = mapped_column(JSON, default=list)  # sensing device class codes
    data_resources: Mapped[list[str]] = mapped_column(JSON, default=list)  # data catalogue identifiers
    budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    funding_model: Mapped[str] = mapped_column(String(40))  # a code of data/funding_models.json
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_department.id", ondelete="SET NULL"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("programme_org.id", ondelete="SET NULL"))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Spend(Base):
    __tablename__ = "programme_spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_project.id", ondelete="CASCADE"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("programme_contract.id", ondelete="SET NULL"))
    spent_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssessmentPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


class ContractState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"  # 履行中: assessed every period
    ENDED = "ended"


class Contract(Base):
    __tablename__ = "programme_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_project.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[int] = mapped_column(ForeignKey("programme_org.id", ondelete="RESTRICT"), index=True)
    state: Mapped[ContractState] = mapped_column(StrEnumType(ContractState, 12), default=ContractState.DRAFT)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[AssessmentPeriod] = mapped_column(StrEnumType(AssessmentPeriod, 10), default=AssessmentPeriod.MONTH)
    # the payment formula as data (service.payments: base, deductions, caps, bonuses, missing data)
    formula: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Instalment(Base):
    __tablename__ = "programme_instalment"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("programme_contract.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(120), default="")
