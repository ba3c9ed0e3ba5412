"""The demo county's plans and resources (预案, 演练, 物资仓库, 救援队伍, 避难场所, 专家) part of the safety domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
