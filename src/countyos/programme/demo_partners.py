"""The partners part of the demonstration county."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
