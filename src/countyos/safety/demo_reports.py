"""The demo county's information reports and reviews (信息报送, 复盘) part of the safety domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
