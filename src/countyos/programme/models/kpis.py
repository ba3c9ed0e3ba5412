"""Tables of the kpis and payments parts: a contract's KPIs, its assessments per period with one score per
KPI, and the payment computed from them; changes after locking.

- ``programme_kpi``: a KPI bound to a contract: the catalogue entry (``service.kpis_catalogue``: an
  operations-view indicator), target, weight and scoring rule (data, ``service.kpis_scoring``).
- ``programme_assessment``: one contract and period (month or quarter): total score, the payment computed
  by the contract's formula, and its state: computed → approved → locked (by the finance role). Computed
  again by the job until approved; after locking, a change needs a recorded reason.
- ``programme_score``: one KPI's value in the period (None: no data), the counts it came from, its score,
  the target and weight it was scored with, and the links to the records.
- ``programme_amendment``: a change to a locked assessment: who, when, why, what before and after.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.clock import utcnow
from countyos.core.db import Base, StrEnumType, UTCDateTime


class ContractKpi(Base):
    __tablename__ = "programme_kpi"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("programme_contract.id", ondelete="CASCADE"), index=True)
    kpi: Mapped[str] = mapped_column(String(40))  # a code of service.kpis_catalogue
    township_code: Mapped[str | None] = mapped_column(String(12))  # scope; None = the whole county
    target: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)  # the weights of a contract's KPIs add up to 100
    scoring: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # schemas.kpis.ScoringRule


class AssessmentState(StrEnum):
    COMPUTED = "computed"  # 已测算 (the job recomputes it until approved)
    APPROVED = "approved"  # 已审核 (by the programme office)
    LOCKED = "locked"  # 已锁定 (by the finance role; changes need a reason)


class Assessment(Base):
    __tablename__ = "programme_assessment"
    __table_args__ = (UniqueConstraint("contract_id", "period_start", name="uq_programme_assessment_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("programme_contract.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    state: Mapped[AssessmentState] = mapped_column(StrEnumType(AssessmentState, 12), default=AssessmentState.COMPUTED)
    total_score: Mapped[float | None] = mapped_column(Float)  # None when no KPI had data
    base_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    deduction_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payable_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the formula's steps, for the table
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Score(Base):
    __tablename__ = "programme_score"
    __table_args__ = (UniqueConstraint("assessment_id", "kpi_id", name="uq_programme_score_kpi"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("programme_assessment.id", ondelete="CASCADE"), index=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("programme_kpi.id", ondelete="CASCADE"))
    value: Mapped[float | None] = mapped_column(Float)  # None: no data in the period
    count: Mapped[int | None] = mapped_column(Integer)
    whole: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)  # 0..100 by the scoring rule; None with no data
    target: Mapped[float | None] = mapped_column(Float)  # the KPI's target and weight when it was scored
    weight: Mapped[float | None] = mapped_column(Float)
    records_url: Mapped[str] = mapped_column(String(500), default="")
    whole_url: Mapped[str] = mapped_column(String(500), default="")


class Amendment(Base):
    __tablename__ = "programme_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("programme_assessment.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    what: Mapped[str] = mapped_column(String(20))  # "reassess", "adjust", "unlock"
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
