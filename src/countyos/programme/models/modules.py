"""Tables of the modules part: the programme's phases (急用先行 first) and each module's state.

- ``programme_phase``: a phase of the county's programme (一期 急用先行, 二期, 三期) with its goal and dates.
- ``programme_module``: one row per switchable domain (``service.modules.SPECS``): on or off, the phase it
  belongs to, when it is planned, when it was last switched and by whom. A module without a row is on.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from countyos.core.db import Base, UTCDateTime


class Phase(Base):
    __tablename__ = "programme_phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # 1 = 一期 (急用先行)
    name: Mapped[str] = mapped_column(String(80))
    goal: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class ModuleState(Base):
    __tablename__ = "programme_module"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)  # a domain name (countyos.domains)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("programme_phase.id", ondelete="SET NULL"))
    planned_on: Mapped[date | None] = mapped_column(Date)  # when the phase plans to switch it on
    switched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    switched_by_id: Mapped[int | None] = mapped_column(ForeignKey("org_user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
