"""The demo county's events and command (事件, 响应, 任务, 指令, 态势) part of the safety domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
