"""The village part of the demonstration county: producers and buyers with their 基地, a season of
farm records, batches with 合格证 and tests, orders, three scenic spots with live counters, 民宿 and a past
国庆 week."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from countyos.village import demo_certs, demo_farming, demo_market, demo_producers, demo_tourism


def load(session: Session, ctx: Any) -> None:
    for part in (demo_producers, demo_farming, demo_certs, demo_market, demo_tourism):
        part.load(session, ctx)
