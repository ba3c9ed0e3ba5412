"""The demo county's hidden-danger inspections (隐患排查) part of the safety domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, ctx: Any) -> None:
    return None
