"""The ecology part of the demonstration county: air stations and water sections with a few exceedances,
rivers and forests with their chiefs and a year of patrols, a land-use layer, ESV and one year's GEP."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from countyos.eco import demo_air, demo_assets, demo_gep, demo_rivers, demo_water


def load(session: Session, ctx: Any) -> None:
    for part in (demo_air, demo_water, demo_rivers, demo_assets, demo_gep):
        part.load(session, ctx)
