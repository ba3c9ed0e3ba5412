"""The programme part of the demonstration county: three phases, five projects with different funding and
operating models, contracts with KPIs and a year of monthly assessments and payments, partners with sandbox
keys, and one module the 盆景 index flags."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from countyos.programme import demo_index, demo_kpis, demo_modules, demo_partners, demo_payments, demo_projects


def load(session: Session, ctx: Any) -> None:
    for part in (demo_modules, demo_projects, demo_kpis, demo_payments, demo_index, demo_partners):
        part.load(session, ctx)
