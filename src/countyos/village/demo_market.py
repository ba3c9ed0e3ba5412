"""The demo county's market part of the village domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
