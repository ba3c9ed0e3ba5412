"""The demo county's traffic (路段, 停车场, 道路事件) part of the safety domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
